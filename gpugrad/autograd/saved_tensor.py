"""A value saved for a backward rule (``SavedTensor``): the tensor, or its array, with the
version it had, checked when the rule reads it; under ``saved_tensors_hooks`` only what the
pack hook returned (not checked then, as PyTorch's). ``graph.py``'s nodes keep their saved
inputs, output and auxiliary value this way.

Example::

    >>> from gpugrad.autograd.saved_tensor import SavedTensor
    >>> x = gpugrad.ones(2)
    >>> saved = SavedTensor(x, is_output=False)
    >>> saved.unpack(None) is x                 # an input is kept as the tensor itself
    True
    >>> _ = x.add_(1.0)
    >>> saved.counter.value, saved.version      # written since: unpacking now raises
    (1, 0)
"""

from __future__ import annotations

from .mode import _inference_made, _state as _mode_state, no_grad
from .saved_hooks import _hooks

__all__ = ["SavedTensor", "freed_graph_error"]


_Tensor = None      # the Tensor class, fetched on first use (tensor.py imports this package)


def _tensor_type():
    global _Tensor
    if _Tensor is None:
        from ..tensor import Tensor as _Tensor
    return _Tensor


def _refuse_inference() -> None:
    """PyTorch's error for an inference tensor (made in ``inference_mode()``) saved for
    backward outside the mode (inside it, a transform such as ``func.grad`` may record)."""
    from ..tensor_grad import INFERENCE_SAVED
    raise RuntimeError(INFERENCE_SAVED)


def freed_graph_error(node_name: str) -> RuntimeError:
    return RuntimeError(
        f"Trying to backward through the graph a second time (or to read saved values after "
        f"they were freed): the values {node_name} saved for its backward rule were freed by "
        f"the previous backward(). Pass retain_graph=True to the first backward() or "
        f"autograd.grad() call if you need to go through the graph again.")

class SavedTensor:
    """A tensor saved for a backward rule, with the version it had when it was saved.

    An input is kept as the tensor itself (it already points to the node that made it). The
    node's own output is kept as its array only, and re-wrapped on unpacking with the node as
    its ``grad_fn``: keeping the output tensor would make a reference cycle. Under
    ``saved_tensors_hooks`` only what the pack hook returned is kept.
    """

    __slots__ = ("tensor", "array", "counter", "version", "is_output", "attach", "tangents",
                 "packed", "unpack_hook")

    def __init__(self, tensor, is_output: bool, attach: bool = True):
        counter = self.counter = tensor._version_counter
        # (_inference_made[0]: the inference counter class once such a tensor exists)
        if counter.__class__ is _inference_made[0] and not _mode_state.inference:
            _refuse_inference()
        self.version = counter.value
        self.is_output = is_output
        self.attach = attach            # False for outputs the node does not differentiate
        self.tangents = tensor._tangents
        self.unpack_hook = None
        stack = _hooks.stack
        if stack:
            self.tensor = self.array = None
            pack, self.unpack_hook = stack[-1]
            self.packed = pack(tensor)
        elif is_output:             # (vmap's batched outputs: their value, as a tensor)
            self.tensor = None
            self.array = tensor._shallow() if tensor._batched else tensor._array
        else:
            self.tensor, self.array = tensor, None

    def register_hooks(self, pack_hook, unpack_hook, node=None, what="value") -> None:
        """Hooks for this one saved value (PyTorch's ``SavedTensor.register_hooks``, reached
        as ``grad_fn._raw_saved_self``...): ``pack_hook`` runs now on the value, and only
        what it returns is kept; ``unpack_hook`` turns that back into a tensor each time the
        value is read. One pair per value (``saved_tensors_hooks`` set one already)."""
        if not callable(pack_hook) or not callable(unpack_hook):
            raise TypeError(f"register_hooks(pack_hook, unpack_hook) takes two functions, "
                            f"got {type(pack_hook).__name__} and "
                            f"{type(unpack_hook).__name__}")
        if self.unpack_hook is not None:
            raise RuntimeError("Calling register_hooks on a saved tensor whose hooks have "
                               "already been set (by saved_tensors_hooks or an earlier "
                               "register_hooks). Hint: only one pair of hooks is allowed at "
                               "a time.")
        if self.counter.value != self.version:
            self._version_error(node, what)
        value = self.tensor
        if value is None:               # the node's output: its value, not attached to it
            Tensor, array = _tensor_type(), self.array
            value = array._shallow() if isinstance(array, Tensor) else Tensor._wrap(array)
            value._version_counter, value._tangents = self.counter, self.tangents
        with no_grad():             # (as PyTorch's: what the pack hook does is not recorded)
            self.packed = pack_hook(value)
        self.unpack_hook = unpack_hook
        self.tensor = self.array = None

    def release(self):
        release = getattr(self.packed, "release", None) if self.unpack_hook else None
        if release is not None:
            release()

    def unpack(self, node, output_nr: int = 0, what="value"):
        """The saved tensor, checked against in-place changes since it was saved (``what``
        names it in the error: a string, or an input's index). A value a pack hook kept is
        not checked (as PyTorch's: versions cannot be followed through the hooks)."""
        if self.unpack_hook is None and self.counter.value != self.version:
            self._version_error(node, what)
        if self.unpack_hook is not None:
            value = self.unpack_hook(self.packed)
            if not isinstance(value, _tensor_type()):
                raise TypeError(f"Output of saved tensor unpack_hook expected to be a Tensor "
                                f"but got result of type {type(value).__name__}: the unpack "
                                f"hook must give back a gpugrad Tensor (e.g. "
                                f"gpugrad.tensor(packed))")
            if not (self.is_output and self.attach):
                return value
            return self._as_output(value, node, output_nr, value._tangents)
        if self.tensor is not None:
            return self.tensor
        return self._as_output(self.array, node, output_nr, self.tangents)

    def _version_error(self, node, what):
        what = f"input {what}" if isinstance(what, int) else what
        a = self.tensor if self.tensor is not None else self.array
        shown = f"the {a.dtype} tensor of shape {tuple(a.shape)}" if a is not None else "a tensor"
        raise RuntimeError(
            f"one of the values needed for gradient computation has been modified by an "
            f"in-place operation: {shown} saved by {node.name()} (as its {what}) is at version "
            f"{self.counter.value}; expected version {self.version} instead. Compute it out "
            f"of place (y = x * 2 rather than x *= 2), or clone() it before modifying it.")

    def _as_output(self, array, node, output_nr: int, tangents):
        Tensor = _tensor_type()
        out = array._shallow() if isinstance(array, Tensor) else Tensor._wrap(array)
        out._version_counter = self.counter
        if self.attach:
            out.grad_fn, out.output_nr, out._requires_grad = node, output_nr, True
        out._tangents = tangents
        return out
