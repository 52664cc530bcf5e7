"""DataLoader and collate fixes of the second data review: a TensorDataset subclass's own
__getitem__, ``DataLoader(X, None)``, a generator read twice, defaultdict batches."""

from collections import defaultdict

import numpy as np
import pytest

import gpugrad
from gpugrad import data


class Noisy(data.TensorDataset):
    def __getitem__(self, i):
        x, y = super().__getitem__(i)
        return x * 10, y


X = np.arange(4, dtype=np.float32).reshape(2, 2)


def test_subclass_getitem_runs():
    loader = data.DataLoader(Noisy(gpugrad.tensor(X), gpugrad.arange(2)), 2)
    assert [b[0].tolist() for b in loader] == [[[0, 10], [20, 30]]]
    unbatched = data.DataLoader(Noisy(gpugrad.tensor(X), gpugrad.arange(2)), None)
    assert [x.tolist() for x, _ in unbatched] == [[0, 10], [20, 30]]


def test_reassigned_tensors_are_read_each_epoch():
    ds = data.TensorDataset(gpugrad.tensor(X))
    loader = data.DataLoader(ds, 2)
    assert [b[0].tolist() for b in loader] == [[[0, 1], [2, 3]]]
    ds.tensors = (gpugrad.tensor(X + 5),)
    assert [b[0].tolist() for b in loader] == [[[5, 6], [7, 8]]]


def test_subclass_matches_torch():
    torch = pytest.importorskip("torch")

    class TorchNoisy(torch.utils.data.TensorDataset):
        def __getitem__(self, i):
            x, y = super().__getitem__(i)
            return x * 10, y
    theirs = [b[0].tolist() for b in torch.utils.data.DataLoader(
        TorchNoisy(torch.tensor(X), torch.arange(2)), 2)]
    ours = [b[0].tolist() for b in data.DataLoader(Noisy(gpugrad.tensor(X),
                                                         gpugrad.arange(2)), 2)]
    assert ours == theirs


def test_array_with_none_is_unbatched():
    X3 = gpugrad.tensor(np.arange(6, dtype=np.float32).reshape(3, 2))
    assert [b.shape for b in data.DataLoader(X3, None)] == [(2,), (2,), (2,)]
    y = gpugrad.arange(3)
    assert [tuple(b.shape) for b, _ in data.DataLoader(X3, y, 2)] == [(2, 2), (1, 2)]


def test_array_with_none_matches_torch():
    torch = pytest.importorskip("torch")
    X3 = np.arange(6, dtype=np.float32).reshape(3, 2)
    theirs = [tuple(b.shape) for b in torch.utils.data.DataLoader(torch.tensor(X3), None)]
    assert [b.shape for b in data.DataLoader(gpugrad.tensor(X3), None)] == theirs


def test_list_y_says_to_make_a_tensor():
    with pytest.raises(TypeError, match=r"pass gpugrad.tensor\(y\)"):
        data.DataLoader(gpugrad.zeros(3, 2), [0, 1, 2], 2)
    with pytest.raises(TypeError, match=r"pass gpugrad.tensor\(y\)"):
        data.DataLoader(gpugrad.zeros(3, 2), y=[0, 1, 2])


def test_generator_second_epoch_raises():
    loader = data.DataLoader((i for i in range(5)), 2)
    assert [b.tolist() for b in loader] == [[0, 1], [2, 3], [4]]
    with pytest.raises(RuntimeError, match="IterableDataset whose __iter__"):
        list(loader)


def test_default_collate_keeps_defaultdict_and_mutable_sequences():
    batch = data.default_collate([defaultdict(int, a=1), defaultdict(int, a=2)])
    assert type(batch) is defaultdict and batch["a"].tolist() == [1, 2]
    assert batch["missing"] == 0                       # the default factory is kept
    converted = data.default_convert(defaultdict(int, a=np.float32(1)))
    assert type(converted) is defaultdict


def test_default_collate_defaultdict_matches_torch():
    torch = pytest.importorskip("torch")
    theirs = torch.utils.data.default_collate([defaultdict(int, a=1)] * 2)
    ours = data.default_collate([defaultdict(int, a=1)] * 2)
    assert type(ours) is type(theirs) and ours["a"].tolist() == theirs["a"].tolist()


def test_shared_permutation_and_count_helpers():
    from gpugrad.data import samplers
    g = gpugrad.Generator().manual_seed(3)
    order = samplers.permutation(6, g)
    assert sorted(order.tolist()) == list(range(6)) and order.dtype == np.int64
    assert samplers.is_count(1) and not samplers.is_count(True) and not samplers.is_count(0)
