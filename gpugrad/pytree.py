"""A small pytree helper: nested tuples, lists and dicts of leaves (tensors, arrays, numbers).

``gpugrad.func`` uses it so transforms take and return structured arguments, as JAX does.

Example::

    >>> from gpugrad.pytree import tree_flatten, tree_unflatten
    >>> leaves, spec = tree_flatten({"w": 1.0, "b": (2.0, 3.0)})   # dict keys in sorted order
    >>> leaves
    [2.0, 3.0, 1.0]
    >>> tree_unflatten(spec, [10, 20, 30])
    {'b': (10, 20), 'w': 30}
"""

from __future__ import annotations

__all__ = ["tree_flatten", "tree_unflatten", "tree_map", "TreeSpec"]


class TreeSpec:
    """The shape of a pytree: its containers and where the leaves go."""

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
        if self.kind is dict:
            inner = ", ".join(f"{k!r}: {c!r}" for k, c in zip(self.keys, self.children))
            return "{" + inner + "}"
        return f"{self.kind.__name__}({inner})"


def tree_flatten(tree) -> tuple[list, TreeSpec]:
    """The leaves of ``tree`` in order (dicts by sorted key) and its ``TreeSpec``."""
    if isinstance(tree, (tuple, list)):
        leaves, children = [], []
        for item in tree:
            sub_leaves, spec = tree_flatten(item)
            leaves.extend(sub_leaves)
            children.append(spec)
        return leaves, TreeSpec(type(tree), children)
    if isinstance(tree, dict):
        keys = sorted(tree)
        leaves, children = [], []
        for key in keys:
            sub_leaves, spec = tree_flatten(tree[key])
            leaves.extend(sub_leaves)
            children.append(spec)
        return leaves, TreeSpec(dict, children, tuple(keys))
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
    if spec.kind is dict:
        return dict(zip(spec.keys, items)), start
    if hasattr(spec.kind, "_fields"):          # a namedtuple
        return spec.kind(*items), start
    return spec.kind(items), start


def tree_map(fn, tree, *rest):
    """``fn`` applied leaf by leaf to ``tree`` (and to the matching leaves of ``rest``).

    Example::

        >>> from gpugrad.pytree import tree_map
        >>> tree_map(lambda a, b: a + b, {"w": 1, "b": (2, 3)}, {"w": 10, "b": (20, 30)})
        {'b': (22, 33), 'w': 11}
    """
    leaves, spec = tree_flatten(tree)
    others = []
    for other in rest:
        other_leaves, other_spec = tree_flatten(other)
        if other_spec != spec:
            raise ValueError(f"tree structures differ: {spec!r} and {other_spec!r}")
        others.append(other_leaves)
    return tree_unflatten(spec, [fn(*items) for items in zip(leaves, *others)])
