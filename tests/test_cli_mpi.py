"""`mpiexec -n 2 gpugrad train --distributed ...`: an error every rank hits is printed once
(by rank 0), an error of one rank alone is printed once by that rank, naming it."""

from mpi_support import mpirun, needs_mpi

pytestmark = needs_mpi


def errors(done) -> list:
    return [line for line in done.stderr.splitlines() if "error:" in line]


def test_an_error_of_every_rank_is_printed_once(tmp_path):
    done = mpirun(2, "-m", "gpugrad", "train", "--distributed", "--device", "cpu",
                  "--data", "missing.npz", "--out", "o", cwd=tmp_path)
    assert done.returncode == 2
    assert errors(done) == ["gpugrad train: error: data file not found: missing.npz"]
    assert "Abort" not in done.stderr                   # the ranks stopped together


def test_a_usage_error_is_printed_once(tmp_path):
    done = mpirun(2, "-m", "gpugrad", "train", "--distributed", "--epochs", "2.5", cwd=tmp_path)
    assert done.returncode == 2
    assert errors(done) == ["gpugrad train: error: argument --epochs: expected a whole "
                            "number >= 1, got '2.5'"]
    assert done.stderr.count("usage:") == 1


def test_a_diverging_run_is_reported_once(tmp_path):
    done = mpirun(2, "-m", "gpugrad", "train", "--distributed", "--device", "cpu",
                  "--lr", "1e8", "--optimizer", "sgd", "--epochs", "1", "--no-progress",
                  "--out", "o", cwd=tmp_path)
    assert done.returncode == 1
    assert len(errors(done)) == 1 and "the loss became NaN or infinite in epoch 1" \
        in done.stderr, done.stderr


def test_a_batch_size_that_does_not_split_names_the_flag(tmp_path):
    done = mpirun(2, "-m", "gpugrad", "train", "--distributed", "--device", "cpu",
                  "--batch-size", "3", "--epochs", "1", "--no-progress", "--out", "o",
                  cwd=tmp_path)
    assert done.returncode == 2
    assert errors(done) == ["gpugrad train: error: --batch-size 3 (the global batch, shared by "
                            "the ranks) does not split evenly over 2 ranks; use a multiple of "
                            "2 (e.g. --batch-size 2)"]


RANK_ONE_FAILS = """
import sys
from gpugrad import distributed, train_data
from gpugrad.cli import main
real = train_data.load
def load(config):
    if distributed.rank() == 1:
        raise FileNotFoundError("data file not found on this node: mine.npz")
    return real(config)
train_data.load = load
sys.exit(main(sys.argv[1:]))
"""


def test_an_error_of_one_rank_is_printed_once_by_that_rank(tmp_path):
    done = mpirun(2, "-c", RANK_ONE_FAILS, "train", "--distributed", "--device", "cpu",
                  "--out", "o", cwd=tmp_path)
    assert done.returncode == 2
    assert errors(done) == ["gpugrad train: error: rank 1: data file not found on this node: "
                            "mine.npz"]
