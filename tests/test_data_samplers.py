"""torch.utils.data's samplers, dataset classes and DataLoader options in gpugrad.data (and
the gpugrad.utils.data / gpugrad.utils.checkpoint import paths). Random draws come from
gpugrad's streams, so the references are the rules (each index once per permutation, counts,
lengths, frequencies against the weights, reproducible with a seeded generator) and, where
the result is not random, the same call on torch.utils.data when torch is installed."""

import collections
import warnings

import numpy as np
import pytest

import gpugrad
from gpugrad import data


@pytest.fixture
def torch():
    return pytest.importorskip("torch")


def _gen(seed):
    return gpugrad.Generator().manual_seed(seed)


def test_sequential_and_batch_samplers():
    assert list(data.SequentialSampler(range(4))) == [0, 1, 2, 3]
    assert len(data.SequentialSampler("abc")) == 3
    assert list(data.BatchSampler(range(7), 3, False)) == [[0, 1, 2], [3, 4, 5], [6]]
    assert list(data.BatchSampler(range(7), 3, True)) == [[0, 1, 2], [3, 4, 5]]
    assert len(data.BatchSampler(range(7), 3, False)) == 3
    assert len(data.BatchSampler(range(7), 3, True)) == 2
    with pytest.raises(ValueError, match="batch_size should be a positive integer value"):
        data.BatchSampler(range(3), 0, False)
    with pytest.raises(ValueError, match="batch_size should be a positive integer value"):
        data.BatchSampler(range(3), True, False)
    with pytest.raises(TypeError, match="drop_last should be a boolean value"):
        data.BatchSampler(range(3), 2, 1)


def test_batch_sampler_equals_pytorchs(torch):
    for n, size, drop in ((7, 3, False), (7, 3, True), (6, 2, False), (1, 4, False)):
        ours = data.BatchSampler(range(n), size, drop)
        theirs = torch.utils.data.BatchSampler(range(n), size, drop)
        assert list(ours) == list(theirs) and len(ours) == len(theirs)


def test_random_sampler_permutes_each_epoch_and_follows_its_generator():
    sampler = data.RandomSampler(range(10), generator=_gen(0))
    epochs = [list(sampler) for _ in range(3)]
    assert all(sorted(e) == list(range(10)) for e in epochs) and epochs[0] != epochs[1]
    assert list(data.RandomSampler(range(10), generator=_gen(0))) == epochs[0]
    assert len(sampler) == 10 and all(type(i) is int for i in epochs[0])
    gpugrad.manual_seed(2)                                   # no generator: the global stream
    first = list(data.RandomSampler(range(10)))
    gpugrad.manual_seed(2)
    assert list(data.RandomSampler(range(10))) == first
    # every element equally likely first: 4000 epochs over 4 indices, each ~1000 (sd ~27)
    firsts = collections.Counter(next(iter(sampler)) for sampler in
                                 [data.RandomSampler(range(4), generator=_gen(1))] * 4000)
    assert all(abs(firsts[i] - 1000) < 150 for i in range(4))


def test_random_sampler_num_samples_and_replacement():
    # without replacement, num_samples > n: whole permutations, then part of one
    draws = list(data.RandomSampler(range(3), num_samples=8, generator=_gen(1)))
    assert len(draws) == 8 and sorted(draws[:3]) == sorted(draws[3:6]) == [0, 1, 2]
    assert len(set(draws[6:])) == 2
    assert list(data.RandomSampler(range(3), num_samples=2, generator=_gen(1))) == draws[:2]
    # with replacement: independent uniform draws (chi-square-style bound on the counts)
    many = data.RandomSampler(range(5), replacement=True, num_samples=20000, generator=_gen(3))
    counts = np.bincount(list(many), minlength=5)
    assert len(many) == 20000 and counts.sum() == 20000
    assert np.all(np.abs(counts - 4000) < 4 * np.sqrt(20000 * 0.2 * 0.8))
    with pytest.raises(ValueError, match="num_samples should be a positive integer value"):
        data.RandomSampler(range(3), num_samples=0)
    with pytest.raises(TypeError, match="replacement should be a boolean value"):
        data.RandomSampler(range(3), replacement=1)
    with pytest.raises(TypeError, match="takes a gpugrad.Generator"):
        data.RandomSampler(range(3), generator=np.random.default_rng(0))


def test_subset_random_and_weighted_samplers():
    sub = data.SubsetRandomSampler([7, 3, 9, 4], generator=_gen(0))
    epochs = [list(sub) for _ in range(4)]
    assert all(sorted(e) == [3, 4, 7, 9] for e in epochs) and len(sub) == 4
    assert len({tuple(e) for e in epochs}) > 1
    weights = [1.0, 2.0, 3.0, 4.0, 0.0]
    sampler = data.WeightedRandomSampler(weights, 40000, generator=_gen(5))
    freq = np.bincount(list(sampler), minlength=5) / 40000
    np.testing.assert_allclose(freq, np.array(weights) / 10, atol=0.01)
    assert freq[4] == 0 and len(sampler) == 40000
    once = list(data.WeightedRandomSampler(weights, 4, replacement=False, generator=_gen(6)))
    assert sorted(once) == [0, 1, 2, 3]                      # no repeats, never weight 0
    classes = np.array([0] * 90 + [1] * 10)                  # class balancing
    balance = data.WeightedRandomSampler(1.0 / np.bincount(classes)[classes], 10000,
                                         generator=_gen(7))
    assert abs(classes[list(balance)].mean() - 0.5) < 0.03
    with pytest.raises(ValueError, match="weights should be a 1d sequence"):
        data.WeightedRandomSampler([[1.0, 2.0]], 2)
    with pytest.raises(ValueError, match="num_samples should be a positive integer"):
        data.WeightedRandomSampler([1.0], 0)


def test_loader_takes_a_sampler_a_batch_sampler_and_a_generator():
    X, y = np.arange(20.0).reshape(10, 2), np.arange(10)
    ds = data.TensorDataset(X, y)
    loader = data.DataLoader(ds, 3, sampler=data.SubsetRandomSampler([0, 2, 4, 6, 8],
                                                                     generator=_gen(0)))
    labels = [b[1].tolist() for b in loader]
    assert len(loader) == 2 and [len(b) for b in labels] == [3, 2]
    assert sorted(sum(labels, [])) == [0, 2, 4, 6, 8]
    batches = data.BatchSampler(data.SequentialSampler(ds), 4, drop_last=True)
    loader = data.DataLoader(ds, batch_sampler=batches)
    assert len(loader) == 2 and loader.batch_size is None
    assert [b[1].tolist() for b in loader] == [[0, 1, 2, 3], [4, 5, 6, 7]]
    # the same through the collating path and the array form
    for other in (data.DataLoader(ds, batch_sampler=batches, collate_fn=data.default_collate),
                  data.DataLoader(X, y, batch_sampler=batches)):
        assert [b[1].tolist() for b in other] == [[0, 1, 2, 3], [4, 5, 6, 7]]
    seeded = [[b[1].tolist() for b in data.DataLoader(ds, 5, True, generator=_gen(9))]
              for _ in range(2)]
    assert seeded[0] == seeded[1] and sorted(sum(seeded[0], [])) == list(range(10))


@pytest.mark.parametrize("kwargs, message", [
    ({"sampler": [0], "shuffle": True}, "sampler option is mutually exclusive with shuffle"),
    ({"batch_sampler": [[0]], "batch_size": 2}, "batch_sampler option is mutually exclusive"),
    ({"batch_sampler": [[0]], "shuffle": True}, "batch_sampler option is mutually exclusive"),
    ({"batch_sampler": [[0]], "sampler": [0]}, "batch_sampler option is mutually exclusive"),
    ({"batch_sampler": [[0]], "drop_last": True}, "batch_sampler option is mutually exclusive"),
])
def test_loader_option_conflicts_raise_as_pytorch(kwargs, message):
    with pytest.raises(ValueError, match=message):
        data.DataLoader(list(range(4)), **kwargs)


def test_loader_option_conflicts_match_pytorchs_messages(torch):
    for kwargs in ({"sampler": [0], "shuffle": True}, {"batch_sampler": [[0]], "batch_size": 2}):
        with pytest.raises(ValueError) as theirs:
            torch.utils.data.DataLoader(list(range(4)), **kwargs)
        with pytest.raises(ValueError) as ours:
            data.DataLoader(list(range(4)), **kwargs)
        assert str(theirs.value) in str(ours.value)


class Count(data.IterableDataset):
    def __init__(self, n):
        self.n = n

    def __iter__(self):
        return iter(range(self.n))


def test_loader_reads_an_iterable_dataset_in_order():
    assert [b.tolist() for b in data.DataLoader(Count(7), batch_size=3)] == \
        [[0, 1, 2], [3, 4, 5], [6]]
    assert [b.tolist() for b in data.DataLoader(Count(7), 3, drop_last=True)] == \
        [[0, 1, 2], [3, 4, 5]]
    assert list(data.DataLoader(Count(2), batch_size=None)) == [0, 1]
    assert [b.tolist() for b in data.DataLoader((i * i for i in range(3)), 2)] == [[0, 1], [4]]
    with pytest.raises(TypeError, match="has no __len__"):
        len(data.DataLoader(Count(3)))
    for name in ("shuffle", "sampler", "batch_sampler"):
        with pytest.raises(ValueError, match=f"expected unspecified {name} option"):
            data.DataLoader(Count(3), **{name: True if name == "shuffle" else [[0]]})
    shards = [[b.tolist() for b in data.DataLoader(Count(10), 4, rank=r, world_size=2)]
              for r in range(2)]
    assert shards == [[[0, 1], [4, 5], [8]], [[2, 3], [6, 7], [9]]]


def test_iterable_dataset_batches_equal_pytorchs(torch):
    class TorchCount(torch.utils.data.IterableDataset):
        def __iter__(self):
            return iter(range(7))
    for kwargs in ({"batch_size": 3}, {"batch_size": 3, "drop_last": True}):
        ours = [b.tolist() for b in data.DataLoader(Count(7), **kwargs)]
        assert ours == [b.tolist() for b in torch.utils.data.DataLoader(TorchCount(), **kwargs)]


def test_subset_concat_and_stack_datasets():
    letters = ["a", "b", "c", "d"]
    sub = data.Subset(letters, [3, 1])
    assert (len(sub), sub[0], sub[1]) == (2, "d", "b")
    both = data.ConcatDataset([letters, ["e"]])
    assert len(both) == 5 and [both[i] for i in range(5)] == list("abcde")
    assert both[-1] == "e" and both.cumulative_sizes == [4, 5]
    with pytest.raises(ValueError, match="should not exceed dataset length"):
        both[-6]
    with pytest.raises(ValueError, match="empty iterable"):
        data.ConcatDataset([])
    with pytest.raises(TypeError, match="does not support IterableDataset"):
        data.ConcatDataset([letters, Count(3)])
    ds1 = data.TensorDataset(gpugrad.arange(3))
    added = ds1 + ds1
    assert isinstance(added, data.ConcatDataset) and len(added) == 6
    assert added[4][0].item() == 1
    stacked = data.StackDataset(letters, [0, 1, 2, 3])
    assert stacked[2] == ("c", 2) and len(stacked) == 4
    assert data.StackDataset(x=letters, y=range(4))[1] == {"x": "b", "y": 1}
    with pytest.raises(ValueError, match="size mismatch"):
        data.StackDataset(letters, [1])
    with pytest.raises(ValueError, match="both types are given"):
        data.StackDataset(letters, y=letters)
    loader = data.DataLoader(data.Subset(ds1, [2, 0]), batch_size=2)   # a loader reads them
    assert [b[0].tolist() for b in loader] == [[2, 0]]


def test_dataset_classes_equal_pytorchs(torch):
    T = torch.utils.data
    letters = ["a", "b", "c", "d"]
    for ours, theirs in ((data.Subset(letters, [3, 1]), T.Subset(letters, [3, 1])),
                         (data.ConcatDataset([letters, ["e"]]), T.ConcatDataset([letters, ["e"]])),
                         (data.StackDataset(letters, range(4)), T.StackDataset(letters, range(4))),
                         (data.StackDataset(x=letters), T.StackDataset(x=letters))):
        assert len(ours) == len(theirs)
        assert [ours[i] for i in range(len(ours))] == [theirs[i] for i in range(len(theirs))]
    assert data.ConcatDataset([letters, ["e"]]).cumulative_sizes == \
        T.ConcatDataset([letters, ["e"]]).cumulative_sizes


# (n, lengths, split sizes): fractions floor(n * f), the rest one each in turn from the first
SPLITS = [(10, [0.8, 0.2], [8, 2]), (11, [0.25, 0.25, 0.5], [3, 3, 5]),
          (10, [0.33, 0.33, 0.34], [4, 3, 3]), (7, [0.5, 0.5], [4, 3]),
          (5, [2, 3], [2, 3]), (3, [1.0], [3]), (100, [0.7, 0.2, 0.1], [70, 20, 10])]


@pytest.mark.parametrize("n, lengths, sizes", SPLITS)
def test_random_split_sizes_and_partition(n, lengths, sizes):
    parts = data.random_split(range(n), lengths, generator=_gen(0))
    assert [len(p) for p in parts] == sizes
    assert sorted(i for p in parts for i in p) == list(range(n))
    again = data.random_split(range(n), lengths, generator=_gen(0))
    assert [list(p) for p in again] == [list(p) for p in parts]


@pytest.mark.parametrize("n, lengths, sizes", SPLITS)
def test_random_split_sizes_equal_pytorchs(torch, n, lengths, sizes):
    assert [len(p) for p in torch.utils.data.random_split(range(n), lengths)] == sizes


def test_random_split_errors_and_warnings():
    with pytest.raises(ValueError, match="does not equal the length"):
        data.random_split(range(5), [2, 2])
    with pytest.raises(ValueError, match="fraction at index 1 is not between 0 and 1"):
        data.random_split(range(5), [0.5, 1.5, -1.0])
    with pytest.warns(UserWarning, match="Length of split at index 1 is 0"):
        data.random_split(range(1), [0.5, 0.5])
    gpugrad.manual_seed(1)                                   # no generator: the global stream
    first = [list(p) for p in data.random_split(range(6), [3, 3])]
    gpugrad.manual_seed(1)
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        assert [list(p) for p in data.random_split(range(6), [3, 3])] == first


def test_torch_import_paths():
    import gpugrad.utils.checkpoint
    import gpugrad.utils.data
    assert sorted(gpugrad.utils.data.__all__) == sorted(data.__all__)
    assert all(getattr(gpugrad.utils.data, name) is getattr(data, name)
               for name in data.__all__)
    from gpugrad.checkpoint import checkpoint, checkpoint_sequential
    assert gpugrad.utils.checkpoint.checkpoint is checkpoint
    assert gpugrad.utils.checkpoint.checkpoint_sequential is checkpoint_sequential
    assert data.get_worker_info() is None
    x, label = data.default_convert((np.zeros(2), 3))
    assert isinstance(x, gpugrad.Tensor) and label == 3
