"""Ready-made parametrizations, as ``torch.nn.utils.parametrizations``: ``weight_norm``
(w = g * v / ||v||) and ``spectral_norm`` (w = W / sigma(W), sigma by power iteration), each
registered through ``parametrize.register_parametrization``.

Example::

    >>> from gpugrad.nn.utils.parametrizations import weight_norm
    >>> layer = weight_norm(nn.Linear(3, 2))
    >>> g = layer.parametrizations.weight.original0         # (2, 1): each row's norm
    >>> v = layer.parametrizations.weight.original1         # (2, 3): the direction
    >>> g.shape, v.shape, sorted(layer.state_dict())[1:]
    ((2, 1), (2, 3), ['parametrizations.weight.original0', 'parametrizations.weight.original1'])
"""

from __future__ import annotations

from ... import creation
from ...autograd.mode import no_grad
from ...ops import norms, reduce, shape
from ...tensor import Tensor
from ..module import Module
from ..normalization import normalize
from . import parametrize

__all__ = ["weight_norm", "spectral_norm"]


def norm_except_dim(v: Tensor, dim: int) -> Tensor:
    """The 2-norm of ``v`` over every dimension but ``dim``, that one kept and the others
    kept as 1 (``dim=-1``: the norm of all of ``v``, 0-d), as PyTorch's
    ``torch.norm_except_dim(v, 2, dim)``. Shapes: (4, 3), dim 0 -> (4, 1). Example::

        >>> from gpugrad.nn.utils.parametrizations import norm_except_dim
        >>> norm_except_dim(gpugrad.tensor([[3.0, 4.0], [0.0, 1.0]]), 0).tolist()
        [[5.0], [1.0]]
    """
    if dim == -1:                   # (float16 is summed in float32 there, as PyTorch's)
        return norms.vector_norm(v)
    dim %= max(v.ndim, 1)
    axes = tuple(d for d in range(v.ndim) if d != dim)
    return norms.vector_norm(v, 2, dim=axes, keepdim=True)


def _weight_norm(v: Tensor, g: Tensor, dim: int) -> Tensor:
    """``v * (g / ||v||)``, the norm over all dimensions but ``dim`` (PyTorch's
    ``torch._weight_norm``)."""
    return v * (g / norm_except_dim(v, dim))


class _WeightNorm(Module):
    """The weight-norm parametrization: ``forward(g, v)`` is ``v * g / ||v||``;
    ``right_inverse(w)`` is ``(||w||, w)``."""

    def __init__(self, dim: int | None = 0):
        super().__init__()
        self.dim = -1 if dim is None else dim

    def forward(self, weight_g: Tensor, weight_v: Tensor) -> Tensor:
        return _weight_norm(weight_v, weight_g, self.dim)

    def right_inverse(self, weight: Tensor):
        return norm_except_dim(weight, self.dim), weight


def weight_norm(module: Module, name: str = "weight", dim: int | None = 0) -> Module:
    """Reparametrize ``module.<name>`` as ``g * v / ||v||`` (Salimans & Kingma 2016), as
    PyTorch's ``parametrizations.weight_norm``: the magnitude ``g`` is
    ``parametrizations.<name>.original0`` and the direction ``v`` ``original1``, both
    trained; the norm is over every dimension but ``dim`` (``None``: over all, ``g`` 0-d).
    Shapes: weight (out, in), dim 0 -> g (out, 1), v (out, in). Returns ``module``.
    A state_dict of the older ``nn.utils.weight_norm`` (``<name>_g``, ``<name>_v``) loads
    into it where Module has load-state-dict pre-hooks. Example::

        >>> from gpugrad.nn.utils.parametrizations import weight_norm
        >>> layer = nn.Linear(2, 2)
        >>> before = layer.weight.detach().numpy().copy()
        >>> layer = weight_norm(layer)
        >>> bool(np.allclose(layer.weight.detach().numpy(), before))     # same values
        True
    """
    parametrize.register_parametrization(module, name, _WeightNorm(dim), unsafe=True)

    def compat_hook(state_dict, prefix, local_metadata, strict, missing_keys,
                    unexpected_keys, error_msgs) -> None:
        g_key, v_key = f"{prefix}{name}_g", f"{prefix}{name}_v"
        if g_key in state_dict and v_key in state_dict:
            state_dict[f"{prefix}parametrizations.{name}.original0"] = state_dict.pop(g_key)
            state_dict[f"{prefix}parametrizations.{name}.original1"] = state_dict.pop(v_key)

    register = getattr(module, "_register_load_state_dict_pre_hook", None)
    if register is not None:
        register(compat_hook)
    return module


def weight_as_matrix(weight: Tensor, dim: int) -> Tensor:
    """``weight`` as a (size of ``dim``, the rest) matrix: ``dim`` moved first, then the
    rest flattened (both spectral norms' W). Shapes: (4, 3, 2), dim 1 -> (3, 8)."""
    if dim != 0:
        order = (dim,) + tuple(d for d in range(weight.ndim) if d != dim)
        weight = shape.permute(weight, order)
    return shape.reshape(weight, (weight.shape[0], -1))


def power_iterations(weight_mat: Tensor, u: Tensor, v: Tensor, n: int, eps: float,
                     v_first: bool = False) -> None:
    """Refine the power method's vectors ``u`` (rows) and ``v`` (columns) of ``weight_mat``
    in place, under no_grad, ``n`` times: u = normalize(W v), then v = normalize(W^T u)
    (``v_first``: the other order, as the older hook ``nn.utils.spectral_norm`` has it)."""
    with no_grad():
        for _ in range(n):
            if v_first:
                v.copy_(normalize(weight_mat.transpose(0, 1) @ u, dim=0, eps=eps))
            u.copy_(normalize(weight_mat @ v, dim=0, eps=eps))
            if not v_first:
                v.copy_(normalize(weight_mat.transpose(0, 1) @ u, dim=0, eps=eps))


class _SpectralNorm(Module):
    """The spectral-norm parametrization: ``forward(W)`` is ``W / sigma``, sigma =
    ``u . (W v)`` with the buffers ``_u`` (rows) and ``_v`` (columns) refined by
    ``n_power_iterations`` steps of the power method per call in training mode (a 1-d
    weight: ``W / ||W||``)."""

    def __init__(self, weight: Tensor, n_power_iterations: int = 1, dim: int = 0,
                 eps: float = 1e-12):
        super().__init__()
        ndim = weight.ndim
        if dim >= ndim or dim < -ndim:
            raise IndexError(f"Dimension out of range (expected to be in range of "
                             f"[-{ndim}, {ndim - 1}] but got {dim})")
        if n_power_iterations <= 0:
            raise ValueError(f"Expected n_power_iterations to be positive, but got "
                             f"n_power_iterations={n_power_iterations}")
        self.dim = dim if dim >= 0 else dim + ndim
        self.eps = eps
        if ndim > 1:
            self.n_power_iterations = n_power_iterations
            weight_mat = self._reshape_weight_to_matrix(weight)
            h, w = weight_mat.shape
            kwargs = {"dtype": weight.dtype, "device": weight.device}
            u, v = creation.randn(h, **kwargs), creation.randn(w, **kwargs)  # (random start)
            self.register_buffer("_u", normalize(u, dim=0, eps=self.eps))
            self.register_buffer("_v", normalize(v, dim=0, eps=self.eps))
            self._power_method(weight_mat, 15)

    def _reshape_weight_to_matrix(self, weight: Tensor) -> Tensor:
        return weight_as_matrix(weight, self.dim)

    def _power_method(self, weight_mat: Tensor, n_power_iterations: int) -> None:
        power_iterations(weight_mat, self._u, self._v, n_power_iterations, self.eps)

    def forward(self, weight: Tensor) -> Tensor:
        if weight.ndim == 1:
            return normalize(weight, dim=0, eps=self.eps)
        weight_mat = self._reshape_weight_to_matrix(weight)
        if self.training:
            self._power_method(weight_mat, self.n_power_iterations)
        u, v = self._u.clone(), self._v.clone()
        sigma = reduce.sum(u * (weight_mat @ v))
        return weight / sigma

    def right_inverse(self, value: Tensor) -> Tensor:
        return value


def spectral_norm(module: Module, name: str = "weight", n_power_iterations: int = 1,
                  eps: float = 1e-12, dim: int | None = None) -> Module:
    """Reparametrize ``module.<name>`` as ``W / sigma(W)`` (Miyato et al. 2018), sigma the
    largest singular value of W as a (size of ``dim``, rest) matrix, estimated by the power
    method, as PyTorch's ``parametrizations.spectral_norm``: ``n_power_iterations`` steps
    per forward in training mode (15 at registration); the vectors are the buffers
    ``parametrizations.<name>.0._u`` and ``._v``; eval mode reuses them. ``dim`` None: 0.
    Returns ``module``. Example::

        >>> from gpugrad.nn.utils.parametrizations import spectral_norm
        >>> layer = spectral_norm(nn.Linear(20, 40))
        >>> s = np.linalg.svd(layer.weight.detach().numpy(), compute_uv=False)
        >>> round(float(s[0]), 2)                           # the largest singular value
        1.0
    """
    weight = getattr(module, name, None)
    if not isinstance(weight, Tensor):
        raise ValueError(f"Module '{module}' has no parameter or buffer with name '{name}'")
    if dim is None:
        dim = 0
    parametrize.register_parametrization(
        module, name, _SpectralNorm(weight, n_power_iterations, dim, eps))
    return module
