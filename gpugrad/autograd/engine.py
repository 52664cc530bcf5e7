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

from .graph import ACCUMULATED, Node, _tensor_type, gradient_edge, store_grad_copy, without_graph
from .mode import _state as _mode_state, set_grad_enabled
from .hooks import run_pre_hooks
from .multi_grad_hooks import current as _current, task_ids as _task_ids
from .grad_args import as_sequence, check_inputs, describe, root_gradients
from .rule_results import AnomalyError, _check_result
from .walk import count_dependencies, nodes_leading_to, restrict_dependencies

__all__ = ["backward", "grad", "AnomalyError"]


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
    tensors = as_sequence(tensors, "tensors")
    retain_graph = create_graph if retain_graph is None else retain_graph
    roots = root_gradients(tensors, grad_tensors, "backward")
    for t in (*tensors, *roots):
        if t._batched:                      # .grad holds one value
            from .batched import backward_in_vmap_error
            raise backward_in_vmap_error()
    edges = [gradient_edge(t) for t in tensors]
    if inputs is None:
        _run(edges, roots, retain_graph, create_graph, targets=None)
        return
    inputs = as_sequence(inputs, "inputs")
    if not inputs:
        raise RuntimeError("`inputs` argument to `backward()` cannot be empty: pass the "
                           "tensors to accumulate into, or leave inputs out for all leaves")
    check_inputs(inputs, "backward")
    captured = _run(edges, roots, retain_graph, create_graph,
                    targets=[gradient_edge(t) for t in inputs])
    for t, g in zip(inputs, captured):
        if g is not None and g is not _UNREACHED:       # (an unused input keeps its .grad)
            store_grad_copy(t, g, create_graph)


def grad(outputs, inputs, grad_outputs=None, retain_graph=None, create_graph=False,
         only_inputs=True, allow_unused=None, is_grads_batched=False, *,
         materialize_grads=False):
    """Gradients of ``outputs`` with respect to ``inputs``, returned (not accumulated).

    Returns a tuple with one gradient per input (``None`` for unused inputs when
    ``allow_unused=True``; zeros with ``materialize_grads=True``, which implies it, as in
    PyTorch). With ``create_graph=True`` the gradients are themselves differentiable, to
    any order. With ``is_grads_batched=True``, dimension 0 of every ``grad_outputs`` entry
    is a batch (shape (B, *output.shape)): one vjp per row, in one ``vmap``ped pass; each
    gradient then has shape (B, *input.shape), row b the gradient for cotangent row b (an
    unused input's materialized zeros have the input's shape, as PyTorch's): see
    ``batched_grad.py``. ``outputs`` and ``inputs`` may be any iterables of tensors (e.g.
    ``model.parameters()``); ``only_inputs`` is accepted and ignored, as in PyTorch.

    Example::

        >>> x = gpugrad.tensor(3.0, requires_grad=True)
        >>> (g,) = gpugrad.autograd.grad(x ** 2, x, create_graph=True)   # 2x = 6
        >>> (h,) = gpugrad.autograd.grad(g, x)                           # 2
        >>> g.item(), h.item(), x.grad is None          # returned, not accumulated
        (6.0, 2.0, True)
    """
    if materialize_grads and allow_unused is False:
        raise ValueError("autograd.grad: materialize_grads=True gives zeros for unused "
                         "inputs, which allow_unused=False refuses; leave allow_unused out")
    allow_unused = materialize_grads if allow_unused is None else allow_unused
    outputs = as_sequence(outputs, "outputs")
    inputs = as_sequence(inputs, "inputs")
    if not inputs:
        raise RuntimeError("`inputs` argument to `grad()` cannot be empty: pass the tensors "
                           "to differentiate with respect to")
    if is_grads_batched:
        from .batched_grad import batched_grad      # (it calls this function)
        return batched_grad(grad, outputs, inputs, grad_outputs, retain_graph, create_graph,
                            allow_unused, materialize_grads)
    retain_graph = create_graph if retain_graph is None else retain_graph
    check_inputs(inputs, "autograd.grad")
    roots = root_gradients(outputs, grad_outputs, "autograd.grad")
    edges = [gradient_edge(t) for t in outputs]
    captured = _run(edges, roots, retain_graph, create_graph,
                    targets=[gradient_edge(t) for t in inputs])
    result = []
    for i, (t, g) in enumerate(zip(inputs, captured)):
        if g is _UNREACHED:
            g = None
            how = "was not used to compute the outputs (no path from the outputs reaches it)"
        else:
            how = ("was reached from the outputs, but every rule on the way returned no "
                   "(None, i.e. zero) gradient for it")
        if g is None and not allow_unused:
            raise RuntimeError(
                f"autograd.grad: input {i} ({describe(t)}) {how}. Pass allow_unused=True to "
                f"get None for it (materialize_grads=True: zeros).")
        if g is not None and not create_graph:
            g = without_graph(g)
        elif g is None and materialize_grads:
            g = _tensor_type()._wrap(t._xp().zeros_like(t._array))
        result.append(g)
    return tuple(result)


# ---------------------------------------------------------------------------------------------
# The pass itself
# ---------------------------------------------------------------------------------------------

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
        key = id(array)
        ref = self.seen.get(key)
        if ref is not None and (ref is _NO_WEAKREF or ref() is array):     # (_holds, inline)
            self.shared[key] = ref
        else:
            self.seen[key] = _weak(array)

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
_UNREACHED = object()       # what a target no path from the outputs reaches captures


def _weak(array):
    try:
        return weakref.ref(array)
    except TypeError:
        return _NO_WEAKREF


def _add_to_buffer(buffers: dict, node, output_nr: int, g, handouts: _Handouts):
    slots = buffers.get(node)
    if slots is None:
        slots = buffers[node] = [None] * node.num_outputs
    old = slots[output_nr]
    if g is ACCUMULATED:                      # already in the leaf's .grad: nothing to add
        slots[output_nr] = g if old is None else old
        return
    handouts.note(g)
    slots[output_nr] = g if old is None or old is ACCUMULATED else old + g


class _Pass:
    """One reverse pass: the nodes in it and how many consumers each still waits for
    (``deps``), the gradients summed for each so far (``buffers``), the buffers handed out,
    what ``grad()`` captures, and whether rules may work in place."""

    __slots__ = ("deps", "buffers", "handouts", "captured", "keep_graph", "in_place",
                 "Tensor", "held", "task_id")

    def __init__(self, roots: list, keep_graph: bool, create_graph: bool, targets):
        self.task_id = next(_task_ids)        # (multi_grad_hooks.py: which pass a hook is in)
        self.deps = count_dependencies(roots)
        self.captured = None                  # {target edge: its gradient}, for grad()
        if targets is not None:
            needed = nodes_leading_to(self.deps, roots, {edge[0] for edge in targets})
            self.deps = restrict_dependencies(self.deps, needed)
            self.captured = {edge: None if edge[0] in needed else _UNREACHED
                             for edge in targets}
        self.buffers, self.keep_graph, self.held = {}, keep_graph, None
        self.handouts = _Handouts() if targets is None else _NoHandouts()
        # rules that can (Op.vjp_accumulate) work in place only in a plain backward()
        # (anomaly mode checks every gradient a rule returns: it keeps them all)
        self.in_place = not create_graph and targets is None and \
            not _mode_state.anomaly_enabled and not _mode_state.vmap_levels
        self.Tensor = _tensor_type()

    def seed(self, root_edges, root_grads) -> list:
        """Put the caller's cotangents in the roots' buffers; the nodes ready to run."""
        ready = {}
        for (node, nr), g in zip(root_edges, root_grads):
            if node in self.deps:
                self.handouts.share(g)            # the caller's cotangent: never stored as is
                _add_to_buffer(self.buffers, node, nr, g, self.handouts)
                if self.deps[node] == 0:
                    ready[node] = None
        return list(ready)

    def capture(self, node, grads: list) -> None:
        """``grad()``: keep the gradients arriving at the target edges of ``node``."""
        for nr, g in enumerate(grads):
            if (node, nr) in self.captured:
                self.captured[(node, nr)] = g

    def call(self, node, grads):
        """Run ``node``'s ``apply``: what it returns per input, or None when it does not run
        (no gradient came, or in ``grad()`` no target is below it).

        A leaf's AccumulateGrad runs in ``backward()`` only, told whether the pass owns the
        gradient's buffer. That gradient stays referenced (``held``) until the next rule has
        run, as the loop always kept it: the checkpoint planner's profile measures it
        (checkpoint/profiling.py, residue), tested against measured peaks."""
        if node.keeps_gradient:
            if grads is None or grads[0] is None or self.captured is not None:
                return None
            g = self.held = grads[0]
            return node.apply(grads, g is not ACCUMULATED and self.handouts.owned(g))
        in_grads = None
        if grads is not None and (grads[0] is not None if len(grads) == 1
                                  else any(g is not None for g in grads)) and (
                self.captured is None
                or any(e is not None and e[0] in self.deps for e in node.next_edges)):
            if self.in_place and node.__class__ is Node and \
                    getattr(node.op, "vjp_accumulate", None) is not None and \
                    "apply" not in node.__dict__:         # (no register_hook hooks on it)
                in_grads = self._apply_accumulate(node, grads)
            else:
                in_grads = _check_result(node, node.apply(grads), self.Tensor)
            if node.user_rule or "apply" in node.__dict__:    # a custom Function's backward
                for g in in_grads:            # or a node hook may return tensors it keeps
                    if g is not None:
                        self.handouts.share(g)
            if not self.keep_graph:
                node.release()
        self.held = None
        return in_grads

    def _apply_accumulate(self, node, grads) -> list:
        """An op's ``vjp_accumulate`` rule, given as arguments the leaves' ``.grad`` it may
        add into and whether its cotangent's buffer is the pass's own, seen by no hook,
        retained grad or caller. A gradient it added goes on as ACCUMULATED."""
        into, added = [None] * len(node.next_edges), False
        for i, edge in enumerate(node.next_edges):
            if edge is not None and edge[0].keeps_gradient:
                into[i] = edge[0].writable_grad(node.shapes[i], node.dtypes[i])
                added = added or into[i] is not None
        g_is_scratch = not node._retained and not node._pre_hooks and \
            self.handouts.owned(grads[0])
        in_grads = node.apply_accumulate(grads, tuple(into), g_is_scratch)
        if added:
            in_grads = list(in_grads)
            for i, grad in enumerate(into):
                if grad is not None and in_grads[i] is grad:      # added: an in-place write
                    grad._version_counter.value += 1
                    in_grads[i] = ACCUMULATED
        return _check_result(node, in_grads, self.Tensor)

    def pass_on(self, node, in_grads, ready: list) -> None:
        """Give each input's gradient (None: nothing flows) to the node that made the input,
        adding where several meet; a node is ready once all its consumers have run."""
        deps = self.deps
        for i, edge in enumerate(node.next_edges):
            if edge is None:
                continue
            child = edge[0]
            left = deps.get(child)
            if left is None:                  # below no target (grad()): not in the pass
                continue
            if in_grads is not None and in_grads[i] is not None:
                _add_to_buffer(self.buffers, child, edge[1], in_grads[i], self.handouts)
            deps[child] = left - 1
            if left == 1:
                ready.append(child)


def _run(root_edges, root_grads, keep_graph: bool, create_graph: bool, targets=None) -> list:
    """Run the pass. With ``targets`` (edges), return the gradient arriving at each of them
    instead of accumulating into leaves. Each ready node in turn: (1) its gradients go
    through its hooks, retained grads are stored; (2) ``grad()`` captures those arriving at
    a target; (3) the node runs (an op's rule, a Function's backward, or a leaf's
    AccumulateGrad storing ``.grad``); (4) what it returns goes on to the nodes below."""
    run = _Pass([edge[0] for edge in root_edges], keep_graph, create_graph, targets)
    ready = run.seed(root_edges, root_grads)
    buffers, handouts, captured, Tensor = run.buffers, run.handouts, run.captured, run.Tensor
    call, pass_on = run.call, run.pass_on
    outer, _current.run = _current.run, run     # (hooks ask which pass runs: a pass may nest)
    try:
        with set_grad_enabled(create_graph):
            while ready:
                node = ready.pop()
                grads = buffers.pop(node, None)
                if grads is not None:
                    if node._pre_hooks or node._retained:                           # (1)
                        run_pre_hooks(node, grads, create_graph, handouts, Tensor)
                    if captured is not None:                                        # (2)
                        run.capture(node, grads)
                in_grads = call(node, grads)                                        # (3)
                if node.next_edges:                                                 # (4)
                    pass_on(node, in_grads, ready)
                grads = in_grads = None         # hold no gradient while the next rule runs
    finally:
        _current.run = outer
    return [] if targets is None else [captured[edge] for edge in targets]
