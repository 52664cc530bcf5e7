"""PyTorch's ``torch.autograd.graph.register_multi_grad_hook`` and ``increment_version``, and
the per-thread record of the reverse pass running now (``current``: the engine sets it once
per pass, nothing per node), from which a hook learns which nodes this pass runs.

Example (``fn`` runs once per pass, after the gradients of every tensor the pass reaches;
None for a tensor it does not reach)::

    >>> from gpugrad.autograd.graph import register_multi_grad_hook
    >>> a = gpugrad.tensor([1.0, 2.0], requires_grad=True)
    >>> b = gpugrad.tensor([3.0, 4.0], requires_grad=True)
    >>> seen = []
    >>> h = register_multi_grad_hook((a, b), lambda gs: seen.append(
    ...     [None if g is None else g.tolist() for g in gs]))
    >>> (a * 2).sum().backward(); seen
    [[[2.0, 2.0], None]]
    >>> h.remove()
"""

from __future__ import annotations

import itertools
import threading

from .graph import gradient_edge

__all__ = ["register_multi_grad_hook", "increment_version", "current_graph_task_id",
           "will_engine_execute_node", "current"]


class _Current(threading.local):
    run = None          # the engine's ``_Pass`` running in this thread (its deps, task_id)


current = _Current()
task_ids = itertools.count()        # (each pass takes the next: its task_id)


def current_graph_task_id() -> int:
    """The id of the reverse pass running in this thread, -1 outside one (PyTorch's
    ``torch._C._current_graph_task_id``)."""
    run = current.run
    return -1 if run is None else run.task_id


def will_engine_execute_node(node) -> bool:
    """Whether the reverse pass running now runs ``node`` (a ``grad_fn`` or a leaf's
    ``AccumulateGrad``): it is reached from the outputs and, in ``autograd.grad()`` or
    ``backward(inputs=...)``, leads to an input. Only inside a pass (in a hook)."""
    run = current.run
    if run is None:
        raise RuntimeError("will_engine_execute_node: no backward pass is running; call it "
                           "from a hook, during backward() or autograd.grad()")
    return node in run.deps


class _MultiHandle:
    """Removes every hook ``register_multi_grad_hook`` put on the tensors; also a context
    manager (removes them on exit)."""

    def __init__(self, handles: tuple):
        self.handles = handles

    def remove(self) -> None:
        for handle in self.handles:
            handle.remove()

    def __enter__(self):
        return self

    def __exit__(self, *exc) -> None:
        self.remove()


def register_multi_grad_hook(tensors, fn, *, mode: str = "all") -> _MultiHandle:
    """Call ``fn`` once per reverse pass on the gradients of several tensors (PyTorch's).

    ``mode="all"``: ``fn(grads)`` (a list, one per tensor) after the gradient of every
    tensor this pass reaches was computed; None for one it does not reach (not behind the
    outputs, or leading to none of the ``inputs`` of ``grad()``/``backward(inputs=...)``).
    Every tensor must require grad. ``mode="any"``: ``fn(grad)`` on the first gradient
    that arrives (tensors that do not require grad are skipped). What ``fn`` returns is
    ignored: it must not modify the gradients. Returns a handle with ``remove()``.

    Example::

        >>> from gpugrad.autograd.graph import register_multi_grad_hook
        >>> x = gpugrad.tensor([1.0], requires_grad=True)
        >>> h = register_multi_grad_hook([x], lambda gs: print(gs[0].tolist()))
        >>> (x * 3).sum().backward()
        [3.0]
    """
    if mode not in ("all", "any"):
        raise ValueError(f"Expects mode to be one of ('all', 'any') but got {mode!r}")
    tensors = tuple(tensors)
    if mode == "any":
        hook = _any_hook(fn)
        return _MultiHandle(tuple(t.register_hook(hook) for t in tensors if t.requires_grad))
    for i, t in enumerate(tensors):
        if not t.requires_grad:
            raise RuntimeError(
                f"register_multi_grad_hook: tensor {i} (shape {tuple(t.shape)}) does not "
                f"require grad, so no gradient ever reaches it; leave it out, or call "
                f"requires_grad_() on it first (mode='any' skips such tensors)")
    nodes = [gradient_edge(t)[0] for t in tensors]      # (keeps a leaf's accumulator alive)
    counts, expected, buffers, lock = {}, {}, {}, threading.Lock()    # by pass (task id)

    def inner(i):
        def hook(grad):
            task = _task_id()
            with lock:
                count = counts.get(task, 0)
                if count == 0:          # the first of this pass: how many will come
                    expected[task] = sum(will_engine_execute_node(n) for n in nodes)
                    buffers[task] = [None] * len(tensors)
                counts[task] = count + 1
                buffers[task][i] = grad
                if count + 1 < expected[task]:
                    return None
                grads = buffers.pop(task)
                del counts[task], expected[task]
            fn(grads)
            return None
        return hook

    return _MultiHandle(tuple(t.register_hook(inner(i)) for i, t in enumerate(tensors)))


def _any_hook(fn):
    ran, lock = set(), threading.Lock()

    def hook(grad):
        task = _task_id()
        with lock:
            if task in ran:
                return None
            ran.add(task)
        fn(grad)
        return None
    return hook


def _task_id() -> int:
    task = current_graph_task_id()
    if task == -1:
        raise RuntimeError("register_multi_grad_hook: its hook ran outside a backward pass; "
                           "it expects to be called by backward() or autograd.grad()")
    return task


def increment_version(tensor) -> None:
    """Count an in-place write autograd did not see (a kernel that wrote into the tensor's
    memory): saved values read later raise the in-place error, as after any in-place op.
    ``tensor``: a tensor or an iterable of them; an inference tensor is skipped (as in
    PyTorch).

    Example::

        >>> from gpugrad.autograd.graph import increment_version
        >>> x = gpugrad.tensor([1.0, 2.0], requires_grad=True)
        >>> y = x * x
        >>> increment_version(x)
        >>> y.sum().backward()
        Traceback (most recent call last):
        RuntimeError: one of the values needed for gradient computation has been modified ...
    """
    from .saved_tensor import _tensor_type
    from .mode import _inference_made
    if isinstance(tensor, _tensor_type()):
        tensor = (tensor,)
    for t in tensor:
        counter = t._version_counter
        if counter.__class__ is not _inference_made[0]:
            counter.value += 1
