"""Batch normalisation as PyTorch has it: ``batch_norm`` and the ``BatchNorm1d`` /
``BatchNorm2d`` / ``BatchNorm3d`` layers, with running statistics (``_NormBase``: what they
share with the instance-norm layers, instance_norm.py). A composite of gpugrad ops
(gradients of any order, tangents and batching come from those); the running statistics are
buffers updated in place, outside the graph.

In training, each channel (dimension 1) is normalised by the mean and the biased variance
over the batch and any spatial dimensions, and the running statistics move towards them:
``running = (1 - momentum) * running + momentum * batch`` with the unbiased variance (a
cumulative average when ``momentum`` is None). In evaluation they are used instead.

Example::

    >>> bn = nn.BatchNorm1d(2)
    >>> y = bn(gpugrad.tensor([[1.0, 10.0], [3.0, 30.0]]))
    >>> [round(v, 3) for v in y[:, 0].tolist()], bn.running_mean.tolist()
    ([-1.0, 1.0], [0.20000000298023224, 2.0])
"""

from __future__ import annotations

from .. import creation
from ..autograd.mode import no_grad
from ..ops import reduce, unary
from ..ops.complex_node import refuse_complex
from ..ops.shape_errors import ShapeError
from .module import Module, Parameter
from .normalization import _ScaleAndShift, narrowed, widened

__all__ = ["batch_norm", "BatchNorm1d", "BatchNorm2d", "BatchNorm3d"]


def _channel_shape(input) -> tuple:
    """(1, C, 1, ...): a per-channel vector broadcast against ``input`` (N, C, ...)."""
    return (1, input.shape[1]) + (1,) * (input.ndim - 2)


def batch_norm(input, running_mean, running_var, weight=None, bias=None,
               training: bool = False, momentum: float = 0.1, eps: float = 1e-5):
    """Normalise each channel of ``input`` (N, C, ...) by its batch statistics
    (``training``) or by ``running_mean`` / ``running_var`` (C,), then scale by ``weight``
    and shift by ``bias`` (C,), as ``F.batch_norm``. In training, running statistics given
    are updated in place (``momentum`` as in ``BatchNorm1d``; None is not accepted here).

    Example::

        >>> x = gpugrad.tensor([[1.0], [3.0]])
        >>> F.batch_norm(x, None, None, training=True).tolist()
        [[-0.9999949932098389], [0.9999949932098389]]
    """
    refuse_complex("batch_norm", input, running_mean, running_var, weight, bias,
                   ordered=False, hint="normalise x.real and x.imag (or x.abs()) instead")
    if input.ndim < 2:
        raise ShapeError(f"batch_norm: input must be (N, C) or (N, C, ...), got shape "
                         f"{tuple(input.shape)}")
    channels = input.shape[1]
    for name, t in (("running_mean", running_mean), ("running_var", running_var),
                    ("weight", weight), ("bias", bias)):
        if t is not None and tuple(t.shape) != (channels,):
            raise ShapeError(f"batch_norm: {name} must have shape ({channels},) for an input "
                             f"with {channels} channels, got {tuple(t.shape)}")
    view = _channel_shape(input)
    work = widened(input)               # (float16: the statistics in float32, as PyTorch's)
    if training:
        axes = (0,) + tuple(range(2, input.ndim))
        count = input.size // channels
        if count < 2:
            raise ValueError(f"batch_norm: training needs more than one value per channel, "
                             f"got input of shape {tuple(input.shape)}; use a batch of 2 or "
                             f"more, or eval()")
        mean = reduce.mean(work, axis=axes, keepdims=True)
        centred = work - mean
        variance = reduce.mean(centred * centred, axis=axes, keepdims=True)
        if running_mean is not None or running_var is not None:
            _refuse_unbatched_running_stats(mean, running_mean, running_var)
            _update_running(running_mean, running_var, mean, variance, count, momentum)
    else:
        if running_mean is None or running_var is None:
            raise ValueError("batch_norm: evaluation (training=False) needs running_mean and "
                             "running_var")
        centred = work - running_mean.reshape(view)
        variance = running_var.reshape(view)
    return scaled_and_shifted(centred, variance, eps, weight, bias, view, input)


def scaled_and_shifted(centred, variance, eps: float, weight, bias, view: tuple, input):
    """``centred / sqrt(variance + eps)``, times ``weight`` plus ``bias`` (each per channel,
    reshaped to ``view``; either may be None), back in ``input``'s dtype: the end of batch
    and instance norm."""
    out = centred / unary.sqrt(variance + eps)
    if weight is not None:
        out = out * weight.reshape(view)
    if bias is not None:
        out = out + bias.reshape(view)
    return narrowed(out, input)


def _refuse_unbatched_running_stats(mean, running_mean, running_var) -> None:
    """Inside ``vmap``, statistics of a batched input cannot be written into running
    statistics shared by every example: PyTorch's error, naming the ways out."""
    if mean._batched and any(t is not None and not t._batched
                             for t in (running_mean, running_var)):
        raise RuntimeError(
            "batch_norm got a batched tensor as input (inside vmap) while the running_mean or "
            "running_var, which would be updated in place, were not batched. If you use a "
            "module and do not need its eval mode, construct it with "
            "track_running_stats=False, call gpugrad.func.replace_all_batch_norm_modules_("
            "model) first, or call model.eval() to use the running statistics as they are.")


def _update_running(running_mean, running_var, mean, variance, count: int,
                    momentum: float) -> None:
    """Move the running statistics towards the batch's (the variance unbiased).
    ``momentum``: a number, or a 0-d tensor (computed on the device: no host read)."""
    with no_grad():
        if running_mean is not None:
            batch_mean = mean.detach().reshape(tuple(running_mean.shape))
            batch_mean = batch_mean.astype(running_mean.dtype)
            running_mean.mul_(1 - momentum).add_(batch_mean * momentum)
        if running_var is not None:
            unbiased = variance.detach().reshape(tuple(running_var.shape)) * (count / (count - 1))
            running_var.mul_(1 - momentum).add_(unbiased.astype(running_var.dtype) * momentum)


class _NormBase(Module):
    """What batch and instance normalisation layers share, as PyTorch's ``_NormBase``: the
    optional scale and shift, the running-statistics buffers and their resets and loading."""

    _version = 2                # (version 2 added num_batches_tracked, as PyTorch's)

    def __init__(self, num_features: int, eps: float = 1e-5, momentum: float | None = 0.1,
                 affine: bool = True, track_running_stats: bool = True, device=None,
                 dtype=None, *, bias: bool = True):
        super().__init__()
        if momentum is not None and not 0 <= momentum <= 1:
            raise ValueError(f"{type(self).__name__}: momentum must be in [0, 1] or None, got "
                             f"{momentum}")
        self.num_features, self.eps, self.momentum = int(num_features), eps, momentum
        self.affine, self.track_running_stats = affine, track_running_stats
        made = {"device": device, "dtype": dtype}
        if affine:
            self.weight = Parameter(creation.ones(self.num_features, **made))
            if bias:
                self.bias = Parameter(creation.zeros(self.num_features, **made))
            else:
                self.register_parameter("bias", None)
        else:
            self.register_parameter("weight", None)
            self.register_parameter("bias", None)
        if track_running_stats:
            self.register_buffer("running_mean", creation.zeros(self.num_features, **made))
            self.register_buffer("running_var", creation.ones(self.num_features, **made))
            self.register_buffer("num_batches_tracked",
                                 creation.tensor(0, dtype="int64", device=device))
        else:
            for name in ("running_mean", "running_var", "num_batches_tracked"):
                self.register_buffer(name, None)

    def reset_parameters(self) -> None:
        """Running statistics reset, the scale back to ones and the shift to zeros."""
        self.reset_running_stats()
        _ScaleAndShift.reset_parameters(self)

    def reset_running_stats(self) -> None:
        """Running mean 0, running variance 1 and ``num_batches_tracked`` 0, in place (when
        the module tracks running statistics), as PyTorch's."""
        if self.track_running_stats:
            with no_grad():
                self.running_mean.zero_()
                self.running_var.fill_(1.0)
                self.num_batches_tracked.zero_()

    def _load_from_state_dict(self, state_dict, prefix, local_metadata, strict, missing_keys,
                              unexpected_keys, error_msgs) -> None:
        """A state dict without ``num_batches_tracked`` (saved before version 2, or written
        by hand) keeps the module's count (0 for a new module), as PyTorch's."""
        version = local_metadata.get("version", None)
        key = prefix + "num_batches_tracked"
        if (version is None or version < 2) and self.track_running_stats and \
                key not in state_dict:
            state_dict[key] = (self.num_batches_tracked if self.num_batches_tracked is not None
                               else creation.tensor(0, dtype="int64"))
        super()._load_from_state_dict(state_dict, prefix, local_metadata, strict,
                                      missing_keys, unexpected_keys, error_msgs)

    def extra_repr(self) -> str:
        return (f"{self.num_features}, eps={self.eps}, momentum={self.momentum}, "
                f"affine={self.affine}, bias={self.bias is not None}, "
                f"track_running_stats={self.track_running_stats}")


class _BatchNorm(_NormBase):
    _input_dims: tuple = ()

    def forward(self, input):
        if input.ndim not in self._input_dims:
            dims = " or ".join(f"{d}-d" for d in self._input_dims)
            raise ValueError(f"{type(self).__name__} expects a {dims} input (N, C, ...), got "
                             f"shape {tuple(input.shape)}")
        if input.shape[1] != self.num_features:
            raise ShapeError(f"{type(self).__name__}({self.num_features}) got an input with "
                             f"{input.shape[1]} channels (dimension 1), shape {tuple(input.shape)}")
        use_batch = self.training or self.running_mean is None
        momentum = 0.0 if self.momentum is None else self.momentum
        if self.training and self.track_running_stats:
            with no_grad():
                self.num_batches_tracked.add_(1)
            if self.momentum is None:                   # a cumulative moving average
                momentum = 1.0 / self.num_batches_tracked.astype(self.running_mean.dtype)
        track = self.training and self.track_running_stats
        return batch_norm(input, self.running_mean if track or not use_batch else None,
                          self.running_var if track or not use_batch else None,
                          self.weight, self.bias, use_batch, momentum, self.eps)


class BatchNorm1d(_BatchNorm):
    """Batch normalisation of (N, C) or (N, C, L) inputs over N (and L), as
    ``nn.BatchNorm1d``: learnable scale (ones) and shift (zeros; none with keyword-only
    ``bias=False``) per channel, running statistics (buffers ``running_mean``,
    ``running_var``, ``num_batches_tracked``) used in ``eval()``. Shapes: kept.

    Example::

        >>> nn.BatchNorm1d(3)(gpugrad.randn(8, 3)).shape
        (8, 3)
    """

    _input_dims = (2, 3)


class BatchNorm2d(_BatchNorm):
    """``BatchNorm1d`` for (N, C, H, W) inputs, over N, H and W, as ``nn.BatchNorm2d``.

    Example::

        >>> nn.BatchNorm2d(3)(gpugrad.randn(2, 3, 4, 4)).shape
        (2, 3, 4, 4)
    """

    _input_dims = (4,)


class BatchNorm3d(_BatchNorm):
    """``BatchNorm1d`` for (N, C, D, H, W) inputs, over N, D, H and W, as
    ``nn.BatchNorm3d``.

    Example::

        >>> nn.BatchNorm3d(2)(gpugrad.randn(2, 2, 3, 3, 3)).shape
        (2, 2, 3, 3, 3)
    """

    _input_dims = (5,)
