"""A custom ``Function`` inside ``vmap``: its batching rule, as in torch.func.

Either the Function sets ``generate_vmap_rule = True`` (its forward, backward and jvp use
only gpugrad ops, so they run on batched tensors as they are), or it defines::

    @staticmethod
    def vmap(info, in_dims, *args):
        # info.batch_size, info.randomness; in_dims: per argument, 0 (batched, the batch at
        # dimension 0 of the arg) or None; return (output, out_dims)
        return MyFunction.apply(*args), 0

and, to be differentiated inside vmap (``vmap(grad(f))``), ``setup_context(ctx, inputs,
output)`` saving what its backward needs from the (batched) inputs and output, since its
forward does not run there. Its backward then runs on batched gradients.

Transforms outside the vmap (``grad(vmap(f))``) see the batch: a ``vmap`` staticmethod
records there whatever it calls; a generated rule records one node whose backward is the
Function's backward run on the whole batch (its vmap level entered again).

Example (per-example gradients through a Function with a generated rule)::

    >>> from gpugrad.autograd import Function
    >>> class Square(Function):
    ...     generate_vmap_rule = True
    ...
    ...     @staticmethod
    ...     def forward(ctx, x):
    ...         ctx.save_for_backward(x)
    ...         return x * x
    ...
    ...     @staticmethod
    ...     def backward(ctx, g):
    ...         x, = ctx.saved_tensors
    ...         return 2 * x * g
    >>> xs = gpugrad.tensor([[1.0, 2.0], [3.0, 4.0]])
    >>> func.vmap(func.grad(lambda x: Square.apply(x).sum()))(xs)     # 2 x, row by row
    tensor([[2., 4.],
            [6., 8.]], device='cpu', dtype=float32)
"""

from __future__ import annotations

from typing import NamedTuple

from .batched import BatchedTensor, level_of, reentered
from .function_styles import run_forward
from .mode import is_grad_enabled, no_grad
from .once_differentiable import refuse_twice

__all__ = ["VmapInfo", "batched_outputs"]


class VmapInfo(NamedTuple):
    batch_size: int
    randomness: str


def batched_outputs(cls, ctx, args, kwargs, function_base) -> tuple:
    """The outputs (a tuple) of ``cls.apply(*args)`` where some args are batched tensors,
    and whether forward returned one output rather than a tuple;
    ``ctx`` is the node the caller records for transforms inside the vmap. ``function_base``
    is ``Function`` (handed in: function.py imports this module, not the other way round)."""
    from ..ops.batching import _split
    level = level_of(args)
    values, batched = _split(args, level)
    in_dims = tuple(0 if b else None for b in batched)
    if cls.vmap is not None:
        output, out_dims = cls.vmap(VmapInfo(level.size, level.randomness), in_dims, *values,
                                    **kwargs)
        outputs = _as_batched(cls, output, out_dims, level)
        if any(ctx.needs_input_grad):
            _setup_context(cls, ctx, args, outputs)
        return outputs, not isinstance(output, tuple)
    if not cls.generate_vmap_rule:
        raise RuntimeError(
            f"vmap: the custom Function {cls.__name__} has no batching rule. Set "
            f"`generate_vmap_rule = True` on it if its forward and backward use only "
            f"gpugrad ops, or define `@staticmethod def vmap(info, in_dims, *args)` "
            f"returning (output, out_dims).")
    found = {}
    generated = _generated(cls, function_base)
    physical = generated.apply(cls, ctx, (level, in_dims, kwargs, args, found), *values)
    single = not isinstance(physical, tuple)
    physical = (physical,) if single else physical
    outputs = tuple(BatchedTensor._make(p, level) for p in physical)
    ctx._non_differentiable = tuple(outputs[i] for i in found["non_differentiable"])
    return outputs, single


def _as_batched(cls, output, out_dims, level) -> tuple:
    from ..ops.shape import movedim
    outputs = output if isinstance(output, tuple) else (output,)
    dims = (out_dims,) * len(outputs) if not isinstance(out_dims, tuple) else out_dims
    if len(dims) != len(outputs):
        raise ValueError(f"{cls.__name__}.vmap returned {len(outputs)} outputs but "
                         f"{len(dims)} out_dims; give one out_dim (int or None) per output")
    return tuple(o if d is None else BatchedTensor._make(movedim(o, d, 0), level)
                 for o, d in zip(outputs, dims))


def _setup_context(cls, ctx, args, outputs):
    setup = getattr(cls, "setup_context", None)
    if setup is None:
        raise RuntimeError(
            f"vmap: {cls.__name__} is differentiated inside vmap, but its forward does not "
            f"run there (its vmap staticmethod does): define `@staticmethod def "
            f"setup_context(ctx, inputs, output)` to save what backward needs, or use "
            f"`generate_vmap_rule = True` instead of the vmap staticmethod.")
    with no_grad():
        setup(ctx, args, outputs[0] if len(outputs) == 1 else outputs)


# ---------------------------------------------------------------------------------------------
# The generated rule: a Function over the batch values
# ---------------------------------------------------------------------------------------------

_GENERATED: dict = {}


def _generated(cls, function_base):
    """The Function that runs ``cls`` on batch values: forward, backward and jvp of ``cls``
    on batched tensors of the level, outputs and gradients back as batch values. It has a
    generated rule itself, for vmaps nested around this one."""
    made = _GENERATED.get(cls)
    if made is None:
        made = type(cls.__name__, (function_base,), {
            "forward": staticmethod(_forward), "backward": staticmethod(_backward),
            "jvp": staticmethod(_jvp) if cls.jvp is not None else None,
            "generate_vmap_rule": True, "__qualname__": cls.__qualname__ + " (over a batch)"})
        _GENERATED[cls] = made
    return made


def _forward(gctx, cls, ctx, call, *values):
    """``cls.forward`` on the caller's batched arguments themselves (so what it saves keeps
    their graph and version counters); ``values`` are their batch values, the inputs of this
    node on the batch."""
    level, in_dims, kwargs, args, found = call
    output = run_forward(cls, ctx, args, kwargs)
    ctx.freeze_saved()              # the batch's jvp and backward read them too (saved once)
    outputs = output if isinstance(output, tuple) else (output,)
    marked = {id(t) for t in ctx._non_differentiable}
    found["non_differentiable"] = [i for i, o in enumerate(outputs) if id(o) in marked]
    gctx.cls, gctx.ctx, gctx.level, gctx.in_dims = cls, ctx, level, in_dims
    physical = _unbatched(outputs, level)
    gctx.mark_non_differentiable(*(physical[i] for i in found["non_differentiable"]))
    return physical if isinstance(output, tuple) else physical[0]


def _backward(gctx, *grads):
    """The Function's backward on the whole batch: its level entered again, the batch's
    cotangents as batched tensors; an input that is the same for every example gets the
    sum over the examples."""
    from ..ops.reduce import sum as reduce_sum
    from ..ops.batching import batch_value
    level = gctx.level
    backward = gctx.cls.backward
    once = getattr(backward, "once_differentiable", False)
    with reentered(level):
        wrapped = [None if g is None else BatchedTensor._make(g, level) for g in grads]
        if once:                        # its refusal goes on this node, below
            with no_grad():
                result = backward.__wrapped__(gctx.ctx, *wrapped)
        else:
            result = backward(gctx.ctx, *wrapped)
        result = result if isinstance(result, tuple) else (result,)
        out = []
        for r, d in zip(result, gctx.in_dims):
            if r is None:
                out.append(None)
            elif d == 0:
                out.append(batch_value(r, level))
            elif isinstance(r, BatchedTensor) and r._level is level:
                out.append(reduce_sum(r._value, axis=0))
            else:
                out.append(r * level.size)
    if once and is_grad_enabled():
        out = refuse_twice(tuple(out), gctx.name(), gctx.next_edges, grads)
    return (None, None, None) + tuple(out)


def _jvp(gctx, _cls, _ctx, _call, *tangents):
    level = gctx.level
    with reentered(level):
        wrapped = [t if t is None or d is None else BatchedTensor._make(t, level)
                   for t, d in zip(tangents, gctx.in_dims)]
        gctx.ctx._in_jvp = True                 # (its saved_tensors: save_for_forward's)
        try:
            return _unbatched(gctx.cls.jvp(gctx.ctx, *wrapped), level)
        finally:
            gctx.ctx._in_jvp = False


def _unbatched(output, level):
    """Outputs of the Function on the level as batch values (batch at 0)."""
    from ..ops.batching import batch_value
    outputs = output if isinstance(output, tuple) else (output,)
    values = tuple(batch_value(o, level) for o in outputs)
    return values if isinstance(output, tuple) else values[0]

