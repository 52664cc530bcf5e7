"""A custom ``Function`` inside ``vmap``: its batching rule, as in torch.func.

Either the Function sets ``generate_vmap_rule = True`` (its forward and backward use only
gpugrad ops, so they run on batched tensors as they are), or it defines::

    @staticmethod
    def vmap(info, in_dims, *args):
        # info.batch_size, info.randomness; in_dims: per argument, 0 (batched, the batch at
        # dimension 0 of the arg) or None; return (output, out_dims)
        return MyFunction.apply(*args), 0

and, to be differentiated inside vmap (``vmap(grad(f))``), ``setup_context(ctx, inputs,
output)`` saving what its backward needs from the (batched) inputs and output, since its
forward does not run there. Its backward then runs on batched gradients.
"""

from __future__ import annotations

from typing import NamedTuple

__all__ = ["VmapInfo", "batched_forward"]


class VmapInfo(NamedTuple):
    batch_size: int
    randomness: str


def batched_forward(cls, ctx, args, kwargs):
    """The outputs of ``cls.apply(*args)`` where some args are batched tensors."""
    from .batched import BatchedTensor
    from ..ops.batching import level_of
    from ..ops.shape import movedim
    if cls.vmap is None:
        if not cls.generate_vmap_rule:
            raise RuntimeError(
                f"vmap: the custom Function {cls.__name__} has no batching rule. Set "
                f"`generate_vmap_rule = True` on it if its forward and backward use only "
                f"gpugrad ops, or define `@staticmethod def vmap(info, in_dims, *args)` "
                f"returning (output, out_dims).")
        return cls.forward(ctx, *args, **kwargs)
    level = level_of(args)
    in_dims = tuple(0 if isinstance(a, BatchedTensor) and a._level is level else None
                    for a in args)
    values = [a._value if d == 0 else a for a, d in zip(args, in_dims)]
    output, out_dims = cls.vmap(VmapInfo(level.size, level.randomness), in_dims, *values,
                                **kwargs)
    single = not isinstance(output, tuple)
    outputs = (output,) if single else output
    dims = (out_dims,) * len(outputs) if not isinstance(out_dims, tuple) else out_dims
    if len(dims) != len(outputs):
        raise ValueError(f"{cls.__name__}.vmap returned {len(outputs)} outputs but "
                         f"{len(dims)} out_dims; give one out_dim (int or None) per output")
    wrapped = tuple(o if d is None else BatchedTensor._make(movedim(o, d, 0), level)
                    for o, d in zip(outputs, dims))
    if any(ctx.needs_input_grad):
        setup = getattr(cls, "setup_context", None)
        if setup is None:
            raise RuntimeError(
                f"vmap: {cls.__name__} is differentiated inside vmap, but its forward does "
                f"not run there (its vmap staticmethod does): define `@staticmethod def "
                f"setup_context(ctx, inputs, output)` to save what backward needs, or use "
                f"`generate_vmap_rule = True` instead of the vmap staticmethod.")
        setup(ctx, args, wrapped[0] if single else wrapped)
    return wrapped[0] if single else wrapped
