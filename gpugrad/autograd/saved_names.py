"""PyTorch's names for what a node saved: ``grad_fn._saved_self``, ``_saved_other``,
``_saved_result``, ``_saved_exponent``... and the ``_raw_saved_<name>`` objects whose
``register_hooks(pack, unpack)`` puts hooks on that one saved value (as PyTorch's
``SavedTensor``), mapped onto what gpugrad's op records save (``Node._saved_xs``,
``_saved_ans``) and their parameters.

The names are attributes of the ``Node`` class (non-data descriptors), not a ``__getattr__``:
a class with ``__getattr__`` makes every attribute read on its instances slower, and the
engine and the rules read node attributes all the time. A name the node's op does not save
raises AttributeError (so ``hasattr`` is False), as PyTorch's nodes have only their own.
Tensors read after a backward that freed them raise PyTorch's "backward through the graph a
second time" error; the op's parameters (``_saved_exponent`` of ``x ** 2``) stay readable.

Example (the "Saved tensors" notes of PyTorch's autograd mechanics)::

    >>> x = gpugrad.tensor([1.0, 2.0], requires_grad=True)
    >>> y = x.pow(2)
    >>> y.grad_fn._saved_self is x, y.grad_fn._saved_exponent
    (True, 2)
    >>> y.grad_fn._raw_saved_self.register_hooks(lambda t: t * 4, lambda t: t)
    >>> y.sum().backward(); x.grad                  # 2 * (4x), the hooks' value
    tensor([ 8., 16.], device='cpu', dtype=float32)
"""

from __future__ import annotations

import numpy as np

__all__ = ["SAVED_NAMES", "install_saved_names", "RawSaved"]

# What a name reads: ("x", i) saved input i; ("ans",) the saved output; ("param", name) an op
# parameter; ("number", name) a number parameter as a 0-d tensor (PyTorch wraps the scalar
# operand of x * 2 so); ("none",) None (PyTorch saved nothing there); ("dim",) the
# reduction's dims as a tuple; ("sizes",) / ("numel",) input 0's shape / element count.
_BINARY = {"self": ("x", 0), "other": ("x", 1), "result": ("ans",)}    # any other op with
_UNARY = {"self": ("x", 0), "result": ("ans",)}                         # one or two inputs
_REDUCTION = {"self_sym_sizes": ("sizes",), "dim": ("dim",), "keepdim": ("param", "keepdims")}
_BY_OP = {
    "MulScalar": {"self": ("none",), "other": ("number", "c")},
    "DivScalar": {"self": ("none",), "other": ("number", "c")},
    "PowScalar": {"self": ("x", 0), "exponent": ("param", "c")},
    "RPowScalar": {"self": ("param", "c"), "result": ("ans",)},
    "Pow": {"self": ("x", 0), "exponent": ("x", 1), "result": ("ans",)},
    "Sum": _REDUCTION,
    "Mean": dict(_REDUCTION, self_sym_numel=("numel",)),
    "Softmax": {"result": ("ans",), "dim": ("param", "axis")},
    "LogSoftmax": {"result": ("ans",), "dim": ("param", "axis")},
    "Clamp": {"self": ("x", 0), "min": ("param", "min"), "max": ("param", "max")},
    "Where": {"condition": ("x", 0)},
}
_TENSORS = ("self", "other", "result", "exponent", "mat2", "vec", "tensor", "condition")
SAVED_NAMES = _TENSORS + ("dim", "keepdim", "min", "max", "self_sym_sizes", "self_sym_numel")


def _names(node) -> dict:
    """PyTorch's name -> what it reads, for ``node`` ({} for a node that is no op's)."""
    op = node.__dict__.get("op")
    if getattr(op, "_save_inputs", None) is None:       # AccumulateGrad, custom Functions
        return {}
    names = _BY_OP.get(op.name)
    if names is not None:
        return names
    if op.name == "MatMul":         # torch's mm / mv / dot, by the operands' dimensions
        a, b = (len(s) for s in node.shapes)
        return {"self": ("x", 0),
                "tensor" if a == b == 1 else "vec" if b == 1 else "mat2": ("x", 1)}
    count = len(node.shapes)
    return _UNARY if count == 1 else _BINARY if count == 2 else {"result": ("ans",)}


def _source(node, name: str, attr: str):
    """What ``node``'s ``attr`` (``_saved_<name>``) reads, or an AttributeError for a name
    its op does not save (naming those it does)."""
    names = _names(node)
    source = names.get(name)
    if source is not None and _kept(node.op, source):
        return source
    kept = [f"_saved_{n}" for n, s in names.items() if _kept(node.op, s)]
    why = (f" (gpugrad's {node.name()} rule does not keep that value; it keeps "
           f"{', '.join(kept) or 'no value'})" if names else "")
    raise AttributeError(f"'{type(node).__name__}' object has no attribute '{attr}'{why}")


def _kept(op, source) -> bool:
    if source[0] == "x":
        return op._save_all_inputs or source[1] in op._save_inputs
    return op._save_ans if source[0] == "ans" else True


def _saved(node, source):
    """The ``SavedTensor`` behind a tensor ``source`` (None where nothing was saved)."""
    if source[0] == "ans":
        return node._saved_ans
    saved = node._saved_xs
    return saved[source[1]] if source[1] < len(saved) else None


def _freed(node):
    from .saved_tensor import freed_graph_error
    return freed_graph_error(node.name())


class _SavedValue:
    """``node._saved_<name>``: the saved value (unpacked, checked) or the op's parameter."""

    def __init__(self, name: str):
        self.name, self.attr = name, f"_saved_{name}"

    def __get__(self, node, owner=None):
        if node is None:
            return self
        source = _source(node, self.name, self.attr)
        kind = source[0]
        if kind in ("x", "ans"):
            if node._released:
                raise _freed(node)
            saved = _saved(node, source)
            if saved is None:
                return None
            return saved.unpack(node, what=source[1] if kind == "x" else "output")
        if kind == "none":
            return None
        if kind == "param":
            return node.__dict__.get(source[1])
        if kind == "number":
            return _wrap(np.asarray(node.__dict__.get(source[1])))
        if kind == "dim":
            axis = node.__dict__.get("axis")
            if axis is None:
                raise AttributeError(f"'{type(node).__name__}' object has no attribute "
                                     f"'{self.attr}' (a reduction over every dimension)")
            return tuple(axis) if isinstance(axis, (tuple, list)) else (axis,)
        shape = tuple(node.shapes[0])
        if kind == "sizes":
            return shape
        count = 1
        for n in shape:
            count *= n
        return count            # ("numel",)


class _RawSavedValue(_SavedValue):
    """``node._raw_saved_<name>``: a ``RawSaved`` for that saved tensor."""

    def __init__(self, name: str):
        super().__init__(name)
        self.attr = f"_raw_saved_{name}"

    def __get__(self, node, owner=None):
        if node is None:
            return self
        source = _source(node, self.name, self.attr)
        if source[0] not in ("x", "ans"):
            raise AttributeError(f"'{type(node).__name__}' object has no attribute "
                                 f"'{self.attr}' (_saved_{self.name} is not a tensor)")
        return RawSaved(node, source)


class RawSaved:
    """A saved tensor of a node, as PyTorch's ``SavedTensor`` (``grad_fn._raw_saved_self``):
    ``register_hooks(pack_hook, unpack_hook)`` runs ``pack_hook`` on the value at once and
    keeps only what it returns; ``unpack_hook`` gives the value back each time the rule (or
    ``_saved_<name>``) reads it. Before the backward that frees the node's values only."""

    __slots__ = ("_node", "_source")

    def __init__(self, node, source):
        self._node, self._source = node, source

    def register_hooks(self, pack_hook, unpack_hook) -> None:
        node = self._node
        if node._released:
            raise RuntimeError(
                "Calling register_hooks on a saved tensor after it has been freed: the "
                f"values {node.name()} saved were freed by the previous backward(). Register "
                "the hooks before backward(), or pass retain_graph=True to it.")
        saved = _saved(node, self._source)
        if saved is None:
            raise RuntimeError(f"register_hooks: {node.name()} saved no tensor there "
                               f"(it is None)")
        what = self._source[1] if self._source[0] == "x" else "output"
        saved.register_hooks(pack_hook, unpack_hook, node, what)

    def __repr__(self) -> str:
        return f"<RawSaved of {self._node.name()}>"


def _wrap(array):
    from .saved_tensor import _tensor_type
    return _tensor_type()._wrap(array)


def install_saved_names(cls) -> None:
    """Put ``_saved_<name>`` (and ``_raw_saved_<name>`` for tensors) on class ``cls``."""
    for name in SAVED_NAMES:
        setattr(cls, f"_saved_{name}", _SavedValue(name))
    for name in _TENSORS:
        setattr(cls, f"_raw_saved_{name}", _RawSavedValue(name))
