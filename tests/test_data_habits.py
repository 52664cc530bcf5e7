"""PyTorch habits of gpugrad.data: TensorDataset, DataLoader over any map-style dataset
(``__len__`` + ``__getitem__``) and default_collate. References: the samples themselves
(every row once per epoch, batches equal to stacked samples), hand-written dtypes, and
PyTorch's default_collate where the venv has it (an optional extra check)."""

import collections

import numpy as np
import pytest

import gpugrad
from gpugrad import data


class Pairs:
    """A plain map-style dataset (no base class): sample i is (features, label) with NumPy
    float32 features [i, 10 i] and a Python int label i % 3."""

    def __init__(self, n):
        self.n = n

    def __len__(self):
        return self.n

    def __getitem__(self, i):
        if not 0 <= i < self.n:
            raise IndexError(i)
        return np.array([i, 10 * i], dtype=np.float32), i % 3


def test_tensor_dataset_rows_and_size_errors():
    X, y = gpugrad.randn(6, 2), gpugrad.arange(6)
    ds = data.TensorDataset(X, y)
    assert len(ds) == 6 and ds.tensors[0] is X
    x3, y3 = ds[3]
    np.testing.assert_array_equal(x3.numpy(), X.numpy()[3])
    assert y3.item() == 3
    assert data.TensorDataset(np.zeros((4, 2)))[1][0].shape == (2,)      # arrays are wrapped
    with pytest.raises(ValueError, match=r"sizes \[6, 5\].*\(6, 2\), \(5,\)"):
        data.TensorDataset(X, gpugrad.arange(5))
    with pytest.raises(ValueError, match="at least one tensor"):
        data.TensorDataset()
    with pytest.raises(ValueError, match="argument 1 is 0-d"):
        data.TensorDataset(X, gpugrad.tensor(1.0))
    with pytest.raises(TypeError, match="argument 0 is a list"):
        data.TensorDataset([1, 2, 3])


def test_loader_over_tensor_dataset_covers_each_row_once(device):
    X = gpugrad.arange(10, device=device, dtype="float32").reshape(10, 1)
    y = gpugrad.arange(10, device=device)
    loader = data.DataLoader(data.TensorDataset(X, y), 4, shuffle=True, seed=0)  # positional
    assert loader.batch_size == 4 and len(loader) == 3
    batches = list(loader)
    assert all(isinstance(b, list) and len(b) == 2 for b in batches)        # as PyTorch
    assert [b[1].shape for b in batches] == [(4,), (4,), (2,)]
    assert all(str(t.device).startswith(device) for b in batches for t in b)
    rows = np.concatenate([xb.numpy()[:, 0] for xb, _ in batches])
    np.testing.assert_array_equal(rows, np.concatenate([yb.numpy() for _, yb in batches]))
    assert sorted(rows.tolist()) == list(range(10)) and rows.tolist() != list(range(10))


def test_loader_over_a_plain_dataset_collates_like_pytorch():
    loader = data.DataLoader(Pairs(5), batch_size=2, drop_last=False)
    batches = list(loader)
    assert len(loader) == 3 and [len(b[1]) for b in batches] == [2, 2, 1]
    xb, yb = batches[1]
    assert xb.dtype == np.float32 and xb.shape == (2, 2)
    np.testing.assert_array_equal(xb.numpy(), [[2, 20], [3, 30]])
    assert yb.dtype == np.int64 and yb.numpy().tolist() == [2, 0]
    assert [len(b[1]) for b in data.DataLoader(Pairs(5), batch_size=2, drop_last=True)] == [2, 2]


def test_shuffle_is_seeded_by_gpugrads_generator():
    def order(seed=None):
        loader = data.DataLoader(Pairs(20), batch_size=20, shuffle=True, seed=seed)
        return next(iter(loader))[0].numpy()[:, 0].tolist()

    gpugrad.manual_seed(7)
    first = order()
    gpugrad.manual_seed(7)
    assert order() == first                          # manual_seed reproduces the order
    assert order() != first                          # the next loader draws another seed
    assert sorted(first) == list(range(20))
    assert order(seed=3) == order(seed=3)            # an explicit seed ignores the generator
    loader = data.DataLoader(Pairs(20), batch_size=20, shuffle=True, seed=3)
    epochs = [next(iter(loader))[1].numpy().tolist() for _ in range(2)]
    assert epochs[0] != epochs[1]                    # a new order every epoch


def test_fast_path_equals_the_collating_path(device):
    X = gpugrad.randn(11, 3, device=device)
    y = gpugrad.arange(11, device=device)
    ds = data.TensorDataset(X, y)
    fast = data.DataLoader(ds, batch_size=4, shuffle=True, seed=5)
    slow = data.DataLoader(ds, batch_size=4, shuffle=True, seed=5,
                           collate_fn=data.default_collate)
    assert fast._tensor_dataset and not slow._tensor_dataset
    for a, b in zip(fast, slow):
        for t, u in zip(a, b):
            assert t.dtype == u.dtype and t.device == u.device
            np.testing.assert_array_equal(t.numpy(), u.numpy())


def test_custom_collate_fn_and_distributed_shares():
    loader = data.DataLoader(Pairs(4), batch_size=2, collate_fn=lambda samples: samples)
    first = next(iter(loader))
    assert isinstance(first, list) and first[1][1] == 1          # the raw samples
    seen = []
    for rank in range(2):
        shard = data.DataLoader(Pairs(8), batch_size=4, shuffle=True, seed=1, rank=rank,
                                world_size=2)
        seen.append([b[0].numpy()[:, 0].tolist() for b in shard])
    whole = [b[0].numpy()[:, 0].tolist() for b in
             data.DataLoader(Pairs(8), batch_size=4, shuffle=True, seed=1)]
    assert [r0 + r1 for r0, r1 in zip(*seen)] == whole


Point = collections.namedtuple("Point", ["x", "label"])


def test_default_collate_structures_and_dtypes():
    c = data.default_collate
    assert c([1.5, 2.0]).dtype == np.float64                     # Python floats: float64
    assert c([1, 2]).dtype == np.int64 and c([True, False]).dtype == np.bool_
    assert c([np.float32(1), np.float32(2)]).dtype == np.float32
    assert c(["a", "b"]) == ["a", "b"]
    batch = c([{"x": np.zeros(2), "tag": "p"}, {"x": np.ones(2), "tag": "q"}])
    assert set(batch) == {"x", "tag"} and batch["x"].shape == (2, 2) and batch["tag"] == ["p",
                                                                                          "q"]
    points = c([Point(np.zeros(3), 1), Point(np.ones(3), 2)])
    assert isinstance(points, Point) and points.x.shape == (2, 3)
    assert points.label.numpy().tolist() == [1, 2]
    nested = c([(gpugrad.ones(2), [3, 4.0]), (gpugrad.zeros(2), [5, 6.0])])
    assert isinstance(nested, list) and nested[0].shape == (2, 2)
    assert nested[1][0].numpy().tolist() == [3, 5] and nested[1][1].dtype == np.float64


def test_default_collate_keeps_the_graph_and_device(device):
    w = gpugrad.ones(3, device=device, requires_grad=True)
    stacked = data.default_collate([w * 2, w * 3])
    assert stacked.shape == (2, 3) and str(stacked.device).startswith(device)
    stacked.sum().backward()
    np.testing.assert_array_equal(w.grad.numpy(), [5.0, 5.0, 5.0])


def test_collate_and_loader_errors_say_what_is_wrong():
    c = data.default_collate
    with pytest.raises(RuntimeError, match=r"sample 1 has shape \(3,\) but sample 0 has \(2,\)"):
        c([np.zeros(2), np.zeros(3)])
    with pytest.raises(RuntimeError, match=r"different lengths \[1, 2\]"):
        c([(1,), (1, 2)])
    with pytest.raises(TypeError, match="holds a object.*collate_fn"):
        c([object(), object()])
    with pytest.raises(TypeError, match="dtype <U1"):
        c([np.array(["a"]), np.array(["b"])])
    with pytest.raises(TypeError, match="not a dataset.*__len__ and __getitem__.*__iter__"):
        data.DataLoader(object())
    with pytest.raises(TypeError, match="and a y as well"):
        data.DataLoader(Pairs(3), np.zeros(3))
    with pytest.raises(TypeError, match="multiple values for argument 'batch_size'.*"
                                        r"DataLoader\(dataset, batch_size, shuffle, sampler"):
        data.DataLoader(Pairs(3), 2, batch_size=4)
    with pytest.raises(ValueError, match="batch_size must be an int >= 1"):
        data.DataLoader(Pairs(3), batch_size=0)


def test_batch_size_none_yields_samples_unbatched(device):
    # a dataset: each sample converted (NumPy -> tensors, tuple -> list), ints left alone
    loader = data.DataLoader(Pairs(3), batch_size=None)
    assert loader.batch_size is None and len(loader) == 3
    samples = list(loader)
    assert [type(s) for s in samples] == [list] * 3
    for i, (x, label) in enumerate(samples):
        assert isinstance(x, gpugrad.Tensor) and x.dtype == np.float32
        assert x.numpy().tolist() == [i, 10 * i] and label == i % 3
    # arrays: one row at a time, X[i] or (X[i], y[i]); shuffle covers each row once
    X = gpugrad.arange(12, device=device).reshape(6, 2)
    y = gpugrad.arange(6, device=device)
    rows = list(data.DataLoader(X, y, batch_size=None, shuffle=True, seed=2))
    assert all(isinstance(r, tuple) and r[0].shape == (2,) and r[1].shape == () for r in rows)
    assert sorted(int(label.item()) for _, label in rows) == list(range(6))
    assert all(x.numpy().tolist() == [2 * int(lb.item()), 2 * int(lb.item()) + 1]
               for x, lb in rows)
    assert str(rows[0][0].device).startswith(device)
    assert [x.tolist() for x in data.DataLoader(X, batch_size=None)][:2] == [[0, 1], [2, 3]]
    pair = next(iter(data.DataLoader(data.TensorDataset(X, y), batch_size=None)))
    assert isinstance(pair, list) and pair[0].numpy().tolist() == [0, 1]
    assert list(data.DataLoader(Pairs(2), batch_size=None, collate_fn=lambda s: s[1])) == [0, 1]
    for kwargs in ({"drop_last": True}, {"world_size": 2}):
        with pytest.raises(ValueError, match="batch_size=None yields samples one by one"):
            data.DataLoader(Pairs(4), batch_size=None, **kwargs)
    with pytest.raises(TypeError, match="multiple values for argument 'batch_size'"):
        data.DataLoader(Pairs(3), 2, batch_size=None)


def test_default_batch_size_is_1_as_pytorch():
    # PyTorch's default: an evaluation loop `for x, y in DataLoader(ds)` sees one sample a step
    assert data.DataLoader(Pairs(5)).batch_size == 1
    assert [len(b[1]) for b in data.DataLoader(Pairs(5))] == [1] * 5
    assert [b.shape for b in data.DataLoader(np.zeros((3, 2)))] == [(1, 2)] * 3
    assert len(data.DataLoader(data.TensorDataset(gpugrad.zeros(4, 2)))) == 4
    assert "defaults to 1, as PyTorch's" in " ".join(data.DataLoader.__doc__.split())


def test_unbatched_loader_agrees_with_pytorch():
    torch = pytest.importorskip("torch")

    class Mixed(Pairs):
        def __getitem__(self, i):
            x, label = super().__getitem__(i)
            return x, label, {"w": np.float64(i) / 4}

    ours = list(data.DataLoader(Mixed(3), batch_size=None))
    theirs = list(torch.utils.data.DataLoader(Mixed(3), batch_size=None))
    assert len(ours) == len(theirs) == 3 and type(ours[0]) is type(theirs[0]) is list
    for (x, label, d), (tx, tlabel, td) in zip(ours, theirs):
        assert type(label) is type(tlabel) and label == tlabel
        for a, b in ((x, tx), (d["w"], td["w"])):
            assert str(a.dtype) == str(b.dtype).replace("torch.", "")
            np.testing.assert_array_equal(a.numpy(), b.numpy())


def test_default_collate_agrees_with_pytorch():
    torch = pytest.importorskip("torch")
    from torch.utils.data import default_collate as torch_collate
    samples = [(np.arange(3, dtype=np.float32) + i, i, float(i) / 2, {"m": np.int16(i)})
               for i in range(4)]
    ours, theirs = data.default_collate(samples), torch_collate(samples)
    assert type(ours) is type(theirs) is list
    for a, b in zip(ours[:3] + [ours[3]["m"]], theirs[:3] + [theirs[3]["m"]]):
        assert str(a.dtype) == str(b.dtype).replace("torch.", "")
        np.testing.assert_array_equal(a.numpy(), b.numpy())
    loader = torch.utils.data.DataLoader(Pairs(5), batch_size=2)
    for ours_batch, their_batch in zip(data.DataLoader(Pairs(5), batch_size=2), loader):
        for a, b in zip(ours_batch, their_batch):
            assert str(a.dtype) == str(b.dtype).replace("torch.", "")
            np.testing.assert_array_equal(a.numpy(), b.numpy())


def test_load_file_names_files_of_the_wrong_kind(tmp_path):
    """A .npy array, text named .npz and an X without feature columns: each refused with
    the file's name and what load_file reads (no hint at unpickling)."""
    np.save(tmp_path / "a.npy", np.zeros((3, 2)))
    (tmp_path / "t.npz").write_text("not a zip")
    np.savez(tmp_path / "x0.npz", X=np.zeros((5, 0)), y=np.zeros(5, dtype=np.int64))
    wanted = {"a.npy": "is a NumPy .npy file", "t.npz": "is a text file, not an .npz archive",
              "x0.npz": "X has 0 feature columns"}
    for name, message in wanted.items():
        with pytest.raises(gpugrad.data.DataError, match=message) as caught:
            gpugrad.data.load_file(tmp_path / name)
        assert name in str(caught.value) and "pickle" not in str(caught.value)
