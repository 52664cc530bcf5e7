"""What a DataLoader's batches hold, as PyTorch's: copies of the data (in-place changes to a
batch leave the dataset alone), the data's graph when it requires grad, collated numbers and
arrays in PyTorch's promoted dtype, a default batch size of 1, PyTorch's positional order,
and a shuffled order drawn as each epoch starts. References: hand-derived values and dtypes
(always), the same code on torch.utils.data where torch is installed."""

import numpy as np
import pytest

import gpugrad
from gpugrad import data


@pytest.fixture
def torch():
    return pytest.importorskip("torch")


def _epochs_with_inplace_changes(loader, epochs=2):
    """The batches of each epoch as lists, each batch zeroed in place after it is read (as a
    loop doing ``xb /= 255`` or ``xb.sub_(mean)`` would)."""
    seen = []
    for _ in range(epochs):
        seen.append([])
        for batch in loader:
            xb = batch[0] if isinstance(batch, (list, tuple)) else batch
            seen[-1].append(xb.tolist())
            xb.mul_(0)
    return seen


@pytest.mark.parametrize("form", ["TensorDataset", "tensor", "numpy", "numpy X, y"])
def test_unshuffled_batches_are_copies_of_the_data(form):
    X = np.arange(6, dtype=np.float32).reshape(3, 2)
    make = {"TensorDataset": lambda: data.TensorDataset(gpugrad.tensor(X)),
            "tensor": lambda: gpugrad.tensor(X), "numpy": lambda: X,
            "numpy X, y": lambda: X}[form]
    dataset = make()
    loader = data.DataLoader(dataset, np.arange(3), batch_size=2) if form == "numpy X, y" \
        else data.DataLoader(dataset, batch_size=2)
    first = [[[0.0, 1.0], [2.0, 3.0]], [[4.0, 5.0]]]             # the rows, by hand
    assert _epochs_with_inplace_changes(loader) == [first, first]
    np.testing.assert_array_equal(X, np.arange(6).reshape(3, 2))  # the user's array too


def test_unshuffled_batches_equal_pytorchs(torch):
    X = np.arange(6, dtype=np.float32).reshape(3, 2)
    ours = data.DataLoader(data.TensorDataset(gpugrad.tensor(X)), batch_size=2)
    theirs = torch.utils.data.DataLoader(torch.utils.data.TensorDataset(torch.tensor(X)),
                                         batch_size=2)
    assert _epochs_with_inplace_changes(ours) == _epochs_with_inplace_changes(theirs)


@pytest.mark.parametrize("how", [{}, {"shuffle": True, "seed": 1}, {"sampler": [2, 0]},
                                 {"batch_size": None}])
@pytest.mark.parametrize("form", ["TensorDataset", "X, y"])
def test_batches_of_data_that_requires_grad_stay_in_its_graph(form, how):
    X = gpugrad.tensor([[1.0, 2.0], [3.0, 4.0], [5.0, 6.0]], requires_grad=True)
    y = gpugrad.arange(3)
    kwargs = {"batch_size": 2, **how}
    loader = data.DataLoader(data.TensorDataset(X, y), **kwargs) if form == "TensorDataset" \
        else data.DataLoader(X, y, **kwargs)
    loss, rows = 0.0, []
    for xb, yb in loader:
        assert xb.requires_grad and not yb.requires_grad
        loss = loss + ((yb.float() + 1).reshape(*yb.shape, *[1] * (xb.ndim - yb.ndim)) *
                       xb).sum()
        rows += np.atleast_1d(yb.numpy()).tolist()
    loss.backward()
    expected = np.zeros((3, 2))                   # d/dX_i of sum (i + 1) X_i = i + 1
    for i in rows:
        expected[i] += i + 1
    np.testing.assert_array_equal(X.grad.numpy(), expected)
    with gpugrad.no_grad():
        assert not next(iter(loader))[0].requires_grad


def test_grad_through_a_loader_equals_pytorchs(torch):
    values = np.array([[1.0, -2.0], [0.5, 3.0], [2.0, 1.0]], dtype=np.float32)
    X, tX = gpugrad.tensor(values, requires_grad=True), torch.tensor(values, requires_grad=True)
    for loader, w in ((data.DataLoader(data.TensorDataset(X), batch_size=2), X),
                      (torch.utils.data.DataLoader(torch.utils.data.TensorDataset(tX),
                                                   batch_size=2), tX)):
        total = sum(((xb[0] ** 2).sum() for xb in loader), 0.0)
        total.backward()
    np.testing.assert_allclose(X.grad.numpy(), tX.grad.numpy())


# (batch, values, dtype): hand-derived from PyTorch's rules (a first Python float gives
# float64; otherwise every element's dtype promotes: int -> int64, float -> float32)
NUMBERS = [
    ([1, 2.5], [1.0, 2.5], "float32"),
    ([2.5, 1], [2.5, 1.0], "float64"),
    ([True, 2], [1, 2], "int64"),
    ([True, False], [True, False], "bool"),
    ([True, 2.5], [1.0, 2.5], "float32"),
    ([1, np.float32(2.5)], [1.0, 2.5], "float32"),
    ([1, np.float64(2.5)], [1.0, 2.5], "float64"),
    ([np.int64(1), np.float32(2.5)], [1.0, 2.5], "float32"),
    ([np.float32(1), np.float64(2)], [1.0, 2.0], "float64"),
    ([np.float16(1), np.int64(3)], [1.0, 3.0], "float16"),
    ([np.uint8(1), np.int8(2)], [1, 2], "int16"),
    ([np.int8(1), 300], [1, 300], "int64"),
    ([2**40, 1], [2**40, 1], "int64"),
]


@pytest.mark.parametrize("batch, values, dtype", NUMBERS, ids=[str(c[0]) for c in NUMBERS])
def test_default_collate_promotes_numbers(batch, values, dtype):
    out = data.default_collate(batch)
    assert str(out.dtype) == dtype and out.tolist() == values


def test_collated_labels_keep_their_fractions():
    samples = [{"t": 0}, {"t": 0.5}, {"t": 1}]              # soft labels 0 / 0.5 / 1
    (batch,) = list(data.DataLoader(samples, batch_size=3))
    assert batch["t"].tolist() == [0.0, 0.5, 1.0] and batch["t"].dtype == np.float32


@pytest.mark.parametrize("batch, values, dtype", NUMBERS, ids=[str(c[0]) for c in NUMBERS])
def test_default_collate_of_numbers_equals_pytorchs(torch, batch, values, dtype):
    theirs = torch.utils.data.default_collate(batch)
    assert str(theirs.dtype) == "torch." + dtype and theirs.tolist() == values


def _arrays_cases():
    i64 = gpugrad.int64
    return [
        ([gpugrad.ones(2), gpugrad.zeros(2, dtype=i64)], [[1.0, 1.0], [0.0, 0.0]], "float32"),
        ([gpugrad.tensor(1), gpugrad.tensor(2.5)], [1.0, 2.5], "float32"),
        ([np.array([1]), np.array([2.5], np.float32)], [[1.0], [2.5]], "float32"),
        ([np.array([1.0]), np.array([2], np.int32)], [[1.0], [2.0]], "float64"),
        ([np.array([1], np.uint8), np.array([1], np.int8)], [[1], [1]], "int16"),
        ([gpugrad.tensor([True]), gpugrad.tensor([2], dtype=gpugrad.uint8)], [[1], [2]],
         "uint8"),
        ([gpugrad.ones(2, dtype=gpugrad.float16), gpugrad.ones(2, dtype=i64)],
         [[1.0, 1.0], [1.0, 1.0]], "float16"),
    ]


def test_default_collate_stacks_in_the_promoted_dtype():
    for batch, values, dtype in _arrays_cases():
        out = data.default_collate(batch)
        assert (str(out.dtype), out.tolist()) == (dtype, values), batch
    w = gpugrad.ones(2, requires_grad=True)               # mixed dtypes in the graph too
    out = data.default_collate([w * 2, gpugrad.arange(2)])
    assert out.dtype == np.float32 and out.tolist() == [[2.0, 2.0], [0.0, 1.0]]
    out.sum().backward()
    np.testing.assert_array_equal(w.grad.numpy(), [2.0, 2.0])


def test_default_collate_keeps_strings_in_sequences_as_tuples():
    assert data.default_collate([["a", "b"], ["c", "d"]]) == [("a", "c"), ("b", "d")]
    tags, labels = data.default_collate([("a", 1), ("c", 2)])
    assert tags == ("a", "c") and labels.tolist() == [1, 2]
    assert data.default_collate([{"s": "a"}, {"s": "b"}]) == {"s": ["a", "b"]}
    assert data.default_collate(["a", "b"]) == ["a", "b"]


def test_default_collate_of_arrays_equals_pytorchs(torch):
    collate = torch.utils.data.default_collate
    for batch, values, dtype in _arrays_cases():
        theirs = collate([torch.from_numpy(b.numpy()) if isinstance(b, gpugrad.Tensor) else b
                          for b in batch])
        assert (str(theirs.dtype), theirs.tolist()) == ("torch." + dtype, values)
    for batch in ([["a", "b"], ["c", "d"]], [("a", 1), ("c", 2)], [{"s": "a"}, {"s": "b"}]):
        ours, theirs = data.default_collate(batch), collate(batch)
        if isinstance(theirs, list):
            assert [o if isinstance(o, tuple) else o.tolist() for o in ours] == \
                [t if isinstance(t, tuple) else t.tolist() for t in theirs]
        else:
            assert ours == theirs


class Rows:
    """Ten samples: (features [i, -i] float32, label i) as NumPy arrays and ints."""

    def __len__(self):
        return 10

    def __getitem__(self, i):
        if not 0 <= i < 10:
            raise IndexError(i)
        return np.array([i, -i], dtype=np.float32), i


def test_default_batch_size_is_one():
    ds = data.TensorDataset(gpugrad.zeros(10, 2))
    batches = list(data.DataLoader(ds))
    assert len(batches) == 10 and all(b[0].shape == (1, 2) for b in batches)
    correct = sum(int(yb.item()) for _, yb in data.DataLoader(Rows()))   # .item() works
    assert correct == sum(range(10))


def test_default_batch_size_equals_pytorchs(torch):
    ours = [(tuple(x.shape), y.tolist()) for x, y in data.DataLoader(Rows())]
    theirs = [(tuple(x.shape), y.tolist()) for x, y in torch.utils.data.DataLoader(Rows())]
    assert ours == theirs and len(ours) == 10


def test_positional_arguments_take_pytorchs_order():
    ds = Rows()
    shuffled = list(data.DataLoader(ds, 4, True))           # (dataset, batch_size, shuffle)
    labels = [b[1].tolist() for b in shuffled]
    assert [len(b) for b in labels] == [4, 4, 2]
    assert sorted(sum(labels, [])) == list(range(10))
    in_order = [b[1].tolist() for b in data.DataLoader(ds, 4, False)]
    assert in_order == [[0, 1, 2, 3], [4, 5, 6, 7], [8, 9]]
    by_sampler = data.DataLoader(ds, 2, False, [9, 1, 5])    # then sampler
    assert [b[1].tolist() for b in by_sampler] == [[9, 1], [5]]
    by_batches = data.DataLoader(ds, 1, False, None, [[3, 2], [7]])   # then batch_sampler
    assert [b[1].tolist() for b in by_batches] == [[3, 2], [7]]
    # drop_last is the 9th: (batch_size, shuffle, sampler, batch_sampler, num_workers,
    # collate_fn, pin_memory, drop_last)
    assert len(list(data.DataLoader(ds, 4, False, None, None, 0, None, False, True))) == 2
    # gpugrad's array form: y after X, then the same order
    X, y = np.arange(20.0).reshape(10, 2), np.arange(10)
    assert sorted(np.concatenate([b[1].numpy() for b in data.DataLoader(X, y, 4, True)])
                  .tolist()) == list(range(10))
    assert [b.shape for b in data.DataLoader(X, 4)] == [(4, 2), (4, 2), (2, 2)]
    assert [b[1].tolist() for b in data.DataLoader(X, y, 5, False)] == [[0, 1, 2, 3, 4],
                                                                        [5, 6, 7, 8, 9]]
    assert [b[0].tolist() for b in data.DataLoader(dataset=ds, batch_size=10)] == \
        [[[i, -i] for i in range(10)]]


def test_positional_errors_name_pytorchs_order():
    order = r"DataLoader\(dataset, batch_size, shuffle, sampler, batch_sampler"
    with pytest.raises(TypeError, match="multiple values for argument 'shuffle'.*" + order):
        data.DataLoader(Rows(), 4, True, shuffle=False)
    with pytest.raises(TypeError, match="at most 13 positional.*" + order):
        data.DataLoader(Rows(), *[None] * 13)
    with pytest.raises(TypeError, match="unexpected keyword argument 'bath_size'.*" + order):
        data.DataLoader(Rows(), bath_size=4)
    with pytest.raises(TypeError, match="y twice"):
        data.DataLoader(np.zeros((3, 1)), np.zeros(3), y=np.zeros(3))


def test_signature_shows_pytorchs_order():
    import inspect
    names = list(inspect.signature(data.DataLoader).parameters)
    assert names[:13] == ["dataset", "batch_size", "shuffle", "sampler", "batch_sampler",
                          "num_workers", "collate_fn", "pin_memory", "drop_last", "timeout",
                          "worker_init_fn", "multiprocessing_context", "generator"]


def test_positional_order_equals_pytorchs(torch):
    import inspect
    theirs = inspect.signature(torch.utils.data.DataLoader).parameters
    ours = inspect.signature(data.DataLoader).parameters
    assert [n for n in theirs if theirs[n].kind == theirs[n].POSITIONAL_OR_KEYWORD] == \
        [n for n in ours if ours[n].kind == ours[n].POSITIONAL_OR_KEYWORD]
    assert all(ours[n].default == theirs[n].default for n in theirs)
    for args in ((4, False), (3, False, [9, 1, 5, 2]), (1, False, None, [[3, 2], [7]])):
        ours = [b[1].tolist() for b in data.DataLoader(Rows(), *args)]
        theirs = [b[1].tolist() for b in torch.utils.data.DataLoader(Rows(), *args)]
        assert ours == theirs
    assert len(list(torch.utils.data.DataLoader(Rows(), 4, True))) == \
        len(list(data.DataLoader(Rows(), 4, True))) == 3


def test_manual_seed_before_an_epoch_reproduces_that_epoch():
    loader = data.DataLoader(gpugrad.arange(8), 8, True)
    gpugrad.manual_seed(3)
    first = next(iter(loader)).tolist()
    second = next(iter(loader)).tolist()
    gpugrad.manual_seed(3)
    assert next(iter(loader)).tolist() == first != second
    assert sorted(first) == list(range(8))
    g = gpugrad.Generator().manual_seed(4)                   # generator=: its own stream
    by_generator = data.DataLoader(gpugrad.arange(8), 8, True, generator=g)
    epoch = next(iter(by_generator)).tolist()
    g.manual_seed(4)
    assert next(iter(by_generator)).tolist() == epoch
    with pytest.raises(ValueError, match="seed= or generator=, not both"):
        data.DataLoader(gpugrad.arange(8), 8, True, generator=g, seed=1)
    with pytest.raises(TypeError, match="takes a gpugrad.Generator"):
        data.DataLoader(gpugrad.arange(8), 8, True, generator=np.random.default_rng(0))


def test_a_seeded_loader_resumes_and_an_unseeded_state_has_no_generator():
    seeded = data.DataLoader(gpugrad.arange(9), 3, True, seed=5)
    list(seeded)
    state = seeded.state_dict()
    rest = [b.tolist() for b in seeded]
    fresh = data.DataLoader(gpugrad.arange(9), 3, True)     # no seed: takes the saved one
    fresh.load_state_dict(state)
    assert [b.tolist() for b in fresh] == rest and fresh.epoch == 2
    assert data.DataLoader(gpugrad.arange(9), 3, True).state_dict() == {"epoch": 0,
                                                                        "rng": None}
