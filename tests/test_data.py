"""gpugrad.data: the batch iterator, the built-in datasets and reading the user's files."""

import numpy as np
import pytest

import gpugrad
from gpugrad import data


def test_loader_covers_every_row_once_per_epoch(device):
    X = gpugrad.arange(10, device=device).reshape(10, 1)
    y = gpugrad.arange(10, device=device)
    loader = data.DataLoader(X, y, batch_size=4, shuffle=True, seed=0)
    assert len(loader) == 3
    epochs = []
    for _ in range(2):
        batches = list(loader)
        assert [len(b[1]) for b in batches] == [4, 4, 2]
        rows = np.concatenate([xb.numpy()[:, 0] for xb, _ in batches])
        labels = np.concatenate([yb.numpy() for _, yb in batches])
        np.testing.assert_array_equal(rows, labels)
        assert sorted(rows.tolist()) == list(range(10))
        epochs.append(rows)
    assert not np.array_equal(epochs[0], epochs[1])       # a new order every epoch
    again = data.DataLoader(X, y, batch_size=4, shuffle=True, seed=0)
    np.testing.assert_array_equal(np.concatenate([b[1].numpy() for b in again]), epochs[0])


def test_loader_drop_last_order_and_resume():
    X = np.arange(10, dtype=np.float32).reshape(10, 1)
    loader = data.DataLoader(X, batch_size=3, drop_last=True)
    assert len(loader) == 3 and [b.shape[0] for b in loader] == [3, 3, 3]
    assert next(iter(loader)).numpy()[:, 0].tolist() == [0, 1, 2]
    first = data.DataLoader(X, batch_size=5, shuffle=True, seed=1)
    list(first)
    state = first.state_dict()
    expected = [b.numpy() for b in first]
    resumed = data.DataLoader(X, batch_size=5, shuffle=True, seed=99)
    resumed.load_state_dict(state)
    for a, b in zip(expected, resumed):
        np.testing.assert_array_equal(a, b.numpy())
    with pytest.raises(ValueError, match="X has 10 rows but y has 3"):
        data.DataLoader(X, np.zeros(3))


def test_digits():
    X, y = data.digits()
    assert X.shape == (1797, 64) and X.dtype == np.float32 and y.dtype == np.int64
    assert X.min() == 0.0 and X.max() == 1.0
    assert np.bincount(y).tolist() == [178, 182, 177, 183, 181, 182, 181, 179, 174, 180]


def test_synthetic_is_deterministic_and_learnable_shaped():
    X, y = data.synthetic(n=5000, features=8, classes=4, seed=3, chunk=1000)
    X2, y2 = data.synthetic(n=5000, features=8, classes=4, seed=3)
    np.testing.assert_array_equal(X, X2)
    np.testing.assert_array_equal(y, y2)
    assert X.shape == (5000, 8) and set(np.unique(y)) == {0, 1, 2, 3}
    assert abs(X.mean()) < 0.05 and abs(X.std() - 1) < 0.05


def test_train_test_split_is_a_partition():
    X, y = np.arange(20).reshape(10, 2), np.arange(10)
    X_train, y_train, X_test, y_test = data.train_test_split(X, y, 0.3, seed=0)
    assert len(y_test) == 3 and sorted(np.concatenate([y_train, y_test])) == list(range(10))
    np.testing.assert_array_equal(X_train[:, 0] // 2, y_train)


def test_load_file_npz_and_csv(tmp_path):
    np.savez(tmp_path / "d.npz", X=np.ones((4, 2), dtype=np.float32), y=np.array([0, 1, 1, 0]))
    X, y = data.load_file(tmp_path / "d.npz")
    assert X.dtype == np.float32 and y.dtype == np.int64 and y.tolist() == [0, 1, 1, 0]
    np.savez(tmp_path / "d64.npz", X=np.ones((2, 2)), y=np.array([0, 1]))
    assert data.load_file(tmp_path / "d64.npz")[0].dtype == np.float64   # kept for --dtype 64
    (tmp_path / "d.csv").write_text("f1,f2,label\n0.5,1.0,2\n1.5,2.0,0\n")
    X, y = data.load_file(tmp_path / "d.csv")
    assert X.tolist() == [[0.5, 1.0], [1.5, 2.0]] and y.tolist() == [2, 0]
    (tmp_path / "plain.csv").write_text("1.5,2.5,1\n3,4,1\n5,6,0\n")   # no header: 3 rows
    X, y = data.load_file(tmp_path / "plain.csv")
    assert X.tolist() == [[1.5, 2.5], [3, 4], [5, 6]] and y.tolist() == [1, 1, 0]


def test_load_file_errors_say_what_is_wrong(tmp_path):
    with pytest.raises(FileNotFoundError, match="data file not found"):
        data.load_file(tmp_path / "none.npz")
    np.savez(tmp_path / "noy.npz", X=np.ones((2, 2)))
    with pytest.raises(data.DataError, match=r"missing array\(s\) \['y'\]"):
        data.load_file(tmp_path / "noy.npz")
    np.savez(tmp_path / "len.npz", X=np.ones((3, 2)), y=np.zeros(2))
    with pytest.raises(data.DataError, match="X has 3 rows but y has 2 labels"):
        data.load_file(tmp_path / "len.npz")
    bad = np.ones((3, 2))
    bad[1, 1] = np.nan
    np.savez(tmp_path / "nan.npz", X=bad, y=np.zeros(3))
    with pytest.raises(data.DataError, match="NaN or infinity .*row 1, column 1"):
        data.load_file(tmp_path / "nan.npz")
    np.savez(tmp_path / "frac.npz", X=np.ones((2, 2)), y=np.array([0.5, 1.0]))
    with pytest.raises(data.DataError, match="whole numbers"):
        data.load_file(tmp_path / "frac.npz")
    (tmp_path / "words.csv").write_text("a,b\nx,y\n")
    with pytest.raises(data.DataError, match=r"words.csv, line 2, column 1 \('a'\): 'x' is not "
                                             r"a number"):
        data.load_file(tmp_path / "words.csv")
    np.savez(tmp_path / "huge.npz", X=np.ones((2, 2)), y=np.array([0, 10**12]))
    with pytest.raises(data.DataError, match="labels are class indices"):
        data.load_file(tmp_path / "huge.npz")
    with pytest.raises(data.DataError, match="is a folder"):
        data.load_file(tmp_path)
