"""How checkpoint_sequential splits its functions (as PyTorch's does), and that nn.MLP's
checkpoint=k segments whole Linear + ReLU blocks, each still one fused linear_relu record."""

from collections import Counter

import numpy as np
import pytest

import gpugrad
from gpugrad import nn
from gpugrad.autograd.walk import nodes_behind
from gpugrad.checkpoint import checkpoint_sequential, segment_bounds

F = nn.functional

# PyTorch's rule, derived by hand: segments - 1 checkpointed chunks of n // segments, the
# last chunk (the rest, possibly longer) outside any checkpoint. (n, segments): bounds.
SPLITS = {
    (32, 6): [(0, 5), (5, 10), (10, 15), (15, 20), (20, 25), (25, 32)],     # issue 17's case
    (33, 6): [(0, 5), (5, 10), (10, 15), (15, 20), (20, 25), (25, 33)],     # mlp-deep's blocks
    (65, 6): [(0, 10), (10, 20), (20, 30), (30, 40), (40, 50), (50, 65)],
    (10, 3): [(0, 3), (3, 6), (6, 10)],
    (7, 3): [(0, 2), (2, 4), (4, 7)],
    (9, 2): [(0, 4), (4, 9)],
    (9, 4): [(0, 2), (2, 4), (4, 6), (6, 9)],
    (9, 6): [(0, 1), (1, 2), (2, 3), (3, 4), (4, 5), (5, 9)],
    (5, 2): [(0, 2), (2, 5)],
    (4, 4): [(0, 1), (1, 2), (2, 3), (3, 4)],
    (5, 1): [(0, 5)],
}


@pytest.mark.parametrize("n, segments", sorted(SPLITS))
def test_segment_bounds_split_as_pytorch(n, segments):
    assert segment_bounds(n, segments) == SPLITS[n, segments]


def test_segment_bounds_edge_cases():
    # more segments than functions: one function each (PyTorch refuses); nothing to split
    assert segment_bounds(3, 5) == [(0, 1), (1, 2), (2, 3)]
    assert segment_bounds(0, 2) == []
    with pytest.raises(ValueError, match="segments must be >= 1"):
        checkpoint_sequential([], 0, gpugrad.ones(2))


def _runs(n, segments, run_sequential, tensor):
    """How often each of ``n`` functions runs in one forward and backward through
    ``run_sequential(functions, segments, x)``: 2 inside a checkpoint (run again in the
    backward), 1 outside. Each function saves its input for backward."""
    runs = [0] * n

    def function(i):
        def f(t):
            runs[i] += 1
            return (t * t).tanh()
        return f

    x = tensor([0.1, -0.2])
    run_sequential([function(i) for i in range(n)], segments, x).sum().backward()
    return runs


def _expected_runs(n, segments):
    bounds = SPLITS[n, segments]
    inside = {i for start, stop in bounds[:-1] for i in range(start, stop)}
    return [2 if i in inside else 1 for i in range(n)]


@pytest.mark.parametrize("n, segments", sorted(SPLITS))
def test_checkpoint_sequential_checkpoints_all_chunks_but_the_last(n, segments):
    def tensor(values):
        return gpugrad.tensor(values, dtype="float64", requires_grad=True)
    assert _runs(n, segments, checkpoint_sequential, tensor) == \
        _expected_runs(n, segments)


@pytest.mark.parametrize("n, segments", sorted(SPLITS))
def test_checkpoint_sequential_runs_what_pytorchs_runs(n, segments):
    torch = pytest.importorskip("torch")

    def torch_sequential(functions, segments, x):
        return torch.utils.checkpoint.checkpoint_sequential(functions, segments, x,
                                                            use_reentrant=False)

    def tensor(values):
        return torch.tensor(values, dtype=torch.float64, requires_grad=True)

    def gpugrad_tensor(values):
        return gpugrad.tensor(values, dtype="float64", requires_grad=True)

    assert _runs(n, segments, checkpoint_sequential, gpugrad_tensor) == \
        _runs(n, segments, torch_sequential, tensor)


# ---------------------------------------------------------------------------------------------
# nn.MLP: blocks, fused records and gradients under checkpoint=k
# ---------------------------------------------------------------------------------------------

def _mlp(depth=9, width=6, dropout=0.0):
    gpugrad.manual_seed(0)
    return nn.MLP([width] * depth + [3], dropout=dropout, dtype="float64")


def _step(model, seed=1):
    """The loss's graph node names and the parameters' gradients of one step."""
    model.zero_grad()
    gpugrad.manual_seed(seed)
    x = gpugrad.randn(5, model.sizes[0], dtype="float64")
    loss = F.cross_entropy(model(x), gpugrad.tensor([0, 1, 2, 1, 0]))
    names = Counter(node.name() for node in nodes_behind([loss.grad_fn]))
    loss.backward()
    return names, [p.grad.numpy().copy() for p in model.parameters()]


def test_mlp_blocks_hold_a_linear_and_what_follows_it():
    model = _mlp(depth=4, dropout=0.2)
    blocks = model.blocks()
    assert [[type(m).__name__ for m in block] for block in blocks] == \
        [["Linear", "ReLU", "Dropout"]] * 3 + [["Linear"]]
    assert [m for block in blocks for m in block] == list(model.layers)   # the same modules


@pytest.mark.parametrize("segments", [1, 2, 3, 4, 6, 9, 20])
def test_mlp_checkpoint_keeps_every_linear_relu_fused_and_the_gradients(segments):
    """9 blocks: 8 Linear + ReLU pairs and the last Linear. With any number of segments each
    pair is still one LinearRelu node (no ReLU node alone), and the gradients equal those
    without checkpointing (float64)."""
    model = _mlp()
    names, reference = _step(model)
    assert (names["LinearReluBackward"], names["LinearBackward"]) == (8, 1)
    model.checkpoint = segments
    names, got = _step(model)
    assert (names["LinearReluBackward"], names["LinearBackward"]) == (8, 1)
    assert names["ReluBackward"] == 0
    for a, b in zip(reference, got):
        np.testing.assert_allclose(b, a, rtol=1e-12, atol=1e-15)


@pytest.mark.parametrize("segments", [2, 4, 6])
def test_mlp_checkpoint_segments_its_blocks_as_pytorch(monkeypatch, segments):
    """Each block's Linear runs twice (forward, recomputation) in the checkpointed chunks of
    PyTorch's split of the 9 blocks, once in the last: counted where a block's weight enters
    F.linear_relu or F.linear."""
    model = _mlp()
    index = {id(block[0].weight): i for i, block in enumerate(model.blocks())}
    runs = [0] * len(index)
    for name in ("linear", "linear_relu"):
        original = getattr(F, name)

        def counted(x, weight, *args, _original=original, **kwargs):
            runs[index[id(weight)]] += 1
            return _original(x, weight, *args, **kwargs)
        monkeypatch.setattr(F, name, counted)
    model.checkpoint = segments
    _step(model)
    assert runs == _expected_runs(9, segments)


def test_a_sequential_runs_its_chunks_fused_but_split_where_pytorch_splits():
    """checkpoint_sequential on the flat Sequential (L R L R L R L R L, 9 modules) splits it
    as PyTorch does, and each chunk runs as a Sequential: a pair inside a chunk is one
    LinearRelu node; a pair the split cuts (3 segments: 0-2, 3-5, 6-8 cut modules 2 and 3)
    runs as Linear, then Relu."""
    gpugrad.manual_seed(0)
    model = nn.MLP([4] * 5 + [2], dtype="float64")
    x = gpugrad.randn(3, 4, dtype="float64")
    for segments, fused in [(2, 4), (3, 3)]:
        out = checkpoint_sequential(model.layers, segments, x).sum()
        names = Counter(node.name() for node in nodes_behind([out.grad_fn]))
        assert names["LinearReluBackward"] == fused
        assert names["ReluBackward"] == 4 - fused


def test_mlp_blocks_are_made_once_and_again_when_the_layers_change():
    model = nn.MLP([4, 8, 8, 3])
    first, second = model.blocks(), model.blocks()
    assert first is not second and all(a is b for a, b in zip(first, second))
    layers = list(model.layers)
    layers[2] = nn.Linear(8, 8)                       # a new layer: new blocks
    model.layers = nn.Sequential(*layers)
    third = model.blocks()
    assert third[1][0] is layers[2] and third[0][0] is first[0][0]
    assert list(model.state_dict()) == [f"layers.{i}.{p}" for i in (0, 2, 4)
                                        for p in ("weight", "bias")]   # blocks not modules
