"""Instance normalisation as PyTorch has it: ``instance_norm`` and the ``InstanceNorm1d`` /
``InstanceNorm2d`` / ``InstanceNorm3d`` layers. A composite of gpugrad ops (gradients of any
order, tangents and batching come from those), with batch_norm's running-statistics update.

Each (sample, channel) slice of an (N, C, ...) input is normalised over its own spatial
dimensions with the biased variance. With running statistics given and ``use_input_stats``,
they move towards the batch's average of the per-instance statistics (the variance unbiased
over the spatial size): ``running = (1 - momentum) * running + momentum * mean_n(stat)``,
as PyTorch's; with ``use_input_stats=False`` the running statistics normalise instead.

Example::

    >>> x = gpugrad.tensor([[[1.0, 3.0], [10.0, 30.0]]])        # (N=1, C=2, L=2)
    >>> [[round(v, 3) for v in row] for row in F.instance_norm(x)[0].tolist()]
    [[-1.0, 1.0], [-1.0, 1.0]]
"""

from __future__ import annotations

import warnings

from ..ops import reduce
from ..ops.complex_node import refuse_complex
from ..ops.shape_errors import ShapeError
from .batch_norm import _NormBase, _update_running, scaled_and_shifted
from .normalization import widened

__all__ = ["instance_norm", "InstanceNorm1d", "InstanceNorm2d", "InstanceNorm3d"]


class _MissingStatistics(RuntimeError, ValueError):
    """``use_input_stats=False`` without both running statistics: PyTorch's RuntimeError,
    and the ValueError gpugrad raised before."""


def instance_norm(input, running_mean=None, running_var=None, weight=None, bias=None,
                  use_input_stats: bool = True, momentum: float = 0.1, eps: float = 1e-5):
    """Normalise each (sample, channel) of ``input`` (N, C, *spatial) over its spatial
    dimensions (``use_input_stats``) or by ``running_mean`` / ``running_var`` (C,), then
    scale by ``weight`` and shift by ``bias`` (C,), as ``F.instance_norm``. Running
    statistics given with ``use_input_stats`` are updated in place (both or neither).

    Shapes: (N, C, L), (N, C, H, W) or (N, C, D, H, W) -> the same.

    Example::

        >>> y = F.instance_norm(gpugrad.tensor([[[0.0, 2.0]]]), eps=0.0)
        >>> y.tolist()
        [[[-1.0, 1.0]]]
    """
    refuse_complex("instance_norm", input, running_mean, running_var, weight, bias,
                   ordered=False, hint="normalise x.real and x.imag (or x.abs()) instead")
    if input.ndim < 3:
        raise ShapeError(f"instance_norm: input must be (N, C, *spatial) with at least one "
                         f"spatial dimension, got shape {tuple(input.shape)}; unsqueeze a "
                         f"batch or a length dimension")
    channels = input.shape[1]
    for name, t in (("running_mean", running_mean), ("running_var", running_var),
                    ("weight", weight), ("bias", bias)):
        if t is not None and tuple(t.shape) != (channels,):
            raise ShapeError(f"instance_norm: {name} must have shape ({channels},) for an "
                             f"input with {channels} channels, got {tuple(t.shape)}")
    if use_input_stats and (running_mean is None) != (running_var is None):
        raise ValueError("running_mean and running_var must either both be None or neither "
                         "be None (as PyTorch's); pass both, or neither")
    view = (1, channels) + (1,) * (input.ndim - 2)
    work = widened(input)               # (float16: the statistics in float32, as PyTorch's)
    if use_input_stats:
        count = input.size // (input.shape[0] * channels) if input.size else 0
        if count == 1:
            raise ValueError(f"Expected more than 1 spatial element when training, got "
                             f"input size {list(input.shape)}")
        axes = tuple(range(2, input.ndim))
        mean = reduce.mean(work, axis=axes, keepdims=True)
        centred = work - mean
        variance = reduce.mean(centred * centred, axis=axes, keepdims=True)
        if running_mean is not None or running_var is not None:
            _update_running(running_mean, running_var, reduce.mean(mean, axis=0),
                            reduce.mean(variance, axis=0), count, momentum)
    else:
        if running_mean is None or running_var is None:
            raise _MissingStatistics("Expected running_mean and running_var to be defined "
                                     "when use_input_stats is false (as PyTorch's); pass "
                                     "both, or use_input_stats=True")
        centred = work - running_mean.reshape(view)
        variance = running_var.reshape(view)
    return scaled_and_shifted(centred, variance, eps, weight, bias, view, input)


class _InstanceNorm(_NormBase):
    """Instance normalisation layers: no learnable scale or shift (``affine=False``) and no
    running statistics (``track_running_stats=False``) by default, as PyTorch's; with
    them, the running statistics are used in ``eval()``. An input without the batch
    dimension is taken as a batch of one."""

    _spatial = 1                # spatial dimensions: 1 for (N, C, L)

    def __init__(self, num_features: int, eps: float = 1e-5, momentum: float | None = 0.1,
                 affine: bool = False, track_running_stats: bool = False, device=None,
                 dtype=None, *, bias: bool = True):
        super().__init__(num_features, eps, momentum, affine, track_running_stats, device,
                         dtype, bias=bias)

    def forward(self, input):
        unbatched = self._spatial + 1
        if input.ndim not in (unbatched, unbatched + 1):
            raise ValueError(f"expected {unbatched}D or {unbatched + 1}D input (got "
                             f"{input.ndim}D input)")
        feature_dim = input.ndim - unbatched
        if input.shape[feature_dim] != self.num_features:
            if self.affine:
                raise ValueError(f"expected input's size at dim={feature_dim} to match "
                                 f"num_features ({self.num_features}), but got: "
                                 f"{input.shape[feature_dim]}.")
            warnings.warn(f"input's size at dim={feature_dim} does not match num_features. "
                          f"You can silence this warning by not passing in num_features, "
                          f"which is not used because affine=False", stacklevel=2)
        batch = input.reshape((1,) + tuple(input.shape)) if input.ndim == unbatched else input
        use_input_stats = self.training or not self.track_running_stats
        momentum = self.momentum if self.momentum is not None else 0.0
        out = instance_norm(batch, self.running_mean, self.running_var, self.weight,
                            self.bias, use_input_stats, momentum, self.eps)
        return out.reshape(tuple(input.shape)) if input.ndim == unbatched else out

    def _load_from_state_dict(self, state_dict, prefix, local_metadata, strict, missing_keys,
                              unexpected_keys, error_msgs) -> None:
        """Running statistics in ``state_dict`` for a layer that tracks none are refused with
        PyTorch's message (a checkpoint from before PyTorch 0.4), and dropped."""
        if local_metadata.get("version", None) is None and not self.track_running_stats:
            keys = [prefix + name for name in ("running_mean", "running_var")
                    if prefix + name in state_dict]
            if keys:
                klass = type(self).__name__
                names = " and ".join(f'"{k}"' for k in keys)
                error_msgs.append(
                    f"Unexpected running stats buffer(s) {names} for {klass} with "
                    f"track_running_stats=False. If state_dict is a checkpoint saved before "
                    f"0.4.0, this may be expected because {klass} does not track running "
                    f"stats by default since 0.4.0. Please remove these keys from state_dict. "
                    f"If the running stats are actually needed, instead set "
                    f"track_running_stats=True in {klass} to enable them. See the "
                    f"documentation of {klass} for details.")
                for key in keys:
                    state_dict.pop(key)
        super()._load_from_state_dict(state_dict, prefix, local_metadata, strict,
                                      missing_keys, unexpected_keys, error_msgs)


class InstanceNorm1d(_InstanceNorm):
    """Instance normalisation of (N, C, L) or unbatched (C, L) inputs over L, as
    ``nn.InstanceNorm1d``. Shapes: kept.

    Example::

        >>> nn.InstanceNorm1d(3)(gpugrad.randn(2, 3, 5)).shape
        (2, 3, 5)
    """

    _spatial = 1


class InstanceNorm2d(_InstanceNorm):
    """Instance normalisation of (N, C, H, W) or unbatched (C, H, W) inputs over H and W,
    as ``nn.InstanceNorm2d``. Shapes: kept.

    Example::

        >>> nn.InstanceNorm2d(3, affine=True)(gpugrad.randn(2, 3, 4, 4)).shape
        (2, 3, 4, 4)
    """

    _spatial = 2


class InstanceNorm3d(_InstanceNorm):
    """Instance normalisation of (N, C, D, H, W) or unbatched (C, D, H, W) inputs over D, H
    and W, as ``nn.InstanceNorm3d``. Shapes: kept.

    Example::

        >>> nn.InstanceNorm3d(2)(gpugrad.randn(1, 2, 2, 3, 3)).shape
        (1, 2, 2, 3, 3)
    """

    _spatial = 3
