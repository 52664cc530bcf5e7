"""vmap: a function of one example, run on a whole batch at once (JAX's and torch.func's).

``vmap(f)(xs)`` is ``stack([f(x) for x in xs])`` computed without the loop: inside, ``f``
sees tensors shaped like one example (``BatchedTensor``), and every op it calls runs its
batching rule on the whole batch (one array op, not one per example). It composes with the
other transforms: ``vmap(grad(f))`` gives per-example gradients, and ``jacrev``/``jacfwd``/
``hessian`` are vmaps over vjp/jvp.

Example::

    >>> from gpugrad.func import grad, vmap
    >>> vmap(lambda row: (row ** 2).sum())(gpugrad.randn(8, 3)).shape     # one sum per row
    (8,)
    >>> def loss(w, x, y): return ((x @ w - y) ** 2).sum()       # one example: x (3,), y ()
    >>> w = gpugrad.tensor([1.0, 0.0, -1.0])
    >>> xs = gpugrad.tensor([[1.0, 2.0, 3.0], [0.0, 1.0, 0.0]])
    >>> ys = gpugrad.tensor([0.0, -1.0])
    >>> vmap(grad(loss), in_dims=(None, 0, 0))(w, xs, ys)   # per example: 2 (x.w - y) x
    tensor([[ -4.,  -8., -12.],
            [  0.,   2.,   0.]], device='cpu', dtype=float32)
"""

from __future__ import annotations

import functools
import numbers

import numpy as np

from ..autograd.batched import BatchedTensor, pop_level, push_level
from ..pytree import tree_flatten, tree_unflatten
from ..random import get_rng_state, set_rng_state

__all__ = ["vmap"]

RANDOMNESS = ("error", "different", "same")
class _Unset:
    def __repr__(self) -> str:
        return "<not given>"


_UNSET = _Unset()           # in_axes/out_axes not given (None means "not mapped" there)


def _alias(value, alias, default, name: str, alias_name: str):
    """``value``, or JAX's ``alias`` for it when that was given instead."""
    if alias is _UNSET:
        return value
    if not (value is default or (isinstance(value, int) and value == default)):
        raise TypeError(f"vmap: both {name} and {alias_name} were given; {alias_name} is "
                        f"JAX's name for {name}: pass one of them")
    return alias


def check_chunk_size(chunk_size, name: str) -> None:
    """Raise, naming the transform ``name``, unless ``chunk_size`` is None or an int >= 1."""
    if chunk_size is not None and (not isinstance(chunk_size, numbers.Integral)
                                   or chunk_size < 1):
        raise ValueError(f"{name}: chunk_size must be a positive int or None, got "
                         f"{chunk_size!r}")


def vmap(f, in_dims=0, out_dims=0, randomness: str = "error", *, chunk_size=None,
         in_axes=_UNSET, out_axes=_UNSET, axis_size=None):
    """``f`` mapped over a batch dimension of its arguments.

    - ``in_dims``: which dimension of each positional argument is the batch: an int (every
      argument), None (not mapped: the same for every example), or a tuple with one entry
      per argument, each an int, None, or a tuple/list/dict matching that argument's
      structure (dict entries matched by key). Negative dimensions count from the end.
    - ``out_dims``: where the batch goes in each output (int, None for an output that is the
      same for every example, or a structure matching the outputs).
    - ``randomness``: random draws inside ``f`` raise ("error"), differ per example
      ("different") or are shared ("same").
    - ``chunk_size``: run at most this many examples at a time (bounds memory; results are
      joined).
    - JAX's names are accepted too: ``in_axes`` for ``in_dims``, ``out_axes`` for
      ``out_dims``, and ``axis_size``, the batch size, needed only when no argument is mapped
      (the outputs are then broadcast to it; with mapped arguments it must agree with them).

    Returns a function of the same arguments. Shapes: an argument of shape (B, *s) mapped
    at 0 is seen by ``f`` as shape ``s``; an output ``f`` returns of shape ``o`` comes back
    as (B, *o) for ``out_dims=0``. Python control flow on batched values raises.

    Example::

        >>> xs = gpugrad.tensor([[1.0, 2.0], [3.0, 4.0]])              # (B, 2) = (2, 2)
        >>> w = gpugrad.tensor([[1.0, 0.0], [0.0, 2.0]])               # shared: in_dims None
        >>> func.vmap(lambda x, w: x @ w, in_dims=(0, None))(xs, w)   # each row of xs times w
        tensor([[1., 4.],
                [3., 8.]], device='cpu', dtype=float32)
        >>> func.vmap(lambda w: w.sum(), in_axes=None, axis_size=3)(w)   # JAX's names
        tensor([3., 3., 3.], device='cpu', dtype=float32)
    """
    in_dims = _alias(in_dims, in_axes, 0, "in_dims", "in_axes")
    out_dims = _alias(out_dims, out_axes, 0, "out_dims", "out_axes")
    if randomness not in RANDOMNESS:
        raise ValueError(f"vmap: randomness must be one of {RANDOMNESS}, got {randomness!r}")
    check_chunk_size(chunk_size, "vmap")
    if axis_size is not None and (not isinstance(axis_size, numbers.Integral)
                                  or axis_size < 0):
        raise ValueError(f"vmap: axis_size must be a non-negative int or None, got "
                         f"{axis_size!r}")
    if not callable(f):
        raise TypeError(f"vmap: f must be callable, got {type(f).__name__}")

    @functools.wraps(f)
    def vmapped(*args, **kwargs):
        leaves, spec = tree_flatten(tuple(args))
        dims = _leaf_dims(in_dims, tuple(args), "in_dims")
        names = _leaf_names(args)
        leaves, dims = _checked_inputs(leaves, dims, names)
        size = _batch_size(leaves, dims, names, axis_size)
        if chunk_size is None or chunk_size >= size:
            return _run(f, leaves, dims, spec, kwargs, size, out_dims, randomness)
        parts = []
        state = get_rng_state() if randomness == "same" else None
        for start in range(0, size, chunk_size):
            stop = min(start + chunk_size, size)
            if state is not None:       # "same": every chunk draws what the first drew
                set_rng_state(state)
            sliced = [x if d is None else _take(x, d, start, stop) for x, d in zip(leaves, dims)]
            parts.append(_run(f, sliced, dims, spec, kwargs, stop - start, out_dims,
                              randomness))
        return _join(parts, out_dims)
    return vmapped


# ---------------------------------------------------------------------------------------------
# Arguments in
# ---------------------------------------------------------------------------------------------

def _leaf_dims(prefix, tree, what: str) -> list:
    """One dim (int or None) per leaf of ``tree``, from ``prefix``: an int/None for a whole
    subtree, or a container matching the tree's."""
    if prefix is None or isinstance(prefix, numbers.Integral):
        return [prefix] * tree_flatten(tree)[1].num_leaves
    if isinstance(prefix, (tuple, list)) and isinstance(tree, (tuple, list)):
        if len(prefix) != len(tree):
            raise ValueError(f"vmap: {what} has {len(prefix)} entries but there are "
                             f"{len(tree)} {'arguments' if what == 'in_dims' else 'values'} "
                             f"here; give one entry each (an int or None)")
        return [d for p, t in zip(prefix, tree) for d in _leaf_dims(p, t, what)]
    if isinstance(prefix, dict) and isinstance(tree, dict):
        if set(prefix) != set(tree):
            raise ValueError(f"vmap: {what} has keys {list(prefix)} where the value has "
                             f"{list(tree)}")
        return [d for k in tree for d in _leaf_dims(prefix[k], tree[k], what)]
    raise ValueError(f"vmap: {what} entry {prefix!r} does not match the structure of "
                     f"{type(tree).__name__} it is for; use an int, None, or the same "
                     f"tuple/list/dict structure")


def _leaf_names(args) -> list:
    names = []
    for i, arg in enumerate(args):
        count = tree_flatten(arg)[1].num_leaves
        names.extend([f"argument {i}"] if count == 1 else
                     [f"argument {i} (leaf {j})" for j in range(count)])
    return names


def _checked_inputs(leaves, dims, names):
    from ..creation import as_tensor
    from ..tensor import Tensor
    out_leaves, out_dims = [], []
    for x, d, name in zip(leaves, dims, names):
        if d is not None:
            if not isinstance(x, Tensor):
                if not (hasattr(x, "shape") and hasattr(x, "dtype")):
                    raise TypeError(f"vmap: {name} is mapped (in_dims {d}) but is a "
                                    f"{type(x).__name__}, not a tensor or array; give it "
                                    f"in_dims None")
                x = as_tensor(x)
            if x.ndim == 0 or not -x.ndim <= d < x.ndim:
                raise ValueError(f"vmap: {name} has shape {tuple(x.shape)}, which has no "
                                 f"dimension {d} to map over (in_dims)")
            d = d % x.ndim
        out_leaves.append(x)
        out_dims.append(d)
    return out_leaves, out_dims


def _batch_size(leaves, dims, names, axis_size) -> int:
    sizes = [(name, x.shape[d], d) for x, d, name in zip(leaves, dims, names) if d is not None]
    if axis_size is not None:
        wrong = [(name, n, d) for name, n, d in sizes if n != axis_size]
        if wrong:
            name, n, d = wrong[0]
            raise ValueError(f"vmap: axis_size is {axis_size} but {name} has {n} in its "
                             f"mapped dimension {d}; they must agree (or leave axis_size out)")
        return axis_size
    if not sizes:
        raise ValueError("vmap: no argument is mapped (in_dims is None for all of them); "
                         "map at least one, e.g. in_dims=0, or give axis_size")
    if len({n for _, n, _ in sizes}) > 1:
        listed = ", ".join(f"{name} has {n} (dimension {d})" for name, n, d in sizes)
        raise ValueError(f"vmap: the mapped arguments disagree on the batch size: {listed}. "
                         f"Every mapped dimension must have the same size.")
    return sizes[0][1]


def _take(x, dim: int, start: int, stop: int):
    index = (slice(None),) * dim + (slice(start, stop),)
    return x[index]


# ---------------------------------------------------------------------------------------------
# The batched call, and outputs out
# ---------------------------------------------------------------------------------------------

def _run(f, leaves, dims, spec, kwargs, size, out_dims, randomness):
    from ..ops.shape import movedim
    level = push_level(size, randomness)
    try:
        # d is normalised (>= 0); at 0 the batch is in place: no Permute in the user's graph
        wrapped = [x if d is None else BatchedTensor._make(x if d == 0 else movedim(x, d, 0),
                                                            level)
                   for x, d in zip(leaves, dims)]
        out = f(*tree_unflatten(spec, wrapped), **kwargs)
    finally:
        pop_level(level)
    out_leaves, out_spec = tree_flatten(out)
    dims_out = _leaf_dims(out_dims, out, "out_dims")
    return tree_unflatten(out_spec, [_unbatch(o, d, level, i)
                                     for i, (o, d) in enumerate(zip(out_leaves, dims_out))])


def _unbatch(o, dim, level, i: int):
    """Output leaf ``o`` with the batch of ``level`` at ``dim`` (broadcast if ``o`` is the
    same for every example)."""
    from ..ops.batching import batch_value
    from ..ops.shape import movedim
    from ..tensor import Tensor
    batched = isinstance(o, BatchedTensor) and o._level is level
    if isinstance(o, BatchedTensor) and o._level.depth > level.depth:
        raise RuntimeError("vmap: the function returned a tensor batched by an inner vmap "
                           "that has returned (it escaped it)")
    if dim is None:
        if batched:
            raise ValueError(f"vmap: output {i} differs per example but out_dims is None for "
                             f"it; give it a dimension (e.g. out_dims=0)")
        return o
    if not isinstance(o, Tensor):
        if isinstance(o, (numbers.Number, np.generic, np.ndarray)):
            from ..creation import as_tensor
            o = as_tensor(o)
        else:
            raise TypeError(f"vmap: output {i} is a {type(o).__name__}; the mapped function "
                            f"must return tensors (or give it out_dims None)")
    value = batch_value(o, level)
    if not -value.ndim <= dim < value.ndim:
        raise ValueError(f"vmap: out_dims {dim} is out of range for output {i}, which has "
                         f"{value.ndim} dimensions with the batch")
    return value if dim % value.ndim == 0 else movedim(value, 0, dim)


def _join(parts, out_dims):
    """Chunked results joined along their out_dims."""
    from ..ops.shape import concatenate
    from ..tensor import Tensor
    first_leaves, spec = tree_flatten(parts[0])
    dims = _leaf_dims(out_dims, parts[0], "out_dims")
    columns = [tree_flatten(p)[0] for p in parts]
    joined = []
    for j, d in enumerate(dims):
        pieces = [c[j] for c in columns]
        if d is None or not isinstance(pieces[0], Tensor):
            joined.append(pieces[0])
        else:
            joined.append(concatenate(pieces, axis=d % pieces[0].ndim))
    return tree_unflatten(spec, joined)
