"""Where mpiexec is and whether MPI tests can run (tests/test_distributed.py, test_cli_mpi.py)."""

import os
import shutil
import sys

import pytest


def mpiexec():
    """The mpiexec beside this Python (the mpich wheel's), else the one on PATH, else None."""
    beside = os.path.join(os.path.dirname(sys.executable), "mpiexec")
    return beside if os.path.exists(beside) else shutil.which("mpiexec")


def have_mpi() -> bool:
    try:
        import mpi4py  # noqa: F401
    except ImportError:
        return False
    return mpiexec() is not None


needs_mpi = pytest.mark.skipif(not have_mpi(), reason="mpi4py/mpiexec not installed "
                               "(pip install '.[distributed]')")
