"""DataLoader's arguments: PyTorch's positional order (and gpugrad's array form), and the
checks PyTorch makes of them, with its messages.

Example::

    >>> from gpugrad.data.loader_options import bind
    >>> y, options = bind(["a", "b"], (64, True), {})
    >>> y, options["batch_size"], options["shuffle"], options["sampler"]
    (None, 64, True, None)
"""

from __future__ import annotations

import inspect
import numbers

from .. import backend
from ..tensor import Tensor
from .dataset_utils import IterableDataset
from .samplers import is_count as _is_count

__all__ = ["bind", "check_sampling", "is_array", "is_iterable_style", "signature",
           "TORCH_ORDER"]

TORCH_ORDER = ("DataLoader(dataset, batch_size, shuffle, sampler, batch_sampler, num_workers, "
               "collate_fn, pin_memory, drop_last, timeout, worker_init_fn, "
               "multiprocessing_context, generator)")


def _options(batch_size=1, shuffle=None, sampler=None, batch_sampler=None, num_workers=0,
             collate_fn=None, pin_memory=False, drop_last=False, timeout=0,
             worker_init_fn=None, multiprocessing_context=None, generator=None, *,
             prefetch_factor=None, persistent_workers=False, pin_memory_device="",
             in_order=True, seed=None, rank=0, world_size=1):
    """DataLoader's arguments after the dataset, PyTorch's in its order, then gpugrad's."""
    return dict(locals())


def signature() -> inspect.Signature:
    """DataLoader's ``__init__`` as ``help`` and ``inspect`` show it: PyTorch's order, then
    gpugrad's keywords (``y``, also the second positional argument of the array form)."""
    P = inspect.Parameter
    return inspect.Signature([P("self", P.POSITIONAL_OR_KEYWORD),
                              P("dataset", P.POSITIONAL_OR_KEYWORD),
                              *inspect.signature(_options).parameters.values(),
                              P("y", P.KEYWORD_ONLY, default=None)])


def _is_int(value) -> bool:
    return isinstance(value, numbers.Integral) and not isinstance(value, bool)


def is_array(data) -> bool:
    """A tensor, or a NumPy or CuPy array."""
    return isinstance(data, Tensor) or backend.is_array(data)


def bind(dataset, args: tuple, options: dict):
    """``(y, options)`` from the arguments after ``dataset``: PyTorch's order, with ``y``
    first when the first of ``args`` is an array or tensor (so ``DataLoader(X, None)`` is
    ``batch_size=None``, as PyTorch's)."""
    options = dict(options)
    y = options.pop("y", None)
    if args and is_array(args[0]):
        if y is not None:
            raise TypeError("DataLoader got y twice: as the second argument and as y=")
        y, args = args[0], args[1:]       # (a dataset with a y is refused by the caller)
    if len(args) > 12:
        raise TypeError(f"DataLoader takes at most 13 positional arguments after the dataset "
                        f"(14 with y), got {len(args) + 1}: {TORCH_ORDER}")
    try:
        bound = _options(*args, **options)
    except TypeError as exc:
        message = str(exc).replace("_options()", "DataLoader()")
        raise TypeError(f"{message}; after the dataset DataLoader takes PyTorch's order, "
                        f"{TORCH_ORDER}, and for arrays DataLoader(X, y, batch_size, "
                        f"shuffle, ...)") from None
    _check_workers(bound)
    size = bound["batch_size"]
    if is_array(dataset) and isinstance(size, (list, tuple)):
        raise TypeError(f"DataLoader: the argument after X is a {type(size).__name__}, read "
                        f"as batch_size; y must be an array: pass gpugrad.tensor(y)")
    return y, bound


def is_iterable_style(dataset, is_array: bool) -> bool:
    """An ``IterableDataset``, or an object with ``__iter__`` and no ``__getitem__``."""
    if isinstance(dataset, IterableDataset):
        return True
    return not is_array and hasattr(dataset, "__iter__") and not hasattr(dataset,
                                                                         "__getitem__")


def check_sampling(o: dict, iterable: bool) -> None:
    """PyTorch's rules for shuffle, sampler, batch_sampler, batch_size and drop_last, and
    gpugrad's for seed, rank and world_size."""
    batch_size, shuffle, sampler, batch_sampler = (o["batch_size"], o["shuffle"], o["sampler"],
                                                   o["batch_sampler"])
    if iterable:
        for name in ("shuffle", "sampler", "batch_sampler"):
            if o[name] not in (None, False):
                raise ValueError(f"DataLoader with IterableDataset: expected unspecified "
                                 f"{name} option, but got {name}={o[name]!r} (an iterable "
                                 f"dataset is read in its own order)")
    if sampler is not None and shuffle:
        raise ValueError("DataLoader: sampler option is mutually exclusive with shuffle "
                         "(the sampler sets the order; use a RandomSampler to shuffle)")
    for name, value in (("sampler", sampler), ("batch_sampler", batch_sampler)):
        if value is not None and not hasattr(value, "__iter__"):
            raise TypeError(f"DataLoader: {name} must be iterable (a Sampler, or any "
                            f"iterable of indices), got {type(value).__name__}")
    if batch_sampler is not None:
        if batch_size != 1 or shuffle or sampler is not None or o["drop_last"]:
            raise ValueError("DataLoader: batch_sampler option is mutually exclusive with "
                             "batch_size, shuffle, sampler, and drop_last")
        if o["world_size"] != 1:
            raise ValueError("DataLoader: world_size > 1 shares the loader's own batches "
                             "among the ranks; with a batch_sampler give each rank a batch "
                             "sampler of its own samples instead")
    elif batch_size is None:
        if o["drop_last"] or o["world_size"] != 1:
            raise ValueError("DataLoader: batch_size=None yields samples one by one, so it "
                             "cannot be combined with drop_last or world_size > 1; pass a "
                             "batch size")
    elif not _is_count(batch_size):
        raise ValueError(f"DataLoader: batch_size must be an int >= 1 (or None: no "
                         f"batching), got {batch_size!r}")
    if o["seed"] is not None and o["generator"] is not None:
        raise ValueError("DataLoader: pass seed= or generator=, not both (each sets the "
                         "shuffled order)")
    if o["seed"] is not None and (sampler is not None or batch_sampler is not None):
        raise ValueError("DataLoader: seed= seeds shuffle=True's order, and a sampler draws "
                         "its own; give the sampler a generator= instead")
    rank, world_size = o["rank"], o["world_size"]
    if not _is_count(world_size) or not _is_int(rank) or not 0 <= rank < world_size:
        raise ValueError(f"DataLoader: need 0 <= rank < world_size, got rank {rank} and "
                         f"world_size {world_size}")
    if batch_size is not None and batch_sampler is None and batch_size % world_size:
        nearest = batch_size - batch_size % world_size or world_size
        raise ValueError(f"DataLoader: the global batch size {batch_size} does not split "
                         f"evenly over {world_size} ranks; use a multiple of {world_size} "
                         f"(e.g. {nearest})")


def _check_workers(o: dict) -> None:
    """PyTorch's worker options, checked as PyTorch checks them (they change nothing)."""
    num_workers, timeout, worker_init_fn = o["num_workers"], o["timeout"], o["worker_init_fn"]
    if not _is_int(num_workers) or num_workers < 0:
        raise ValueError(f"DataLoader: num_workers must be an int >= 0, got {num_workers!r}")
    if not isinstance(o["pin_memory"], bool):
        raise TypeError(f"DataLoader: pin_memory must be a bool, got {o['pin_memory']!r}")
    if not isinstance(timeout, numbers.Real) or timeout < 0:
        raise ValueError(f"DataLoader: timeout must be a number >= 0, got {timeout!r}")
    if worker_init_fn is not None and not callable(worker_init_fn):
        raise TypeError(f"DataLoader: worker_init_fn must be callable or None, got "
                        f"{type(worker_init_fn).__name__}")
