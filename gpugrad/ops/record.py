"""What an op is, and how one application of it is recorded.

An op is one record, a class whose body holds, on one screen (docs/ARCHITECTURE.md,
"The op record"):

- ``forward(xp, *arrays, **params)``: the primal computation on raw NumPy/CuPy arrays,
  written once against ``xp``;
- ``vjp(ctx, g)``: the reverse rule, returning one cotangent per input (``None`` where an
  input needs no gradient), written in gpugrad ops so it can be differentiated again;
- ``jvp(ctx, *t)``: the forward rule, one tangent per input (``None`` = zero), or one of the
  shortcuts ``LINEAR`` (the op applied to the tangents) and ``ELEMENTWISE`` (for unary
  element-wise ops, whose Jacobian is diagonal: the vjp applied to the tangent);
- ``vmap(xs, batched, **params)``: the batching rule, on the batch values ``xs`` (the
  batch at dimension 0 where ``batched[i]``), returning the batch of outputs (batch at 0);
  or the shortcuts ``BROADCAST`` (element-wise ops) and ``AXIS`` (ops over an ``axis``);
- ``save``: what the rules read: ``"x0"``, ``"x1"``... (inputs), ``"xs"`` (all inputs),
  ``"ans"`` (the output) and ``"aux"``, joined by ``+`` or spaces. Nothing else is kept.
  ``"aux"``: an intermediate the forward computed on the way and the reverse rule would
  otherwise compute again (cross-entropy's softmax), as JAX's ``custom_vjp`` residuals:
  ``forward`` then returns ``(output, aux)``, an array or None (it had none to give, as a
  fused kernel may not), and the rules read ``ctx.aux``, a tensor or None. It is None too
  where the op ran under vmap (the batching rule gives outputs only), so a rule that reads
  it computes what it needs when it is None. It is saved as the inputs are: saved-tensor
  hooks, checkpoints and memory reports see it.
- ``vjp_accumulate(ctx, g, into, g_is_scratch)`` (optional; LinearRelu's): the reverse
  rule with what the engine lets it do in place passed in, as Chainer's
  ``FunctionNode.backward_accumulate`` is: ``into[i]`` is input ``i``'s existing ``.grad``
  to add its gradient into (None: return it as ``vjp`` does; returning ``into[i]`` itself
  says it was added), ``g_is_scratch`` says ``g``'s buffer may be overwritten. The engine
  calls it only in a plain ``backward()`` (no ``create_graph``, anomaly mode or vmap), and
  only for single-output ops (it hands in the cotangent of output 0).

Rules see ``ctx.xs``, ``ctx.ans``, ``ctx.shapes``, ``ctx.dtypes``, ``ctx.needs(i)`` and the
op's parameters as attributes. They are called on the class (``op.vjp(ctx, g)``), never on
an instance, so they are declared ``@staticmethod``: they take ``xp`` or ``ctx``, no
``self``. (A record that writes a plain ``def`` works all the same, for that reason.)
A record (exp's, in unary.py)::

    class Exp(Op):
        save = "ans"
        vmap = BROADCAST

        @staticmethod
        def forward(xp, x):
            return xp.exp(x)

        @staticmethod
        def vjp(ctx, g):
            return g * ctx.ans

        jvp = ELEMENTWISE

Defining a record checks it: a ``save`` entry that names nothing, and an op parameter (a
parameter of ``forward``) that would shadow an attribute of the ``Node`` the rules read it
from (``ctx.shapes``, ``ctx.name``...), are refused with a TypeError there and then.

Example (``apply`` runs it and records one node; defining a new ``Op`` registers it in
``REGISTRY``, which the op table test requires a spec for)::

    >>> from gpugrad.ops.record import apply
    >>> from gpugrad.ops.unary import Exp
    >>> x = gpugrad.tensor([0.0, 1.0], requires_grad=True)
    >>> y = apply(Exp, x)
    >>> y.grad_fn
    <ExpBackward>
    >>> y.sum().backward(); x.grad           # the vjp: g * ans = exp(x)
    tensor([1.      , 2.718282], device='cpu', dtype=float32)
"""

from __future__ import annotations

import numpy as np

from .. import backend
from ..autograd import dual_levels
from ..autograd.dual_levels import _state as _dual_state
from ..autograd.batched import innermost_array
from ..autograd.graph import Node, SavedTensor, grad_accumulator
from ..autograd.saved_hooks import _hooks
from ..autograd.mode import _state
from ..autograd.compile_mode import _state as _compiling
from ..tensor import Tensor
from .op_class import (AXIS, BROADCAST, ELEMENTWISE, LINEAR, REGISTRY, Op,  # noqa: F401
                       refuse_shadowing)

__all__ = ["Op", "apply", "apply_scalar", "record", "zeros_with", "recording_backward",
           "LINEAR", "ELEMENTWISE", "BROADCAST", "AXIS", "REGISTRY"]

def zeros_with(like, shape: tuple, dtype):
    """A zero tensor of ``shape`` and ``dtype`` on the device of tensor ``like`` (a zero
    tangent or cotangent standing in for ``None``)."""
    return Tensor._wrap(backend.zeros_like_device(innermost_array(like), shape, dtype))


def recording_backward() -> bool:
    """Whether a reverse rule running now must itself be differentiable: its graph is being
    recorded (``create_graph=True``), a forward-mode level is open (forward over reverse) or
    a vmap is (its cotangents may be batched tensors, which have no raw array). A rule with
    a raw-array fast path takes it only when this is false."""
    return _state.grad_enabled or bool(dual_levels._state.levels) or bool(_state.vmap_levels)


def broadcast_error(op_name: str, shapes, exc: Exception) -> Exception:
    """A ValueError naming the op and every shape when ``shapes`` do not broadcast, else
    ``exc`` (the error was about something else)."""
    shapes = [tuple(s) for s in shapes]
    try:
        np.broadcast_shapes(*shapes)
    except ValueError:
        listed = " and ".join(str(s) for s in shapes)
        return ValueError(
            f"{op_name}: shapes {listed} cannot be broadcast together (NumPy rules: aligned "
            f"from the right, each dimension must be equal or 1). Reshape or unsqueeze an "
            f"operand so the shapes line up.")
    return exc


def _capture(op, inputs, result, aux):
    """A checkpoint's recomputation: hand the values the op would save to the hooks (in
    ``Node.save``'s order), mark the result as depending on what requires grad, and build
    no graph."""
    indices = range(len(inputs)) if op._save_all_inputs else op._save_inputs
    for i in indices:
        SavedTensor(inputs[i], is_output=False)
    if op._save_ans:
        SavedTensor(result, is_output=True)
    if aux is not None:
        SavedTensor(Tensor._wrap(aux), is_output=False)
    result._requires_grad = True


def _all_numpy(arrays) -> bool:
    for a in arrays:
        if a.__class__ is not np.ndarray:
            return False
    return True


def _forward_elsewhere(op, arrays, params) -> tuple:
    """``(xp, op.forward(xp, *arrays, **params))`` for inputs that are not all plain NumPy
    arrays: CuPy's, on the inputs' GPU, or NumPy subclasses and scalars."""
    if backend.on_the_only_gpu(arrays):     # one GPU: no device to check or switch to
        xp = backend.xp_of(arrays[0])
        return xp, op.forward(xp, *arrays, **params)
    first = arrays[0]
    xp = backend.xp_of(first)
    backend.check_same_device(op.name, arrays)
    if xp is np:
        return np, op.forward(np, *arrays, **params)
    with first.device:          # CuPy allocates on the current GPU: make it the inputs'
        return xp, op.forward(xp, *arrays, **params)


# True once a tensor that did not require grad has taken a graph from an in-place op
# (``note_stale_views``): from then on the views taken of it before are made again when used
# (view_replay.refresh_grown), which ``apply`` checks only after that has happened at all.
views_may_be_stale = False


def note_stale_views() -> None:
    """Turn on the check of ``views_may_be_stale`` (for the rest of the process)."""
    global views_may_be_stale
    views_may_be_stale = True


def apply(op, *inputs, **params):
    """Run ``op`` on tensors ``inputs`` and, when needed, record it in the graph."""
    if _state.vmap_levels:
        if any(t._batched for t in inputs) or (params and _batching.has_batched_param(params)):
            return _batching.apply_batched(op, inputs, params)
    first = inputs[0]._array
    n = len(inputs)
    if n == 1:                              # (one or two inputs, most ops: spelled out)
        arrays = (first,)
        numpy_only = first.__class__ is np.ndarray
    elif n == 2:
        second = inputs[1]._array
        arrays = (first, second)
        numpy_only = first.__class__ is np.ndarray and second.__class__ is np.ndarray
    else:
        arrays = tuple([t._array for t in inputs])
        numpy_only = first.__class__ is np.ndarray and _all_numpy(arrays)
    try:
        if not numpy_only:
            xp, out = _forward_elsewhere(op, arrays, params)
        elif n == 1:                        # (spelled out: no argument tuple to build)
            xp, out = np, (op.forward(np, first, **params) if params else op.forward(np, first))
        elif n == 2 and not params:
            xp, out = np, op.forward(np, first, second)
        else:
            xp, out = np, op.forward(np, *arrays, **params)
    except ValueError as exc:
        if op.broadcasts:
            raise broadcast_error(op.name, [a.shape for a in arrays], exc) from None
        raise
    aux = None
    if op._save_aux:
        out, aux = out
        if isinstance(aux, np.generic):     # (a reduction's NumPy scalar: a 0-d array)
            aux = np.asarray(aux)
    scalar = out.__class__ is not np.ndarray and isinstance(out, np.generic)
    if scalar:
        out = np.asarray(out)               # NumPy reductions of 0-d results give scalars
    if _compiling.recorder is not None:     # gpugrad.compile is recording this step
        _compiling.recorder.op(op.forward, xp, arrays, params, out, inputs, scalar,
                               op._save_aux, aux)
    result = Tensor._wrap(out)
    if op.view and _is_view_of(out, first, xp):
        share_version(result, inputs[0])
    if _state.grad_enabled and op.differentiable:
        if views_may_be_stale:              # (a tensor took a graph in place, once)
            for t in inputs:
                if t._base is not None and not t._requires_grad:
                    _view_replay.refresh_grown(op.name, t)
        for t in inputs:                    # record() has nothing to do unless one does
            if t._requires_grad:
                return record(op, inputs, result, params, arrays, aux)
    if _dual_state.levels:
        return record(op, inputs, result, params, arrays, aux)
    return result


def apply_scalar(op, x, c):
    """``apply(op, x, c=c)`` for the ops of a tensor and a Python number (ops/scalar.py),
    with the common case spelled out: a NumPy tensor, no vmap, forward mode or recording
    compiled step (where ``apply`` runs as is). The same result, node and checks."""
    if _state.vmap_levels or _dual_state.levels or _compiling.recorder is not None or \
            x._array.__class__ is not np.ndarray:
        return apply(op, x, c=c)
    array = x._array
    out = op.forward(np, array, c)
    if out.__class__ is not np.ndarray and isinstance(out, np.generic):
        out = np.asarray(out)
    result = Tensor._wrap(out)
    if views_may_be_stale and x._base is not None and not x._requires_grad:
        _view_replay.refresh_grown(op.name, x)
    if x._requires_grad and _state.grad_enabled:
        return record(op, (x,), result, {"c": c}, (array,))
    return result


def _is_view_of(out, first, xp) -> bool:
    """Whether a view op's ``out`` shares memory with its input ``first``: ``may_share_memory``
    where the answer is not plain (a view with elements, made from ``first`` itself or from
    what ``first`` views, shares them; an array that is no view shares nothing)."""
    base = out.base
    if base is None:
        return out is first and bool(xp.may_share_memory(out, first))
    if (base is first or base is first.base) and out.size:
        return True
    return bool(xp.may_share_memory(out, first))


def share_version(view, base) -> None:
    """Make ``view`` a view of ``base``: one version counter, in-place writes noticed."""
    view._version_counter = base._version_counter
    view._base = base._base if base._base is not None else base
    view._view_epoch = base._version_counter.rebased


def record(op, inputs, result, params, arrays=None, aux=None):
    """Record ``result = op(*inputs)`` in the graph (when something requires grad) and give
    it its forward-mode tangents; returns ``result``. ``arrays``: the inputs' arrays, when
    the caller has them (else shapes and dtypes are read from the tensors); ``aux``: the
    array ``forward`` returned beside its output, for an op whose ``save`` names it."""
    node = None
    if not (_state.grad_enabled and op.differentiable):
        pass
    elif _hooks.recomputing:
        if any(t._requires_grad for t in inputs):      # a checkpoint's recomputation
            _capture(op, inputs, result, aux)
    else:
        edges = None
        for i, t in enumerate(inputs):
            if t._requires_grad:
                made_by = t.grad_fn
                if made_by is None:
                    edge = (grad_accumulator(t), 0)
                else:
                    if t._base is not None and t._view_epoch < t._version_counter.rebased:
                        _view_replay.regenerate(op.name, t)     # its base changed in place
                        made_by = t.grad_fn
                    edge = (made_by, t.output_nr)
                if edges is None:
                    edges = [None] * len(inputs)
                edges[i] = edge
        if edges is not None:
            sources = inputs if arrays is None else arrays
            out = result.dtype if arrays is None else result._array.dtype
            if len(sources) == 1:
                a = sources[0]
                dtype = a.dtype
                if dtype in COMPLEX_DTYPES or out in COMPLEX_DTYPES:     # (complex_node.py)
                    node = complex_node(op, tuple(edges), (a.shape,), (dtype,), out)
                else:
                    node = Node(op, tuple(edges), (a.shape,), (dtype,))
            else:
                dtypes = tuple([a.dtype for a in sources])
                shapes = tuple([a.shape for a in sources])
                if out in COMPLEX_DTYPES or not COMPLEX_DTYPES.isdisjoint(dtypes):
                    node = complex_node(op, tuple(edges), shapes, dtypes, out)
                else:
                    node = Node(op, tuple(edges), shapes, dtypes)
            if params:
                if op._open_params:             # forward(**params): names seen only now
                    for name in params:
                        refuse_shadowing(op.name, name)
                node.__dict__.update(params)
            indices = range(len(inputs)) if op._save_all_inputs else op._save_inputs
            node.save(inputs, result, indices, op._save_ans, aux)
            result.grad_fn = node
            result._requires_grad = True
    if dual_levels._state.levels and op.differentiable:
        for t in inputs:                # (a view whose base changed: its tangents again)
            if t._base is not None and t._view_epoch < t._version_counter.rebased:
                _view_replay.regenerate(op.name, t)
        for t in inputs:
            if t._tangents:
                if op.complex_grad is None:
                    check_complex_tangents(op, inputs, result)
                _jvp.propagate(op, inputs, result, params, node, aux)
                break
    return result


from . import batching as _batching  # noqa: E402  (the batching rules apply ops themselves)
from .complex_node import (COMPLEX_DTYPES, check_complex_tangents,  # noqa: E402  (its node
                           complex_node)                    # applies conj and real)
from . import jvp as _jvp  # noqa: E402  (the forward rules apply ops themselves)
from . import view_replay as _view_replay  # noqa: E402  (views made again apply ops)
