"""Custom differentiable functions, as in PyTorch: subclass ``Function``, write
``forward(ctx, *args)`` and ``backward(ctx, *grad_outputs)`` as static methods, call
``F.apply(*args)``. The node it records sits in the same graph as the built-in ops.

Example (the seed document's custom ReLU)::

    >>> from gpugrad.autograd import Function
    >>> class CustomReLU(Function):
    ...     @staticmethod
    ...     def forward(ctx, input):
    ...         ctx.save_for_backward(input)
    ...         return input.clamp(min=0)
    ...
    ...     @staticmethod
    ...     def backward(ctx, grad_output):
    ...         input, = ctx.saved_tensors
    ...         grad_input = grad_output.clone()
    ...         grad_input[input < 0] = 0
    ...         return grad_input
    >>> x = gpugrad.tensor([-1.0, 2.0, 3.0], requires_grad=True)
    >>> y = CustomReLU.apply(x)
    >>> y
    tensor([0., 2., 3.], device='cpu', dtype=float32, grad_fn=<CustomReLUBackward>)
    >>> y.sum().backward()
    >>> x.grad                          # 0 where the input was negative, else 1
    tensor([0., 1., 1.], device='cpu', dtype=float32)
"""

from __future__ import annotations

from .. import backend
from .dual_levels import active_levels, disabled as forward_ad_disabled, live_tangents
from .function_styles import bind_arguments, run_forward
from .graph import Node, SavedTensor, freed_graph_error, gradient_edge
from .saved_hooks import is_checkpoint_recomputing
from .mode import _state, no_grad
from .once_differentiable import once_differentiable

__all__ = ["Function", "FunctionCtx", "once_differentiable"]


_record = None      # ops/record.py, a floor above (it imports this package): bound on first use


def _bind_record():
    global _record
    from ..ops import record
    _record = record
    return record


class FunctionCtx(Node):
    """The ``ctx`` a custom Function's forward and backward receive; also its graph node."""

    _to_save = ()
    _for_forward = None     # what save_for_forward named: the jvp rule's saved_tensors
    _in_jvp = False
    _non_differentiable = ()
    _dirty = ()
    _materialize_grads = True
    _saved = ()
    user_rule = True          # the engine never stores what a user's backward returns as is
    aux = None                # ctx.aux is the user's own attribute (not an op's saved aux)

    def __init__(self, function_class, needs_input_grad: tuple):
        super().__init__(function_class, (), (), ())
        self._needs_input_grad = needs_input_grad
        self.num_outputs = 1

    def name(self) -> str:
        return f"{self.op.__name__}Backward"

    @property
    def needs_input_grad(self) -> tuple:
        """One bool per forward argument: whether backward must return its gradient."""
        return self._needs_input_grad

    def save_for_backward(self, *tensors) -> None:
        """Keep ``tensors`` (inputs, outputs or None) for backward, with version checks."""
        self._to_save = tensors

    def save_for_forward(self, *tensors) -> None:
        """Keep ``tensors`` for the forward rule (``jvp``), as PyTorch's: inside ``jvp``,
        ``ctx.saved_tensors`` gives these (without a call, those of save_for_backward)."""
        self._for_forward = tensors

    @property
    def saved_tensors(self) -> tuple:
        """The tensors given to ``save_for_backward`` (inside ``jvp``: to
        ``save_for_forward``, when it was called), checked against in-place changes."""
        if self._in_jvp and self._for_forward is not None:
            return self._for_forward
        if self._released:
            raise freed_graph_error(self.name())
        return tuple(None if s is None else s.unpack(self, nr, what="saved tensor")
                     for s, nr in self._saved)

    def freeze_saved(self, outputs: tuple = ()) -> None:
        """Keep what ``save_for_backward`` named, those of ``outputs`` (the node's own) as
        outputs; the saved-tensor pack hooks run here, once: later calls keep it. A generated
        vmap rule calls it before the node is connected: the batch's rules read it too."""
        if not self._to_save:
            return
        output_ids = {id(o): nr for nr, o in enumerate(outputs)}
        self._saved = tuple(
            (None, 0) if t is None else
            (SavedTensor(t, is_output=True, attach=t.grad_fn is self), output_ids[id(t)])
            if id(t) in output_ids else
            (SavedTensor(t, is_output=False), 0)
            for t in self._to_save)
        self._to_save = ()

    def mark_dirty(self, *tensors) -> None:
        """Declare inputs that ``forward`` modified in place; it must return them. The
        returned tensor is then the input object itself, its ``grad_fn`` this node (as
        PyTorch's); a leaf that requires grad cannot be modified so while grad mode is on.

        Example::

            >>> from gpugrad.autograd import Function
            >>> class AddOne_(Function):
            ...     @staticmethod
            ...     def forward(ctx, x):
            ...         x.add_(1)
            ...         ctx.mark_dirty(x)
            ...         return x
            ...     @staticmethod
            ...     def backward(ctx, g):
            ...         return g
            >>> a = gpugrad.tensor([1.0, 2.0], requires_grad=True)
            >>> x = a * 2
            >>> y = AddOne_.apply(x)
            >>> y is x, x.grad_fn, x.tolist()
            (True, <AddOne_Backward>, [3.0, 5.0])
        """
        self._dirty = tensors

    def mark_non_differentiable(self, *outputs) -> None:
        """Declare outputs (e.g. integer indices) that have no gradient."""
        self._non_differentiable = outputs

    def set_materialize_grads(self, value: bool) -> None:
        """With False, backward receives None (not zeros) for outputs that got no gradient."""
        self._materialize_grads = bool(value)

    def release(self):
        if self._saved:
            for saved, _ in self._saved:
                if saved is not None:
                    saved.release()
            self._saved = ()
            self._released = True

    def apply(self, grads: list) -> tuple:
        if self._materialize_grads:
            grads = [g if g is not None or meta is None else _zeros(meta)
                     for g, meta in zip(grads, self._output_meta)]
        result = self.op.backward(self, *grads)
        return result if isinstance(result, tuple) else (result,)


def _zeros(meta):
    from ..tensor import Tensor
    shape, dtype, device = meta
    xp = backend.array_module(device)
    with backend.use_device(device):
        return Tensor._wrap(xp.zeros(shape, dtype=dtype))


class Function:
    """Base class of custom differentiable functions (see the module docstring).

    Inside ``vmap``, a Function needs a batching rule: ``generate_vmap_rule = True`` when
    its forward and backward use only gpugrad ops, or a ``vmap(info, in_dims, *args)``
    staticmethod returning ``(output, out_dims)`` (as torch.func's; see
    ``function_vmap.py``).

    ``forward`` may take ``ctx`` first, or, as PyTorch's newer style, only the inputs, with
    a ``setup_context(ctx, inputs, output)`` staticmethod saving what backward needs (a
    forward whose first parameter is named ``ctx`` is given the ctx either way).
    ``backward`` returns one gradient per argument of ``forward`` (None for arguments that
    are not tensors or need none). For forward mode, define ``jvp(ctx, *tangents)``: one
    tangent (or None) per argument of ``forward`` in, the output tangent(s) out; it runs on
    primal values, with forward mode off inside.
    """

    jvp = None
    setup_context = None        # @staticmethod setup_context(ctx, inputs, output): see above
    vmap = None                 # batching rule: @staticmethod vmap(info, in_dims, *args)
    generate_vmap_rule = False  # True: forward and backward use gpugrad ops only, so vmap
                                # runs them on batched tensors as they are

    @staticmethod
    def forward(ctx, *args, **kwargs):
        raise NotImplementedError("a Function subclass must define forward(ctx, *args)")

    @staticmethod
    def backward(ctx, *grad_outputs):
        raise NotImplementedError("a Function subclass must define backward(ctx, *grads)")

    @classmethod
    def apply(cls, *args, **kwargs):
        """Run ``forward`` without recording its inner ops, and record one node for it."""
        from ..tensor import Tensor
        if kwargs or cls.setup_context is not None:   # keywords are inputs too, as torch's
            args, kwargs = bind_arguments(cls, args, kwargs)
        if (_record or _bind_record()).views_may_be_stale:     # (views taken before their
            from ..ops import view_replay                       # base took a graph in place)
            for a in args:
                if isinstance(a, Tensor) and a._base is not None and not a._requires_grad:
                    view_replay.refresh_grown(cls.__name__, a)
        needs = tuple(isinstance(a, Tensor) and a._requires_grad for a in args)
        levels = _dual_levels(args)
        if levels and cls.jvp is None:
            raise NotImplementedError(
                f"{cls.__name__} is used in forward mode (a dual tensor, func.jvp, jacfwd or "
                f"hessian reached it) but has no forward rule: add "
                f"`@staticmethod def jvp(ctx, *tangents)` returning the output tangent.")
        ctx = (cls.__dict__.get("_ctx_type") or _ctx_type(cls))(cls, needs)
        if _state.vmap_levels and any(isinstance(a, Tensor) and a._batched for a in args):
            from .function_vmap import batched_outputs      # (records on the batch itself)
            outputs, single = batched_outputs(cls, ctx, args, kwargs, Function)
        else:
            with no_grad(), forward_ad_disabled():
                outputs = run_forward(cls, ctx, args, kwargs)
            single = not isinstance(outputs, tuple)
            outputs = (outputs,) if single else outputs
        if ctx._dirty:
            _check_dirty(cls, ctx, args, outputs)
        wanted = _state.grad_enabled and any(needs)
        capture = wanted and is_checkpoint_recomputing()          # a checkpoint's recomputation
        record = wanted and not capture
        if record or levels or capture:
            outputs = _connect(ctx, args, outputs, record)
        if capture:                      # values saved as in the first run, no graph built
            excluded = {id(t) for t in ctx._non_differentiable}
            for out in outputs:
                if isinstance(out, Tensor) and out.dtype.kind in "fc" and id(out) not in excluded:
                    out._requires_grad = True
        if levels:
            _forward_tangents(cls, ctx, args, outputs, levels)
        return outputs[0] if single else outputs


def _ctx_type(cls) -> type:
    """The node class of Function ``cls``'s applications: a FunctionCtx named
    ``<cls>Backward``, as PyTorch's ``type(y.grad_fn).__name__`` (made once per class)."""
    made = type(f"{cls.__name__}Backward", (FunctionCtx,), {"__module__": cls.__module__})
    cls._ctx_type = made
    return made


def _check_dirty(cls, ctx, args, outputs) -> None:
    """Refuse what ``mark_dirty`` cannot record (as PyTorch does): a tensor that is not an
    input, or not returned; a leaf that requires grad (grad mode on); a view; any under vmap
    (whose outputs are new batched tensors)."""
    from ..tensor import Tensor
    inputs = {id(a) for a in args if isinstance(a, Tensor)}
    returned = {id(o) for o in outputs}
    for t in ctx._dirty:
        if id(t) not in inputs:
            raise RuntimeError(f"{cls.__name__}: mark_dirty was given a tensor (shape "
                               f"{tuple(t.shape)}) that is not an input of forward; mark "
                               f"only inputs that forward modified in place")
        if id(t) not in returned and _state.vmap_levels and any(
                isinstance(a, Tensor) and a._batched for a in args):
            raise RuntimeError(f"{cls.__name__}: mark_dirty is not supported under vmap (its "
                               f"outputs are new batched tensors); return a new tensor from "
                               f"forward instead of modifying an input in place")
        if id(t) not in returned:
            raise RuntimeError(
                f"{cls.__name__}: Some elements marked as dirty during the forward method "
                f"were not returned as output. The inputs that are modified inplace must all "
                f"be outputs of the Function: return them from forward.")
        if not _state.grad_enabled or is_checkpoint_recomputing():
            continue        # (a checkpoint's graph-free rerun: its first run was checked,
                            # and its intermediates require grad without a grad_fn)
        if t.grad_fn is None and t._requires_grad:
            raise RuntimeError(
                f"{cls.__name__}: a leaf Variable that requires grad has been used in an "
                f"in-place operation (mark_dirty on a leaf of shape {tuple(t.shape)}). "
                f"Modify a copy (x.clone()), or run it under `with gpugrad.no_grad():`.")
        if t._base is not None and (t._requires_grad or any(
                isinstance(a, Tensor) and a._requires_grad for a in args)):
            raise RuntimeError(
                f"{cls.__name__}: mark_dirty on a view (from indexing, reshape, transpose, "
                f"detach...) of shape {tuple(t.shape)} while gradients are recorded is not "
                f"supported: its base's graph cannot be rewritten here. Pass a tensor that "
                f"owns its memory (v.clone()), or modify the base itself.")


def _dual_levels(args) -> list:
    from ..tensor import Tensor
    if not active_levels():
        return []
    found = set()
    for a in args:
        if isinstance(a, Tensor) and a._tangents:
            found.update(live_tangents(a) or ())
    return [level for level in active_levels() if level in found]


def _forward_tangents(cls, ctx, args, outputs, levels):
    """Run the Function's jvp rule once per level and attach the tangents to the outputs."""
    from ..tensor import Tensor
    for level in levels:
        tangents = [(live_tangents(a) or {}).get(level)
                    if isinstance(a, Tensor) and a._tangents else None for a in args]
        if ctx._materialize_grads:      # a float input with no tangent: zeros, as PyTorch's
            tangents = [_zero_tangent(a) if t is None and isinstance(a, Tensor) else t
                        for a, t in zip(args, tangents)]
        ctx._in_jvp = True
        try:
            with forward_ad_disabled():
                result = cls.jvp(ctx, *tangents)
        finally:
            ctx._in_jvp = False
        result = result if isinstance(result, tuple) else (result,)
        for out, tangent in zip(outputs, result):
            if isinstance(out, Tensor) and tangent is not None:
                out._tangents = {**(out._tangents or {}), level: tangent}
    for saved, nr in ctx._saved:
        if saved is not None and saved.is_output:
            saved.tangents = outputs[nr]._tangents


def _zero_tangent(a):
    """The tangent a Function's ``jvp`` gets for input tensor ``a`` that has none at this
    level: zeros of its shape for a floating or complex one, None for others (as PyTorch)."""
    if a.dtype.kind not in "fc":
        return None
    from ..tensor import Tensor
    return Tensor._wrap(a._xp().zeros_like(a._array))


def _connect(ctx: FunctionCtx, args, outputs, record: bool) -> tuple:
    """Make ``ctx`` the node behind ``outputs`` (when recording) and keep what it asked to
    save."""
    from ..tensor import Tensor
    ctx.next_edges = tuple(gradient_edge(a) if needed and record else None
                           for a, needed in zip(args, ctx._needs_input_grad))
    ctx.shapes = tuple(a.shape if isinstance(a, Tensor) else None for a in args)
    ctx.dtypes = tuple(a.dtype if isinstance(a, Tensor) else None for a in args)
    inputs = {id(a) for a in args if isinstance(a, Tensor)}
    excluded = {id(t) for t in ctx._non_differentiable}
    dirty = {id(t) for t in ctx._dirty}
    results, meta = [], []
    for nr, out in enumerate(outputs):
        if not isinstance(out, Tensor):
            results.append(out)
            meta.append(None)
            continue
        if id(out) in dirty:            # modified in place: the input takes this node
            if record:
                out._version_counter.value += 1
                out._version_counter.rebased += 1         # views taken before are made again
        elif id(out) in inputs or out._requires_grad or out._tangents:
            alias = out._shallow()     # returned an input: give it its own identity
            alias._version_counter = out._version_counter
            excluded = excluded | {id(alias)} if id(out) in excluded else excluded
            out = alias
        if record and id(out) not in excluded and out.dtype.kind in "fc":
            out.grad_fn, out.output_nr, out._requires_grad = ctx, nr, True
        results.append(out)
        meta.append((out.shape, out.dtype, out.device))
    ctx.num_outputs = len(results)
    ctx._output_meta = meta
    ctx.freeze_saved(results)
    return tuple(results)
