"""The recorded graph: nodes, edges, saved values and version checks (a saved value itself,
``SavedTensor``, is in ``saved_tensor.py``).

A ``Node`` is one application of an op. It holds what the op's rules need (the values the op
chose to save, its parameters, its inputs' shapes and dtypes) and one edge per input: the
``(node, output_nr)`` that produced that input, or ``None`` when the input needs no gradient.
Tensors point at nodes; nodes never point at the tensors they produced, so the graph holds
only what the rules read and is freed by reference counting when the outputs are dropped.

A leaf tensor that requires grad gets an ``AccumulateGrad`` node, the end of every path, an
ordinary node whose ``apply`` adds incoming gradients into ``tensor.grad``.
"""

from __future__ import annotations

import os
import traceback
import weakref

from .mode import _state as _mode_state
from .capture_mode import _state as _capturing, note_grads
from .compile_mode import _state as _compiling, effect
from .node_hooks import add_node_hook
from .saved_hooks import (disable_saved_tensors_hooks, save_on_cpu,  # noqa: F401
                          saved_tensors_hooks)   # (torch.autograd.graph's names)
from .saved_tensor import SavedTensor, _tensor_type, freed_graph_error
from .saved_names import install_saved_names

__all__ = ["Node", "AccumulateGrad", "grad_accumulator", "gradient_edge", "SavedTensor",
           "freed_graph_error", "stale_view_error", "saved_tensors_hooks", "without_graph",
           "store_grad", "save_on_cpu", "disable_saved_tensors_hooks"]
# (and register_multi_grad_hook, increment_version: the package's __init__ adds them here)


_PACKAGE_DIR = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))


def user_stack() -> str:
    """The current call stack without gpugrad's own frames: where the user's code is."""
    frames = [f for f in traceback.extract_stack()
              if not os.path.abspath(f.filename).startswith(_PACKAGE_DIR + os.sep)]
    return "".join(traceback.format_list(frames))


def stale_view_error(op_name: str, t) -> RuntimeError:
    """The error for a view whose base changed in place when its graph cannot be made again
    from the base's (the base was cut from the graph, or its memory replaced)."""
    return RuntimeError(
        f"{op_name}: an input (shape {tuple(t.shape)}, {t.dtype}) is a view (from indexing, "
        f"reshape, transpose...) of a tensor that was modified in place by a recorded op "
        f"after the view was taken, and the view's graph is out of date and cannot be made "
        f"again from its base's (the base was detached, or its memory replaced through "
        f".data). Take the view again after the in-place op (e.g. v = y[:2] after y.mul_(2)).")


class _Accumulated:
    """Stands for a gradient a rule already added into a leaf's ``.grad`` (``vjp_accumulate``):
    the leaf's ``AccumulateGrad`` adds nothing more, and still runs post-accumulate hooks."""

    def __repr__(self) -> str:
        return "ACCUMULATED"


ACCUMULATED = _Accumulated()


class Node:
    """One recorded op application: what its rules need, and an edge per input.

    Rules read ``ctx.xs`` (saved inputs, ``None`` where an input was not saved), ``ctx.ans``
    (the saved output), ``ctx.aux`` (what the forward returned beside its output, or None),
    ``ctx.shapes``/``ctx.dtypes`` (of every input), ``ctx.needs_input_grad`` and the op's
    parameters as attributes (``ctx.axis``, ``ctx.keepdims``...).
    """

    _released = False
    _pre_hooks = None      # {output_nr: [hook, ...]}, made on first use
    _retained = None       # {output_nr: weakref to a tensor that retains its grad}
    _trace = None          # formatted forward stack, recorded under detect_anomaly()
    _saved_xs = ()
    _saved_ans = None
    _saved_aux = None
    num_outputs = 1
    user_rule = False      # True for custom Functions, whose backward may keep what it returns
    keeps_gradient = False  # True for AccumulateGrad, whose apply may keep its gradient
    FIELDS = frozenset({"op", "next_edges", "shapes", "dtypes"})    # what __init__ sets

    def __init__(self, op, next_edges, shapes, dtypes):
        self.op = op
        self.next_edges = next_edges
        self.shapes = shapes
        self.dtypes = dtypes
        if _mode_state.anomaly_enabled:
            self._trace = user_stack()

    # ------------------------------------------------------------------ inspection
    def name(self) -> str:
        return f"{self.op.name}Backward"

    def __repr__(self) -> str:
        return f"<{self.name()}>"

    @property
    def next_functions(self) -> tuple:
        """``(node, output_nr)`` per input, ``(None, 0)`` where the input needs no gradient."""
        return tuple(edge if edge is not None else (None, 0) for edge in self.next_edges)

    @property
    def needs_input_grad(self) -> tuple:
        return tuple(edge is not None for edge in self.next_edges)

    def needs(self, i: int) -> bool:
        """Whether input ``i`` needs a gradient (rules skip work for the others)."""
        return self.next_edges[i] is not None

    # ------------------------------------------------------------------ saved values
    def save(self, inputs, output, input_indices, save_output: bool, aux=None):
        """Keep inputs ``input_indices``, the output when ``save_output``, and the raw array
        ``aux`` (the op's auxiliary value) unless it is None; each through the saved-tensor
        hooks, in this order (a checkpoint's recomputation hands them over in the same)."""
        if input_indices:
            saved = [None] * len(inputs)
            for i in input_indices:
                saved[i] = SavedTensor(inputs[i], is_output=False)
            self._saved_xs = saved
        if save_output:
            self._saved_ans = SavedTensor(output, is_output=True)
        if aux is not None:
            self._saved_aux = SavedTensor(_tensor_type()._wrap(aux), is_output=False)

    @property
    def xs(self) -> tuple:
        if self._released:
            raise freed_graph_error(self.name())
        return tuple([s.unpack(self, what=i) if s is not None else None
                      for i, s in enumerate(self._saved_xs)])

    @property
    def ans(self):
        if self._released:
            raise freed_graph_error(self.name())
        return self._saved_ans.unpack(self, what="output")

    @property
    def aux(self):
        """The auxiliary value the op's forward returned (a tensor), or None where it gave
        none (or ran under vmap)."""
        if self._released:
            raise freed_graph_error(self.name())
        saved = self._saved_aux
        return None if saved is None else saved.unpack(self, what="auxiliary value")

    def release(self):
        """Free the saved values (called after a backward without retain_graph)."""
        if self._saved_xs or self._saved_ans is not None or self._saved_aux is not None:
            for saved in (*self._saved_xs, self._saved_ans, self._saved_aux):
                if saved is not None and saved.unpack_hook:      # (else release() does nothing)
                    saved.release()
            self._saved_xs, self._saved_ans, self._saved_aux = (), None, None
            self._released = True

    # ------------------------------------------------------------------ hooks
    def add_pre_hook(self, output_nr: int, hook):
        if self._pre_hooks is None:
            self._pre_hooks = {}
        self._pre_hooks.setdefault(output_nr, []).append(hook)

    def register_prehook(self, hook):
        """Call ``hook(grad_outputs)`` (a tuple, one gradient or None per output) before this
        node runs; a tuple it returns replaces them (as PyTorch's). Returns a handle with
        ``remove()``, usable as a context manager.

        Example::

            >>> x = gpugrad.tensor([1.0, 2.0], requires_grad=True)
            >>> y = x * 3
            >>> h = y.grad_fn.register_prehook(lambda go: (go[0] * 2,))
            >>> y.sum().backward(); x.grad          # 3 * 2
            tensor([6., 6.], device='cpu', dtype=float32)
        """
        return add_node_hook(self, "_node_prehooks", hook)

    def register_hook(self, hook):
        """Call ``hook(grad_inputs, grad_outputs)`` after this node ran (``grad_inputs``:
        what it returned, one per input; ``grad_outputs``: what it received); a tuple it
        returns replaces ``grad_inputs`` (as PyTorch's). Returns a removable handle.

        Example::

            >>> x = gpugrad.tensor([1.0, 2.0], requires_grad=True)
            >>> y = x * 3
            >>> seen = []
            >>> h = y.grad_fn.register_hook(lambda gi, go: seen.append((gi[0], go[0])))
            >>> y.sum().backward(); seen[0][0].tolist(), seen[0][1].tolist()
            ([3.0, 3.0], [1.0, 1.0])
        """
        return add_node_hook(self, "_node_posthooks", hook)

    @property
    def metadata(self) -> dict:
        """A dict of the user's own, kept with this node (as PyTorch's)."""
        found = self.__dict__.get("_metadata")
        if found is None:
            found = self.__dict__["_metadata"] = {}
        return found

    def __call__(self, *grad_outputs):
        """Run this node's rule on ``grad_outputs`` (one per output): its input gradients,
        a tuple (one tensor when the node has one input), as PyTorch's ``grad_fn(g)``."""
        result = tuple(self.apply(list(grad_outputs)))
        return result[0] if len(result) == 1 else result

    def apply(self, grads: list) -> tuple:
        """Input cotangents from output cotangents (one per output; this op has one)."""
        result = self.op.vjp(self, grads[0])
        return result if isinstance(result, tuple) else (result,)

    def apply_accumulate(self, grads: list, into: tuple, g_is_scratch: bool) -> tuple:
        """``apply`` through the op's ``vjp_accumulate``: ``into[i]``, input i's ``.grad`` to
        add into (or None); ``g_is_scratch``: the cotangent may be overwritten."""
        result = self.op.vjp_accumulate(self, grads[0], into, g_is_scratch)
        return result if isinstance(result, tuple) else (result,)


install_saved_names(Node)   # grad_fn._saved_self, _raw_saved_self... (as PyTorch's)


class AccumulateGrad(Node):
    """The end of every path into a leaf: a node with no inputs whose ``apply`` adds the
    gradient into ``variable.grad`` (as PyTorch's); the leaf's hooks are its pre-hooks.

    Example::

        >>> x = gpugrad.tensor([1.0, 2.0], requires_grad=True)
        >>> node = (x * 3).grad_fn.next_functions[0][0]
        >>> node.apply([gpugrad.ones(2)]), node.apply([gpugrad.ones(2)]), x.grad
        ((), (), tensor([2., 2.], device='cpu', dtype=float32))
    """

    next_edges = ()
    shapes = dtypes = ()
    num_outputs = 1
    _retained = _trace = None
    _released = False
    user_rule = False
    keeps_gradient = True   # the engine says whether apply() may keep the gradient's buffer

    def __init__(self, variable):
        self.variable = variable

    def name(self) -> str:
        return "AccumulateGrad"

    def __repr__(self) -> str:
        return "<AccumulateGrad>"

    next_functions = ()

    @property
    def _pre_hooks(self):
        """The leaf's tensor hooks, as a node's pre-hooks on its one output (or None)."""
        hooks = self.variable._hooks
        return {0: hooks} if hooks else None

    def release(self):
        pass

    def apply(self, grads: list, owned: bool = False) -> tuple:
        """Add ``grads[0]`` (None: nothing came) into ``variable.grad``, keeping its graph
        when grad mode is on (``create_graph``), then run the post-accumulate hooks. ``owned``:
        the buffer is the caller's own, seen by nobody else, so it may become ``.grad``."""
        grad = grads[0]
        if grad is None:
            return ()
        if _capturing.grads is not None:        # a CUDA graph records the step
            note_grads((self.variable,))
        # (a compiled step's replay stores it live)
        effect(_accumulate, self.variable, grad, _mode_state.grad_enabled, owned)
        return ()

    def writable_grad(self, shape: tuple, dtype):
        """The leaf's ``.grad`` if a rule may add a gradient of ``shape`` and ``dtype`` into
        it in place (as ``store_grad`` would): a plain contiguous writable buffer of both, on
        the leaf's device, with no graph or tangent, on a leaf with no hooks (its own, or this
        node's ``register_prehook``/``register_hook`` ones). Else None."""
        variable = self.variable
        grad = variable._grad
        if grad is None or variable._hooks or "apply" in self.__dict__ or \
                grad._requires_grad or grad._tangents or \
                _compiling.recorder is not None:    # a compiled step stores grads live
            return None
        a, own = grad._array, variable._array
        if a.shape != shape or a.dtype != dtype or type(a) is not type(own) \
                or not a.flags.c_contiguous or not getattr(a.flags, "writeable", True) \
                or getattr(a, "device", None) != getattr(own, "device", None):
            return None
        return grad


def _accumulate(variable, grad, create_graph: bool, owned: bool):
    """AccumulateGrad's work: store ``grad`` into ``variable.grad`` (unless a rule already
    added it), run the post-accumulate hooks; the stored gradient's array (or None)."""
    if grad is not ACCUMULATED:
        store_grad(variable, grad, create_graph, owned)
    if variable._post_accumulate_hooks:
        for hook in tuple(variable._post_accumulate_hooks):
            hook(variable)
    grad = variable._grad
    return None if grad is None else grad._array


def without_graph(g):
    """``g`` cut from the reverse graph, keeping its forward-mode tangents (a gradient
    computed inside a dual level carries its own tangent: forward over reverse)."""
    if not g._requires_grad:
        return g
    out = g.detach()
    out._tangents = g._tangents
    return out


def store_grad_copy(tensor, grad, create_graph: bool, in_place: bool = True) -> None:
    """``store_grad`` of a gradient the caller keeps (``backward(inputs=...)``, a retained
    gradient); in a step ``gpugrad.compile`` records, a line a replay runs again."""
    note_grads((tensor,))
    effect(_store_copy, tensor, grad, create_graph, in_place)


def _store_copy(tensor, grad, create_graph: bool, in_place: bool):
    store_grad(tensor, grad, create_graph, owned=False, in_place=in_place)
    return tensor._grad._array          # (what later lines read in place of the recorded)


def store_grad(tensor, grad, create_graph: bool, owned: bool, in_place: bool = True) -> None:
    """Accumulate ``grad`` into ``tensor.grad``.

    The first gradient is stored as is only when ``owned`` (its buffer is contiguous, its
    own, and handed to nobody else); otherwise a copy is stored, so that an in-place change
    of one ``.grad`` (clipping, zeroing) never shows up in another tensor or in the user's
    cotangent. Later gradients are added into the existing buffer where they can be, as
    PyTorch's leaves do; ``in_place=False`` adds them out of place (a retained non-leaf
    gradient, which PyTorch replaces: a ``.grad`` read earlier keeps its values).
    """
    old = tensor._grad
    if owned and old is None and not create_graph and not grad._requires_grad:
        tensor._grad = grad         # the common first case (every parameter after zero_grad)
        return
    if not create_graph:
        grad = without_graph(grad)
        if old is None and not owned:
            copy = grad._array.copy()
            tangents = grad._tangents
            grad = type(grad)._wrap(copy)
            grad._tangents = tangents
        elif old is not None and in_place and _can_add_in_place(old, grad):
            existing = old._array
            old._xp().add(existing, grad._array, out=existing)
            old._version_counter.value += 1
            return
    tensor._grad = grad if old is None else old + grad


def _can_add_in_place(existing, grad) -> bool:
    """Whether ``grad`` can be added into the existing ``.grad`` buffer (as PyTorch does, so
    accumulating gradients allocates nothing): same shape, dtype and device, a writable
    buffer of its own, and no graph or tangent to keep."""
    a, b = existing._array, grad._array
    return (a.shape == b.shape and a.dtype == b.dtype and type(a) is type(b)
            and not existing._requires_grad and not existing._tangents and not grad._tangents
            and a.flags.c_contiguous and getattr(a.flags, "writeable", True)
            and (not hasattr(a, "device") or a.device == b.device))


def grad_accumulator(t) -> AccumulateGrad:
    """The node that accumulates leaf ``t``'s gradient into ``t.grad``: one per leaf, alive
    while a graph refers to it (the tensor keeps only a weak reference).

    Example::

        >>> from gpugrad.autograd.graph import grad_accumulator
        >>> w = gpugrad.ones(2, requires_grad=True)
        >>> y = w * 3
        >>> y.grad_fn.next_functions[0][0] is grad_accumulator(w)
        True
    """
    accumulator = t._accumulator() if t._accumulator is not None else None
    if accumulator is None:
        accumulator = AccumulateGrad(t)
        t._accumulator = weakref.ref(accumulator)
    return accumulator


def gradient_edge(t) -> tuple:
    """The ``(node, output_nr)`` that receives the gradient of tensor ``t``."""
    if t.grad_fn is not None:
        return (t.grad_fn, t.output_nr)
    return (grad_accumulator(t), 0)
