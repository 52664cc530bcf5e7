"""gpugrad.pytree: dicts keep their insertion order (as torch.utils._pytree), an OrderedDict
stays one, tree_map matches dicts by key; checked by hand and against torch's pytree."""

from collections import OrderedDict, namedtuple

import pytest

from gpugrad.pytree import tree_flatten, tree_leaves_like, tree_map, tree_unflatten

Pair = namedtuple("Pair", "first second")


@pytest.fixture
def torch():
    return pytest.importorskip("torch")


TREES = [
    {"w": 1, "b": (2, 3)},
    {"z": [1, {"y": 2, "x": 3}], "a": 4},
    OrderedDict([("weight", 1), ("bias", 2)]),
    (Pair(1, {"k": 2, "c": 3}), [4]),
    {2: "two", 1: "one", "s": "str"},            # keys that do not sort together
]


@pytest.mark.parametrize("tree", TREES)
def test_leaves_in_insertion_order_and_round_trip(tree):
    leaves, spec = tree_flatten(tree)
    rebuilt = tree_unflatten(spec, leaves)
    assert rebuilt == tree and type(rebuilt) is type(tree)
    if isinstance(tree, dict):
        assert list(rebuilt) == list(tree)          # the same key order
    assert tree_flatten({"w": 1, "b": (2, 3)})[0] == [1, 2, 3]


@pytest.mark.parametrize("tree", TREES)
def test_leaves_as_torch_pytree(torch, tree):
    from torch.utils import _pytree
    assert tree_flatten(tree)[0] == _pytree.tree_flatten(tree)[0]
    rebuilt = tree_unflatten(tree_flatten(tree)[1], tree_flatten(tree)[0])
    assert type(rebuilt) is type(_pytree.tree_unflatten(*_pytree.tree_flatten(tree)))


def test_ordered_dict_stays_ordered_and_spec_differs_from_dict():
    od = OrderedDict([("b", 1), ("a", 2)])
    out = tree_map(lambda v: v * 10, od)
    assert isinstance(out, OrderedDict) and list(out.items()) == [("b", 10), ("a", 20)]
    assert tree_flatten(od)[1] != tree_flatten(dict(od))[1]
    assert "OrderedDict" in repr(tree_flatten(od)[1])


def test_key_order_is_part_of_the_spec_as_in_torch():
    assert tree_flatten({"a": 1, "b": 2})[1] != tree_flatten({"b": 1, "a": 2})[1]
    assert tree_flatten({"a": 1, "b": 2})[1] == tree_flatten({"a": 5, "b": 6})[1]


def test_tree_map_matches_dicts_by_key_in_the_first_trees_order(torch):
    from torch.utils import _pytree
    a, b = {"w": 1, "b": (2, 3)}, {"b": (20, 30), "w": 10}
    out = tree_map(lambda x, y: x + y, a, b)
    assert out == {"w": 11, "b": (22, 33)} and list(out) == ["w", "b"]
    assert list(_pytree.tree_map(lambda x, y: x + y, a, b)) == list(out)


def test_tree_map_by_key_without_torch():
    out = tree_map(lambda x, y: (x, y), {"p": 1, "q": 2}, {"q": "Q", "p": "P"})
    assert out == {"p": (1, "P"), "q": (2, "Q")} and list(out) == ["p", "q"]


@pytest.mark.parametrize("other", [
    {"w": 1},                       # a key missing
    {"w": 1, "c": 2},               # another key
    [1, 2],                         # another container
    {"w": (1, 2), "b": 2},          # a container where the spec has a leaf
])
def test_leaves_like_raises_for_other_structures(other):
    _, spec = tree_flatten({"w": 0, "b": 0})
    with pytest.raises(ValueError, match="tree structures differ"):
        tree_leaves_like(spec, other)
    with pytest.raises(ValueError, match="tree structures differ"):
        tree_map(lambda x, y: x, {"w": 0, "b": 0}, other)


def test_leaves_like_takes_spec_order():
    _, spec = tree_flatten({"w": 0, "b": [0, {"y": 0, "x": 0}]})
    assert tree_leaves_like(spec, {"b": [2, {"x": 4, "y": 3}], "w": 1}) == [1, 2, 3, 4]
