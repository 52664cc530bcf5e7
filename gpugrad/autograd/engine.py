"""The reverse pass: ``backward`` and ``grad``.

The pass is iterative (no recursion, so chains of 100,000 ops work) and linear in the size of
the graph: one depth-first walk counts, for every node, how many edges lead into it; then
nodes run in dependency order (Kahn's algorithm), each once, after every gradient that flows
into it has been summed.

Example::

    >>> x = gpugrad.tensor(2.0, requires_grad=True)
    >>> (dx,) = gpugrad.autograd.grad(x ** 3, x)      # 3 x**2 = 12
    >>> dx
    tensor(12., device='cpu', dtype=float32)
"""

from __future__ import annotations

import weakref

from .graph import ACCUMULATED, AccumulateGrad, Node, scratch, store_grad, without_graph
from .mode import _state as _mode_state, is_anomaly_enabled, set_grad_enabled
from .hooks import run_pre_hooks
from .rule_results import AnomalyError, _check_result

__all__ = ["backward", "grad", "AnomalyError"]


_Tensor = None      # the Tensor class, fetched on first use (tensor.py imports this package)


def _tensor_type():
    global _Tensor
    if _Tensor is None:
        from ..tensor import Tensor as _Tensor
    return _Tensor


def _describe(t) -> str:
    return f"tensor of shape {tuple(t.shape)} and dtype {t.dtype}"


def gradient_edge(t):
    """The ``(node, output_nr)`` that receives the gradient of tensor ``t``."""
    if t.grad_fn is not None:
        return (t.grad_fn, t.output_nr)
    return (t._grad_accumulator(), 0)


def _as_sequence(value, name: str) -> tuple:
    Tensor = _tensor_type()
    if isinstance(value, Tensor):
        return (value,)
    if isinstance(value, (tuple, list)):
        return tuple(value)
    raise TypeError(f"{name} must be a Tensor or a sequence of Tensors, got {type(value).__name__}")


def _root_gradients(tensors, gradients, caller: str) -> list:
    """The cotangent to start from for each root: the given one, or ones for one-element roots."""
    Tensor = _tensor_type()
    if gradients is None:
        gradients = (None,) * len(tensors)
    else:
        gradients = tuple(gradients) if isinstance(gradients, (tuple, list)) else (gradients,)
        if len(gradients) != len(tensors):
            raise ValueError(f"{caller}: got {len(gradients)} gradients for {len(tensors)} "
                             f"tensors; pass one gradient per tensor")
    result = []
    for i, (t, g) in enumerate(zip(tensors, gradients)):
        if not t.requires_grad:
            raise RuntimeError(
                f"{caller}: tensor {i} ({_describe(t)}) does not require grad and has no "
                f"grad_fn: it was not computed from a tensor with requires_grad=True, or it was "
                f"computed under no_grad(). Create the inputs with requires_grad=True.")
        if g is None:
            if t.size != 1:
                raise RuntimeError(
                    f"{caller}: grad can be implicitly created only for one-element outputs, "
                    f"but this output has shape {tuple(t.shape)}. Pass the cotangent "
                    f"explicitly, e.g. y.backward(gpugrad.ones_like(y)), or reduce first "
                    f"(y.sum().backward()).")
            g = t._ones_like_for_grad()
        else:
            if not isinstance(g, Tensor):
                from ..creation import tensor as make_tensor
                g = make_tensor(g, dtype=t.dtype, device=t.device)
            if tuple(g.shape) != tuple(t.shape):
                raise ValueError(
                    f"{caller}: gradient {i} has shape {tuple(g.shape)} but its tensor has "
                    f"shape {tuple(t.shape)}; they must match")
            if g.dtype != t.dtype:
                g = g.astype(t.dtype)
        result.append(g)
    return result


def backward(tensors, grad_tensors=None, retain_graph=None, create_graph=False, inputs=None):
    """Accumulate d(tensors)/d(leaf) into ``leaf.grad`` for every leaf behind ``tensors``.

    ``grad_tensors`` are the cotangents (may be omitted for one-element tensors).
    ``retain_graph`` (default: ``create_graph``) keeps the saved values for another pass;
    ``create_graph`` records the backward pass itself so gradients can be differentiated
    again. ``inputs`` restricts accumulation to those tensors.

    Example::

        >>> w = gpugrad.tensor([1.0, 2.0], requires_grad=True)
        >>> loss = (w * w).sum()
        >>> gpugrad.autograd.backward(loss)       # same as loss.backward()
        >>> w.grad                                # d(sum w**2)/dw = 2w
        tensor([2., 4.], device='cpu', dtype=float32)
    """
    tensors = _as_sequence(tensors, "tensors")
    retain_graph = create_graph if retain_graph is None else retain_graph
    roots = _root_gradients(tensors, grad_tensors, "backward")
    if any(t._batched for t in tensors + tuple(roots)):     # .grad holds one value
        from .batched import backward_in_vmap_error
        raise backward_in_vmap_error()
    edges = [gradient_edge(t) for t in tensors]
    if inputs is None:
        _run(edges, roots, retain_graph, create_graph, targets=None)
        return
    inputs = _as_sequence(inputs, "inputs")
    _check_inputs(inputs, "backward")
    captured = _run(edges, roots, retain_graph, create_graph,
                    targets=[gradient_edge(t) for t in inputs])
    for t, g in zip(inputs, captured):
        if g is not None:
            store_grad(t, g, create_graph, owned=False)


def grad(outputs, inputs, grad_outputs=None, retain_graph=None, create_graph=False,
         allow_unused=False):
    """Gradients of ``outputs`` with respect to ``inputs``, returned (not accumulated).

    Returns a tuple with one gradient per input (``None`` for unused inputs when
    ``allow_unused=True``). With ``create_graph=True`` the gradients are themselves
    differentiable, to any order.

    Example::

        >>> x = gpugrad.tensor(3.0, requires_grad=True)
        >>> (g,) = gpugrad.autograd.grad(x ** 2, x, create_graph=True)   # 2x = 6
        >>> (h,) = gpugrad.autograd.grad(g, x)                           # 2
        >>> g.item(), h.item(), x.grad is None          # returned, not accumulated
        (6.0, 2.0, True)
    """
    outputs = _as_sequence(outputs, "outputs")
    inputs = _as_sequence(inputs, "inputs")
    retain_graph = create_graph if retain_graph is None else retain_graph
    _check_inputs(inputs, "autograd.grad")
    roots = _root_gradients(outputs, grad_outputs, "autograd.grad")
    edges = [gradient_edge(t) for t in outputs]
    captured = _run(edges, roots, retain_graph, create_graph,
                    targets=[gradient_edge(t) for t in inputs])
    result = []
    for i, (t, g) in enumerate(zip(inputs, captured)):
        if g is None and not allow_unused:
            raise RuntimeError(
                f"autograd.grad: input {i} ({_describe(t)}) was not used to compute the "
                f"outputs (no path from the outputs reaches it). Pass allow_unused=True to "
                f"get None for it.")
        if g is not None and not create_graph:
            g = without_graph(g)
        result.append(g)
    return tuple(result)


def _check_inputs(inputs, caller: str):
    Tensor = _tensor_type()
    for i, t in enumerate(inputs):
        if not isinstance(t, Tensor):
            raise TypeError(f"{caller}: input {i} is a {type(t).__name__}, not a Tensor")
        if not t.requires_grad:
            raise RuntimeError(
                f"{caller}: input {i} ({_describe(t)}) does not require grad; create it with "
                f"requires_grad=True or call .requires_grad_() on it first")


# ---------------------------------------------------------------------------------------------
# The pass itself
# ---------------------------------------------------------------------------------------------

def _count_dependencies(roots) -> dict:
    """For every node reachable from ``roots``, the number of edges that lead into it."""
    deps = {}
    seen = set()
    stack = []
    for node in roots:
        if node not in seen:
            seen.add(node)
            stack.append(node)
    while stack:
        node = stack.pop()
        for edge in node.next_edges:
            if edge is None:
                continue
            child = edge[0]
            deps[child] = deps.get(child, 0) + 1
            if child not in seen:
                seen.add(child)
                stack.append(child)
    for node in seen:
        deps.setdefault(node, 0)
    return deps


def _needed_nodes(deps: dict, roots, target_nodes: set) -> set:
    """Nodes from which a target can be reached: the only ones ``grad()`` has to visit."""
    remaining = dict(deps)
    order = []
    ready = [n for n in dict.fromkeys(roots) if remaining[n] == 0]
    while ready:
        node = ready.pop()
        order.append(node)
        for edge in node.next_edges:
            if edge is not None:
                remaining[edge[0]] -= 1
                if remaining[edge[0]] == 0:
                    ready.append(edge[0])
    needed = set()
    for node in reversed(order):
        if node in target_nodes or any(e is not None and e[0] in needed for e in node.next_edges):
            needed.add(node)
    return needed


def _restrict(deps: dict, needed: set) -> dict:
    restricted = {node: 0 for node in needed}
    for node in needed:
        for edge in node.next_edges:
            if edge is not None and edge[0] in needed:
                restricted[edge[0]] += 1
    return restricted


class _Handouts:
    """Which gradient buffers this pass handed to more than one place (a rule may pass its
    cotangent through unchanged to several inputs), so stored grads never share memory."""

    def __init__(self):
        self.seen, self.shared = {}, {}     # id(array) -> a weak reference to that array

    @staticmethod
    def _holds(table: dict, array) -> bool:
        # an id alone could be a freed array's, reused by a new one (which would then be
        # taken for shared, and copied or kept, depending on where memory happened to fall)
        ref = table.get(id(array))
        return ref is not None and (ref is _NO_WEAKREF or ref() is array)

    def note(self, g):
        array = g._array
        if self._holds(self.seen, array):
            self.shared[id(array)] = self.seen[id(array)]
        else:
            self.seen[id(array)] = _weak(array)

    def share(self, g):
        self.shared[id(g._array)] = _weak(g._array)

    def owned(self, g) -> bool:
        array = g._array
        return not self._holds(self.shared, array) and array.base is None and \
            array.flags.c_contiguous


class _NoHandouts:
    """For ``grad()`` and ``backward(inputs=...)``: nothing is stored into ``.grad`` or reused
    in place there (and vmap's batched gradients only flow there), so nothing is tracked."""

    def note(self, g):
        pass

    share = note

    def owned(self, g) -> bool:
        return False


_NO_WEAKREF = object()      # an array type without weak references: its id is trusted


def _weak(array):
    try:
        return weakref.ref(array)
    except TypeError:
        return _NO_WEAKREF


def _add_to_buffer(buffers: dict, node, output_nr: int, g, handouts: _Handouts):
    slots = buffers.get(node)
    if slots is None:
        slots = buffers[node] = [None] * getattr(node, "num_outputs", 1)
    old = slots[output_nr]
    if g is ACCUMULATED:                      # already in the leaf's .grad: nothing to add
        slots[output_nr] = g if old is None else old
        return
    handouts.note(g)
    slots[output_nr] = g if old is None or old is ACCUMULATED else old + g


def _apply_in_place(node, grads: list, handouts: _Handouts, Tensor) -> tuple:
    """Run a rule that may reuse its cotangent's buffer (when this pass owns it and nobody
    else sees it) and add into leaves' ``.grad`` (graph.scratch, graph.leaf_grad)."""
    scratch.leaf_grads = True
    if len(grads) == 1 and not node._retained and not node._pre_hooks and \
            handouts.owned(grads[0]):
        scratch.array = grads[0]._array
    try:
        return _check_result(node, node.apply(grads), Tensor)
    finally:
        scratch.array, scratch.leaf_grads = None, False


def _run(root_edges, root_grads, keep_graph: bool, create_graph: bool, targets=None) -> list:
    """Run the pass. With ``targets`` (edges), return the gradient arriving at each of them
    instead of accumulating into leaves."""
    roots = [edge[0] for edge in root_edges]
    deps = _count_dependencies(roots)
    target_nodes = None
    if targets is not None:
        target_nodes = {edge[0] for edge in targets}
        needed = _needed_nodes(deps, roots, target_nodes)
        deps = _restrict(deps, needed)
        captured = {edge: None for edge in targets}
    buffers = {}
    handouts = _Handouts() if targets is None else _NoHandouts()
    for (node, nr), g in zip(root_edges, root_grads):
        if node in deps:
            handouts.share(g)                 # the caller's cotangent: never stored as is
            _add_to_buffer(buffers, node, nr, g, handouts)
    ready = [n for n in dict.fromkeys(roots) if deps.get(n) == 0]
    Tensor = _tensor_type()
    # rules that ask (Op.in_place_rule) may reuse buffers and add into .grad in place, only in
    # a plain backward() (anomaly mode checks every gradient a rule returns: it keeps them all)
    in_place_ok = not create_graph and target_nodes is None and not is_anomaly_enabled() \
        and not _mode_state.vmap_levels
    with set_grad_enabled(create_graph):
        while ready:
            node = ready.pop()
            grads = buffers.pop(node, None)
            if grads is not None and (node._pre_hooks or node._retained or (
                    node.__class__ is AccumulateGrad and node.variable._hooks)):
                run_pre_hooks(node, grads, create_graph, handouts, _tensor_type())
            if target_nodes is not None and node in target_nodes and grads is not None:
                for nr, g in enumerate(grads):
                    if (node, nr) in captured:
                        captured[(node, nr)] = g
            if node.__class__ is AccumulateGrad:
                if targets is None and grads is not None and grads[0] is not None:
                    g = grads[0]
                    node.accumulate(g, create_graph, g is not ACCUMULATED and handouts.owned(g))
                continue
            edges = node.next_edges
            run = grads is not None and (grads[0] is not None if len(grads) == 1
                                         else any(g is not None for g in grads))
            if run and target_nodes is not None:
                run = any(e is not None and e[0] in deps for e in edges)
            if run:
                if in_place_ok and node.__class__ is Node and \
                        getattr(node.op, "in_place_rule", False):
                    in_grads = _apply_in_place(node, grads, handouts, Tensor)
                else:
                    in_grads = _check_result(node, node.apply(grads), Tensor)
                if node.user_rule:                       # a custom Function's backward may
                    for g in in_grads:                   # return tensors it keeps
                        if g is not None:
                            handouts.share(g)
                if not keep_graph:
                    node.release()
            else:
                in_grads = (None,) * len(edges)
            for edge, g in zip(edges, in_grads):
                if edge is None:
                    continue
                child, nr = edge
                if child not in deps:
                    continue
                if g is not None:
                    _add_to_buffer(buffers, child, nr, g, handouts)
                left = deps[child] - 1
                deps[child] = left
                if left == 0:
                    ready.append(child)
            grads = in_grads = g = None         # hold no gradient while the next rule runs
    if targets is None:
        return []
    return [captured[edge] for edge in targets]
