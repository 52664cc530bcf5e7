"""Samples into batches, as PyTorch's ``default_collate`` and ``default_convert``.

Example::

    >>> batch = gpugrad.data.default_collate([(np.zeros(2, "float32"), 0, "a"),
    ...                                       (np.ones(2, "float32"), 0.5, "b")])
    >>> batch[0].shape, batch[1].tolist(), batch[2]    # 0 and 0.5: a float batch
    ((2, 2), [0.0, 0.5], ('a', 'b'))
"""

from __future__ import annotations

import collections.abc as abc
import copy
import numbers

import numpy as np

from .. import backend, creation, dtypes
from ..ops.promotion import promote_types
from ..ops.shape import stack
from ..tensor import Tensor

__all__ = ["default_collate", "default_convert"]


def default_collate(batch):
    """Stack a list of samples into a batch, as PyTorch's ``default_collate``.

    - tensors and arrays are stacked along a new first dimension, in the dtype their dtypes
      promote to (PyTorch's rules, ``gpugrad.promote_types``: int64 with float32 gives
      float32); tensors stay on their device and in the graph, NumPy goes to the default
      device. The batch is always a copy of the samples.
    - numbers: if the first is a Python float, a float64 tensor (as PyTorch); otherwise (a
      Python int or bool, a NumPy scalar) the dtype promoted over all of them, a Python int
      counting as int64 and a Python float as the default float dtype: ``[1, 2]`` int64,
      ``[1, 2.5]`` float32, ``[True, 2]`` int64, ``[True, False]`` bool.
    - strings and bytes: the samples as given (a list at the top and in dicts, a tuple
      inside a tuple or list, as PyTorch's).
    - dicts, tuples, lists and namedtuples are collated field by field (a tuple becomes a
      list, as in PyTorch).

    Shapes: B samples of (...) -> (B, ...).

    Example::

        >>> batch = gpugrad.data.default_collate([(np.zeros(3), 1), (np.ones(3), 0)])
        >>> [(t.shape, str(t.dtype)) for t in batch]
        [((2, 3), 'float64'), ((2,), 'int64')]
        >>> gpugrad.data.default_collate([1, 2.5])         # as torch: not truncated to ints
        tensor([1. , 2.5], device='cpu', dtype=float32)
    """
    elem = batch[0]
    if isinstance(elem, Tensor) or backend.is_array(elem):
        return _stack(batch)
    if isinstance(elem, np.generic):
        if elem.dtype.kind not in "biufc":
            raise TypeError(_not_collatable(f"NumPy {elem.dtype}"))
        return _numbers(batch)
    if isinstance(elem, float):
        return creation.tensor(batch, dtype=np.float64)
    if isinstance(elem, numbers.Integral):                  # ints and bools
        return _numbers(batch)
    if isinstance(elem, numbers.Real):
        return creation.tensor(batch, dtype=np.float64)
    if isinstance(elem, (str, bytes)):
        return batch
    if isinstance(elem, abc.Mapping):
        return _mapping_like(elem, {key: default_collate([sample[key] for sample in batch])
                                    for key in elem})
    if isinstance(elem, tuple) and hasattr(elem, "_fields"):            # a namedtuple
        return type(elem)(*(default_collate(field) for field in zip(*batch)))
    if isinstance(elem, abc.Sequence):
        sizes = {len(sample) for sample in batch}
        if len(sizes) > 1:
            raise RuntimeError(f"default_collate: the samples are sequences of different "
                               f"lengths {sorted(sizes)}; each must have the same fields")
        fields = [default_collate(field) for field in zip(*batch)]
        return fields if isinstance(elem, tuple) else _sequence_like(elem, fields)
    raise TypeError(_not_collatable(type(elem).__name__))


def _number_dtype(value) -> np.dtype:
    """The dtype ``torch.tensor`` gives ``value`` in a list of numbers."""
    if isinstance(value, np.generic):
        if value.dtype.kind not in "biufc":
            raise TypeError(_not_collatable(f"NumPy {value.dtype}"))
        return value.dtype
    if isinstance(value, bool):
        return dtypes.bool_
    if isinstance(value, numbers.Integral):
        return dtypes.int64
    if isinstance(value, numbers.Real):
        return dtypes.get_default_dtype()
    if isinstance(value, numbers.Complex):
        return np.dtype(np.complex128 if dtypes.get_default_dtype() == dtypes.float64
                        else np.complex64)
    raise TypeError(_not_collatable(f"{type(value).__name__} among numbers"))


def _numbers(batch) -> Tensor:
    """Python and NumPy numbers in the dtype they promote to (as ``torch.tensor(batch)``)."""
    kinds = {type(value) for value in batch}
    if len(kinds) == 1:                                     # the usual case: one type
        dtype = _number_dtype(batch[0])
    else:
        dtype = _number_dtype(batch[0])
        for value in batch[1:]:
            dtype = promote_types(dtype, _number_dtype(value))
    return creation.as_tensor(np.array(batch, dtype=dtype))


def default_convert(sample):
    """One sample with NumPy arrays and scalars made tensors, as PyTorch's
    ``default_convert`` (what ``batch_size=None`` applies): tuples become lists, dicts,
    lists and namedtuples keep their type, anything else is left as it is. Arrays are not
    copied (as PyTorch's).

    Example::

        >>> x, label = gpugrad.data.default_convert((np.zeros(2), 3))
        >>> type(x).__name__, label
        ('Tensor', 3)
    """
    if isinstance(sample, (np.ndarray, np.generic)) and sample.dtype.kind in "biufc":
        return creation.as_tensor(sample)
    if isinstance(sample, abc.Mapping):
        return _mapping_like(sample, {key: default_convert(sample[key]) for key in sample})
    if isinstance(sample, tuple) and hasattr(sample, "_fields"):        # a namedtuple
        return type(sample)(*(default_convert(field) for field in sample))
    if isinstance(sample, tuple):
        return [default_convert(field) for field in sample]
    if isinstance(sample, abc.Sequence) and not isinstance(sample, (str, bytes)):
        return _sequence_like(sample, [default_convert(field) for field in sample])
    return sample


def _mapping_like(elem, fields: dict):
    """``fields`` in a mapping of ``elem``'s type, as PyTorch's collate: a mutable one is
    copied and updated (a defaultdict keeps its default), else rebuilt, else a dict."""
    try:
        if isinstance(elem, abc.MutableMapping):
            clone = copy.copy(elem)
            clone.update(fields)
            return clone
        return type(elem)(fields)
    except TypeError:
        return fields


def _sequence_like(elem, fields: list):
    """``fields`` in a sequence of ``elem``'s type, as PyTorch's collate: a mutable one is
    copied and its items replaced, else rebuilt, else a list."""
    try:
        if isinstance(elem, abc.MutableSequence):
            clone = copy.copy(elem)
            for i, field in enumerate(fields):
                clone[i] = field
            return clone
        return type(elem)(fields)
    except TypeError:
        return fields


def _not_collatable(what: str) -> str:
    return (f"default_collate: a sample holds a {what}; samples must hold tensors, arrays, "
            f"numbers, strings, dicts, tuples or lists (or pass collate_fn=...)")


def _stack(batch) -> Tensor:
    """Tensors or arrays of one shape, stacked along a new first dimension (a new array) in
    their promoted dtype."""
    shapes = [tuple(s.shape) for s in batch]
    for i, shape in enumerate(shapes):
        if shape != shapes[0]:
            raise RuntimeError(f"default_collate: sample {i} has shape {shape} but sample 0 "
                               f"has {shapes[0]}; stacking needs equal shapes (pad or crop "
                               f"them in the dataset, or pass collate_fn=...)")
    dtype = batch[0].dtype
    for i, s in enumerate(batch):
        if s.dtype.kind not in "biufc":
            raise TypeError(_not_collatable(f"array of dtype {s.dtype}"))
        if s.dtype != dtype:
            dtype = promote_types(dtype, s.dtype)
    if any(isinstance(s, Tensor) and s.requires_grad for s in batch):
        return stack([s if isinstance(s, Tensor) and s.dtype == dtype else
                      creation.as_tensor(s).to(dtype) for s in batch])  # keeps the graph
    arrays = [s._array if isinstance(s, Tensor) else s for s in batch]
    backend.check_same_device("default_collate", arrays)
    xp = backend.xp_of(arrays[0])
    stacked = xp.stack([a if a.dtype == dtype else a.astype(dtype) for a in arrays])
    return Tensor._wrap(stacked) if isinstance(batch[0], Tensor) else \
        creation.as_tensor(stacked)
