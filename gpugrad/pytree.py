"""A small pytree helper: nested tuples, lists and dicts of leaves (tensors, arrays, numbers).

``gpugrad.func`` uses it so transforms take and return structured arguments, as JAX and
``torch.func`` do. Dicts keep their insertion order, as ``torch.utils._pytree``'s (JAX sorts
the keys): a dict comes back with its keys in the order it went in, so
``zip(params.values(), grads.values())`` pairs each tensor with its own gradient. An
``OrderedDict`` comes back an ``OrderedDict``; other dict subclasses come back plain dicts.
Two dicts with the same keys in another order have different ``TreeSpec``s (as torch's);
``tree_map`` and ``tree_leaves_like`` match dicts by key, so their order does not matter there.

Example::

    >>> from gpugrad.pytree import tree_flatten, tree_unflatten
    >>> leaves, spec = tree_flatten({"w": 1.0, "b": (2.0, 3.0)})   # dicts in insertion order
    >>> leaves
    [1.0, 2.0, 3.0]
    >>> tree_unflatten(spec, [10, 20, 30])
    {'w': 10, 'b': (20, 30)}
"""

from __future__ import annotations

from collections import OrderedDict

__all__ = ["tree_flatten", "tree_unflatten", "tree_map", "tree_leaves_like", "TreeSpec"]


class TreeSpec:
    """The shape of a pytree: its containers (``kind``: None for a leaf, else the container
    type), their dict ``keys`` in order, and where the leaves go."""

    __slots__ = ("kind", "children", "keys", "num_leaves")

    def __init__(self, kind, children=(), keys=None):
        self.kind, self.children, self.keys = kind, tuple(children), keys
        self.num_leaves = 1 if kind is None else sum(c.num_leaves for c in self.children)

    def __eq__(self, other) -> bool:
        return (isinstance(other, TreeSpec) and self.kind == other.kind
                and self.keys == other.keys and self.children == other.children)

    def __repr__(self) -> str:
        if self.kind is None:
            return "*"
        inner = ", ".join(repr(c) for c in self.children)
        if self.keys is not None:
            inner = ", ".join(f"{k!r}: {c!r}" for k, c in zip(self.keys, self.children))
            return "{" + inner + "}" if self.kind is dict else f"OrderedDict({{{inner}}})"
        return f"{self.kind.__name__}({inner})"


def tree_flatten(tree) -> tuple[list, TreeSpec]:
    """The leaves of ``tree`` in order (dicts in their insertion order) and its
    ``TreeSpec``."""
    if isinstance(tree, (tuple, list)):
        leaves, children = [], []
        for item in tree:
            sub_leaves, spec = tree_flatten(item)
            leaves.extend(sub_leaves)
            children.append(spec)
        return leaves, TreeSpec(type(tree), children)
    if isinstance(tree, dict):
        leaves, children = [], []
        for value in tree.values():
            sub_leaves, spec = tree_flatten(value)
            leaves.extend(sub_leaves)
            children.append(spec)
        kind = OrderedDict if isinstance(tree, OrderedDict) else dict
        return leaves, TreeSpec(kind, children, tuple(tree))
    return [tree], TreeSpec(None)


def tree_unflatten(spec: TreeSpec, leaves) -> object:
    """Rebuild a tree of ``spec``'s shape from ``leaves``."""
    leaves = list(leaves)
    if len(leaves) != spec.num_leaves:
        raise ValueError(f"expected {spec.num_leaves} leaves for {spec!r}, got {len(leaves)}")
    tree, _ = _build(spec, leaves, 0)
    return tree


def _build(spec: TreeSpec, leaves: list, start: int):
    if spec.kind is None:
        return leaves[start], start + 1
    items = []
    for child in spec.children:
        item, start = _build(child, leaves, start)
        items.append(item)
    if spec.keys is not None:                   # dict or OrderedDict
        return spec.kind(zip(spec.keys, items)), start
    if hasattr(spec.kind, "_fields"):          # a namedtuple
        return spec.kind(*items), start
    return spec.kind(items), start


def tree_leaves_like(spec: TreeSpec, tree) -> list:
    """The leaves of ``tree`` in the order of ``spec``'s: the same structure, except that a
    dict's keys may come in another order (matched by key, as ``torch.utils._pytree``'s
    ``tree_map`` does). Raises ValueError, naming both structures, when they differ.

    Example::

        >>> from gpugrad.pytree import tree_flatten, tree_leaves_like
        >>> _, spec = tree_flatten({"w": 0, "b": 0})
        >>> tree_leaves_like(spec, {"b": 2, "w": 1})
        [1, 2]
    """
    leaves: list = []
    if not _collect(spec, tree, leaves):
        raise ValueError(f"tree structures differ: {spec!r} and {tree_flatten(tree)[1]!r}")
    return leaves


def _collect(spec: TreeSpec, tree, leaves: list) -> bool:
    if spec.kind is None:
        leaves.append(tree)
        return not isinstance(tree, (tuple, list, dict))
    if spec.keys is not None:
        if not isinstance(tree, dict) or len(tree) != len(spec.keys) or any(
                k not in tree for k in spec.keys):
            return False
        return all(_collect(c, tree[k], leaves) for k, c in zip(spec.keys, spec.children))
    if type(tree) is not spec.kind or len(tree) != len(spec.children):
        return False
    return all(_collect(c, t, leaves) for c, t in zip(spec.children, tree))


def tree_map(fn, tree, *rest):
    """``fn`` applied leaf by leaf to ``tree`` (and to the matching leaves of ``rest``, their
    dicts matched by key); the result has ``tree``'s structure.

    Example::

        >>> from gpugrad.pytree import tree_map
        >>> tree_map(lambda a, b: a + b, {"w": 1, "b": (2, 3)}, {"b": (20, 30), "w": 10})
        {'w': 11, 'b': (22, 33)}
    """
    leaves, spec = tree_flatten(tree)
    others = [leaves if other is tree else tree_leaves_like(spec, other) for other in rest]
    return tree_unflatten(spec, [fn(*items) for items in zip(leaves, *others)])
