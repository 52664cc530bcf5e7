"""Process-wide settings under PyTorch's names: ``set_printoptions``, ``get_num_threads`` /
``set_num_threads`` and ``use_deterministic_algorithms`` /
``are_deterministic_algorithms_enabled``. A floor-1 module: it imports no other part of
gpugrad, and ops read the determinism flag through ``alert_not_deterministic``.

- Printing: a tensor's repr is NumPy's ``array2string`` of its values, so
  ``set_printoptions`` sets NumPy's print options (for arrays too). ``profile="default"``
  restores gpugrad's defaults, which are NumPy's (8 digits), not PyTorch's 4.
- Threads: NumPy's BLAS (OpenBLAS or MKL) fixes its thread count when it loads, from
  ``OMP_NUM_THREADS`` (or ``OPENBLAS_NUM_THREADS`` / ``MKL_NUM_THREADS``). With the
  ``threadpoolctl`` package installed, ``set_num_threads`` changes it at run time;
  without it, it warns once that it has no effect and says to set the variable before
  Python starts. CuPy's kernels do not use CPU threads.
- Determinism: on the CPU every gpugrad op is deterministic. On CUDA, the ops that add into
  repeated places use atomic adds, whose order (so float rounding) varies from run to run:
  the backward of indexing with repeated integer indices, ``scatter_add``/``index_add``/
  ``index_put(accumulate=True)``/``scatter_reduce("sum"/"mean")``, ``bincount`` with weights
  and ``embedding``'s backward. Each of them calls ``alert_not_deterministic(op,
  device_type)`` where it runs on CUDA (ScatterAdd, scatter_reduce's adds, bincount), which
  raises when the flag is on, as PyTorch does (warns with ``warn_only=True``).

Example::

    >>> gpugrad.use_deterministic_algorithms(True)
    >>> gpugrad.are_deterministic_algorithms_enabled()
    True
    >>> gpugrad.use_deterministic_algorithms(False)
"""

from __future__ import annotations

import os
import sys
import warnings

import numpy as np

__all__ = ["set_printoptions", "get_num_threads", "set_num_threads",
           "use_deterministic_algorithms", "are_deterministic_algorithms_enabled",
           "is_deterministic_algorithms_warn_only_enabled", "alert_not_deterministic"]

_DEFAULTS = dict(precision=8, threshold=1000, edgeitems=3, linewidth=75, suppress=False,
                 formatter=None)
_PROFILES = {"default": {}, "short": dict(precision=2, edgeitems=2),
             "full": dict(threshold=sys.maxsize)}


def set_printoptions(precision=None, threshold=None, edgeitems=None, linewidth=None,
                     profile=None, sci_mode=None):
    """How tensors print, with ``torch.set_printoptions``'s keywords: ``precision`` digits,
    ``threshold`` elements before summarising, ``edgeitems`` shown at each end when
    summarised, ``linewidth`` characters; ``profile`` "default", "short" or "full" first;
    ``sci_mode`` True (always scientific), False (never) or None (NumPy's choice). Sets
    NumPy's print options, which the tensor repr uses.

    Example::

        >>> gpugrad.set_printoptions(precision=2)
        >>> gpugrad.tensor([1.23456])
        tensor([1.23], device='cpu', dtype=float32)
        >>> gpugrad.set_printoptions(profile="default")
    """
    options = {}
    if profile is not None:
        if profile not in _PROFILES:
            raise ValueError(f"set_printoptions: profile must be 'default', 'short' or 'full', "
                             f"got {profile!r}")
        options = dict(_DEFAULTS, **_PROFILES[profile])
    for name, value in (("precision", precision), ("threshold", threshold),
                        ("edgeitems", edgeitems), ("linewidth", linewidth)):
        if value is not None:
            options[name] = sys.maxsize if value == float("inf") else int(value)
    if sci_mode is not None or profile is not None:
        digits = options.get("precision", np.get_printoptions()["precision"])
        options["suppress"] = sci_mode is False
        options["formatter"] = ({"float_kind": lambda v: f"{v:.{digits}e}"} if sci_mode
                                else None)
    np.set_printoptions(**options)


_threads = {"warned": False}


def _threadpoolctl():
    try:
        import threadpoolctl
    except ImportError:
        return None
    return threadpoolctl


def get_num_threads() -> int:
    """The number of threads NumPy's BLAS uses, as ``torch.get_num_threads``: read from the
    BLAS through ``threadpoolctl`` where it is installed, else from ``OMP_NUM_THREADS`` /
    ``OPENBLAS_NUM_THREADS`` / ``MKL_NUM_THREADS``, else the number of CPUs.

    Example::

        >>> gpugrad.get_num_threads() >= 1
        True
    """
    tpc = _threadpoolctl()
    if tpc is not None:
        counts = [pool["num_threads"] for pool in tpc.threadpool_info()
                  if pool.get("user_api") == "blas"]
        if counts:
            return int(max(counts))
    for name in ("OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS", "OMP_NUM_THREADS"):
        value = os.environ.get(name, "").strip()
        if value.isdigit() and int(value) > 0:
            return int(value)
    return os.cpu_count() or 1


def set_num_threads(n: int) -> None:
    """Limit NumPy's BLAS to ``n`` threads, as ``torch.set_num_threads``: through
    ``threadpoolctl`` where it is installed; without it a BLAS cannot be changed once
    loaded, so this warns (once) and does nothing: set ``OMP_NUM_THREADS=n`` before Python
    starts instead.

    Example::

        >>> # changes the whole process's BLAS (or warns), so not run here:
        >>> gpugrad.set_num_threads(2)      # doctest: +SKIP
    """
    if not isinstance(n, int) or isinstance(n, bool) or n < 1:
        raise ValueError(f"set_num_threads expects a positive integer, got {n!r}")
    tpc = _threadpoolctl()
    if tpc is not None:
        tpc.threadpool_limits(limits=n, user_api="blas")
        return
    if not _threads["warned"]:
        _threads["warned"] = True
        warnings.warn(f"gpugrad.set_num_threads({n}) has no effect: NumPy's BLAS fixes its "
                      f"thread count when it loads. Set OMP_NUM_THREADS={n} in the "
                      f"environment before starting Python, or install threadpoolctl",
                      UserWarning, stacklevel=2)


_deterministic = {"on": False, "warn_only": False}


def use_deterministic_algorithms(mode: bool, *, warn_only: bool = False) -> None:
    """Ask for deterministic ops, as ``torch.use_deterministic_algorithms``: afterwards an op
    that adds into repeated places with atomics on CUDA (see this module's docstring)
    raises a RuntimeError there (``warn_only=True``: warns). CPU ops are all deterministic.

    Example::

        >>> gpugrad.use_deterministic_algorithms(True, warn_only=True)
        >>> gpugrad.settings.is_deterministic_algorithms_warn_only_enabled()
        True
        >>> gpugrad.use_deterministic_algorithms(False)
    """
    if not isinstance(mode, bool):
        raise TypeError(f"use_deterministic_algorithms expects a bool, got "
                        f"{type(mode).__name__}")
    _deterministic["on"], _deterministic["warn_only"] = mode, bool(warn_only) and mode


def are_deterministic_algorithms_enabled() -> bool:
    """Whether ``use_deterministic_algorithms(True)`` is in effect."""
    return _deterministic["on"]


def is_deterministic_algorithms_warn_only_enabled() -> bool:
    """Whether it is in effect with ``warn_only=True``."""
    return _deterministic["warn_only"]


def alert_not_deterministic(op: str, device_type: str) -> None:
    """For an op without a deterministic implementation on ``device_type``: raise (or warn,
    with ``warn_only``) when deterministic algorithms were asked for and the device is
    CUDA, as PyTorch's ``alertNotDeterministic``; nothing otherwise.

    Example::

        >>> from gpugrad.settings import alert_not_deterministic
        >>> alert_not_deterministic("scatter_add", "cpu")      # CPU: always fine
    """
    if not _deterministic["on"] or device_type != "cuda":
        return
    message = (f"{op} does not have a deterministic implementation on CUDA (it adds with "
               f"atomics), but you set 'gpugrad.use_deterministic_algorithms(True)'. Turn it "
               f"off for this op, or pass warn_only=True to be warned instead")
    if _deterministic["warn_only"]:
        warnings.warn(message, UserWarning, stacklevel=3)
        return
    raise RuntimeError(message)
