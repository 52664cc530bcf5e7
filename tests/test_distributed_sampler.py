"""DistributedSampler against the rules of torch's, derived by hand: every rank reads its
share of one order, padded by wrapping around (or cut with drop_last), the order the same on
every rank and new with each set_epoch."""

import pytest

import gpugrad
import gpugrad.distributed as dist
from gpugrad.data import DataLoader, DistributedSampler, TensorDataset


def shares(n, replicas, **kwargs):
    return [list(DistributedSampler(range(n), replicas, r, **kwargs)) for r in range(replicas)]


def test_unshuffled_shares_interleave_and_wrap_around_to_equal_lengths():
    assert shares(10, 3, shuffle=False) == [[0, 3, 6, 9], [1, 4, 7, 0], [2, 5, 8, 1]]
    assert shares(2, 5, shuffle=False) == [[0], [1], [0], [1], [0]]     # padding > length
    assert shares(10, 3, shuffle=False, drop_last=True) == [[0, 3, 6], [1, 4, 7], [2, 5, 8]]
    assert [len(DistributedSampler(range(10), 3, r)) for r in range(3)] == [4, 4, 4]
    assert len(DistributedSampler(range(10), 3, 0, drop_last=True)) == 3


def test_shuffled_shares_cover_the_dataset_once_per_epoch_and_change_with_set_epoch():
    first = shares(12, 4, seed=7)
    assert sorted(i for share in first for i in share) == list(range(12))
    assert first == shares(12, 4, seed=7)                       # every rank, the same order
    assert first != shares(12, 4, seed=8)
    samplers = [DistributedSampler(range(12), 4, r, seed=7) for r in range(4)]
    for s in samplers:
        s.set_epoch(1)
    second = [list(s) for s in samplers]
    assert sorted(i for share in second for i in share) == list(range(12))
    assert second != first and second == [list(s) for s in samplers]


def test_a_loader_reads_its_share_in_batches():
    data = TensorDataset(gpugrad.arange(8) * 10)
    loader = DataLoader(data, batch_size=2, sampler=DistributedSampler(data, 2, 1,
                                                                       shuffle=False))
    assert [b[0].tolist() for b in loader] == [[10, 30], [50, 70]]


def test_replicas_and_rank_come_from_the_process_group(monkeypatch):
    monkeypatch.setattr(dist, "is_initialized", lambda: True)
    monkeypatch.setattr(dist, "world_size", lambda: 2)
    monkeypatch.setattr(dist, "rank", lambda: 1)
    assert list(DistributedSampler(range(5), shuffle=False)) == [1, 3, 0]
    assert list(DistributedSampler(range(5), rank=0, shuffle=False)) == [0, 2, 4]


def test_bad_arguments_are_named(monkeypatch):
    with pytest.raises(ValueError, match=r"Invalid rank 3, rank should be in the interval "
                                         r"\[0, 2\]"):
        DistributedSampler(range(4), 3, 3)
    monkeypatch.setattr(dist, "is_initialized", lambda: False)
    with pytest.raises(RuntimeError, match="pass num_replicas= and rank="):
        DistributedSampler(range(4))
    with pytest.raises(ValueError, match="num_replicas should be a positive integer"):
        DistributedSampler(range(4), 0, 0)


def test_torch_gives_the_same_unshuffled_shares():
    pytest.importorskip("torch")
    from torch.utils.data import DistributedSampler as Theirs
    for n, replicas, drop_last in [(10, 3, False), (10, 3, True), (2, 5, False), (9, 3, True)]:
        assert shares(n, replicas, shuffle=False, drop_last=drop_last) == \
            [list(Theirs(range(n), replicas, r, shuffle=False, drop_last=drop_last))
             for r in range(replicas)]
