"""Where mpiexec is, whether MPI tests can run, and ``mpirun`` to run Python under it
(tests/test_distributed.py, test_cli_mpi.py)."""

import os
import shutil
import subprocess
import sys

import pytest

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))


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


def mpirun(n: int, *args, cwd=ROOT, timeout: int = 120) -> subprocess.CompletedProcess:
    """``mpiexec -n n python *args`` in ``cwd`` with gpugrad importable from this checkout;
    stdout and stderr captured as text. Example: ``mpirun(2, "-m", "gpugrad", "--version")``."""
    return subprocess.run([mpiexec(), "-n", str(n), sys.executable, *args], capture_output=True,
                          text=True, timeout=timeout, cwd=cwd, env=mpi_environment())


def mpi_environment() -> dict:
    """This process's environment with gpugrad importable from this checkout; as root (a
    GPU machine's tests run so), also Open MPI's consent to run as root, without which its
    mpiexec refuses to start (MPICH reads neither variable)."""
    env = dict(os.environ, PYTHONPATH=ROOT)
    if hasattr(os, "geteuid") and os.geteuid() == 0:
        env.update(OMPI_ALLOW_RUN_AS_ROOT="1", OMPI_ALLOW_RUN_AS_ROOT_CONFIRM="1")
    return env
