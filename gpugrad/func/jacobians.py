"""Jacobians and Hessians: jacrev, jacfwd (jacobian = jacrev), hessian, hvp.

``jacrev`` is ``vmap`` over a vjp: one reverse pass pulls back every row of the identity at
once. ``jacfwd`` is ``vmap`` over a jvp: one forward pass pushes every column of the identity
at once. ``hessian`` is ``jacfwd(jacrev(f))``: one batched forward-over-reverse pass. Pass
``chunk_size`` to pull or push at most that many rows/columns at a time (less memory).

Which, when (the seed's table): for f: R^n -> R^m, ``jacfwd`` when n < m (few inputs),
``jacrev`` when m < n (few outputs; a scalar loss of many parameters is the extreme case).

Example (the seed's JAX example)::

    >>> from gpugrad.func import hessian
    >>> def f(x, y): return x**2 * y + y**3
    >>> hessian(f)(2.0, 3.0)                        # d2f/dx2 = 2y
    tensor(6., device='cpu', dtype=float32)
    >>> H = hessian(f, argnums=(0, 1))(2.0, 3.0)    # ((2y, 2x), (2x, 6y))
    >>> [[h.item() for h in row] for row in H]
    [[6.0, 4.0], [4.0, 18.0]]
"""

from __future__ import annotations

from ..autograd import forward_ad
from ..pytree import tree_flatten, tree_unflatten
from .arguments import _argnums, _float_tensor, _tensor, float_outputs
from .transforms import (_detached, _gradients, _Handles, _split_aux, _zeros_like, grad, jvp,
                         primal_values)
from .vmap import check_chunk_size, vmap

__all__ = ["jacrev", "jacfwd", "jacobian", "hessian", "hvp"]


def _eye_rows(like, n: int):
    from ..creation import eye
    return eye(n, dtype=like.dtype, device=like.device)


def jacrev(f, argnums=0, *, has_aux: bool = False, chunk_size=None):
    """The Jacobian of f by reverse mode: the vjps of all m output directions in one
    batched pass (``vmap`` over the cotangents). Prefer it when outputs are few. With
    ``has_aux=True``, f returns ``(output, aux)`` and the result is ``(jacobian, aux)``.

    Shapes: for output ``out`` and argument ``x``, the block is ``out.shape + x.shape``;
    with tuple ``argnums`` each output gives a tuple of blocks.

    Example::

        >>> func.jacrev(lambda x: x ** 2)(gpugrad.tensor([1.0, 2.0]))   # diag(2x)
        tensor([[2., 0.],
                [0., 4.]], device='cpu', dtype=float32)
    """
    from ..ops.shape import reshape_to
    check_chunk_size(chunk_size, "jacrev")

    def jacrev_f(*args, **kwargs):
        nums = _argnums(argnums, len(args), "jacrev")
        handles = _Handles(args, nums, "jacrev")
        out = handles.call(f, **kwargs)
        if has_aux:
            out, aux = _split_aux(out, "jacrev")
        out_leaves, out_spec = tree_flatten(out)
        outputs = float_outputs(out_leaves, "jacrev")
        handles.note_outputs(outputs)
        flat = handles.flat
        blocks = []
        for o in outputs:
            rows = _pull_back_rows(o, handles, chunk_size)
            per_handle = [reshape_to(r, tuple(o.shape) + tuple(h.shape))   # (m,) + h.shape
                          for r, h in zip(rows, flat)]                      # to o + h shape
            blocks.append(handles.regroup(per_handle, isinstance(argnums, int)))
        jacobian = tree_unflatten(out_spec, blocks)
        if has_aux:
            return jacobian, (aux if handles.create_graph else _detached(aux))
        return jacobian
    return jacrev_f


jacobian = jacrev


def _pull_back_rows(o, handles, chunk_size) -> list:
    """For each handle h, d(o)/d(h) as (o.size,) + h.shape (or h.shape itself for a one-
    element output): one vjp per row of the identity, all in one vmap (a single vjp for a
    one-element output)."""
    from ..creation import ones_like
    from ..ops.shape import reshape
    create = handles.create_graph
    if o.size == 1:
        return _gradients([o], [ones_like(o)], handles, create)

    def pull(row):
        return tuple(_gradients([o], [reshape(row, tuple(o.shape))], handles, create))
    return list(vmap(pull, chunk_size=chunk_size)(_eye_rows(o, o.size)))


def jacfwd(f, argnums=0, has_aux: bool = False, *, chunk_size=None,
           randomness: str = "error"):
    """The Jacobian of f by forward mode: the jvps of all n input directions in one batched
    pass (``vmap`` over the tangents; n counts the elements of every differentiated leaf, as
    torch.func's). Prefer it when inputs are few. f runs once, inside that vmap, so random
    draws in it follow ``randomness`` (as torch.func's jacfwd): with "same", every block
    sees the same draw. With ``has_aux=True``, f returns ``(output, aux)`` and the result is
    ``(jacobian, aux)``. An output that is not floating point (an index) gets a block of
    zeros of its dtype, as torch.func's.

    Shapes as ``jacrev``: ``out.shape + x.shape`` per output and argument.

    Example::

        >>> func.jacfwd(lambda x: x ** 2)(gpugrad.tensor([1.0, 2.0]))   # diag(2x)
        tensor([[2., 0.],
                [0., 4.]], device='cpu', dtype=float32)
    """
    check_chunk_size(chunk_size, "jacfwd")

    def jacfwd_f(*args, **kwargs):
        nums = _argnums(argnums, len(args), "jacfwd")
        args = list(args)
        specs, leaves = [], []
        for n in nums:
            arg_leaves, spec = tree_flatten(args[n])
            specs.append(spec)
            leaves.append([_float_tensor(leaf, f"argument {n}", "jacfwd")
                           for leaf in arg_leaves])
        flat = [leaf for group in leaves for leaf in group]
        found = {}
        main = _keeping_aux(f, found) if has_aux else f
        columns = _push_forward_columns(main, args, kwargs, nums, specs, leaves, found,
                                        chunk_size, randomness)
        out_spec, shapes = found["spec"], found["shapes"]
        sizes = [x.size for x in flat]
        blocks = []
        for column, shape in zip(columns, shapes):
            per_leaf, start = [], 0
            for x, size in zip(flat, sizes):            # rows of leaf x: its directions
                rows = column if len(flat) == 1 else column[start:start + size]
                per_leaf.append(_as_block(rows, shape, x.shape))
                start += size
            trees, start = [], 0
            for spec, group in zip(specs, leaves):
                trees.append(tree_unflatten(spec, per_leaf[start:start + len(group)]))
                start += len(group)
            blocks.append(trees[0] if isinstance(argnums, int) else tuple(trees))
        jacobian = tree_unflatten(out_spec, blocks)
        return (jacobian, found["aux"]) if has_aux else jacobian
    return jacfwd_f


def _keeping_aux(f, found: dict):
    """f for ``jacfwd(has_aux=True)``: its output alone, its aux's primal values kept in
    ``found["aux"]`` (aux may not depend on the pushed tangents)."""
    def main(*args, **kwargs):
        out, aux = _split_aux(f(*args, **kwargs), "jacfwd")
        if "aux" not in found:
            aux = primal_values(aux)
            leaves, _ = tree_flatten(aux)
            if any(getattr(leaf, "_batched", False) for leaf in leaves):
                raise ValueError("jacfwd with has_aux=True: aux depends on the tangents "
                                 "pushed through f; return values of the primals only")
            found["aux"] = aux
        return out
    return main


def _push_forward_columns(f, args, kwargs, nums, specs, leaves, found, chunk_size,
                          randomness) -> list:
    """d(output)/d(every differentiated leaf) as (n,) + out.shape per output, n the leaves'
    total size: one jvp per column of the n x n identity (block-diagonal over the leaves),
    all in one vmap, so f runs once. Notes the outputs' structure and shapes in
    ``found``."""
    from ..creation import zeros
    from ..ops.shape import reshape
    flat = [leaf for group in leaves for leaf in group]
    n = sum(x.size for x in flat)

    def outputs(call):
        outs, found["spec"] = tree_flatten(f(*call, **kwargs))
        outs = [_tensor(o, "an output") for o in outs]
        found["shapes"] = [tuple(o.shape) for o in outs]
        return outs

    if n == 0:                            # nothing to push: run f once for the shapes
        outs = outputs(_with_leaves(args, nums, specs, leaves))
        return [zeros(*((0,) + tuple(o.shape)), dtype=o.dtype, device=o.device)
                for o in outs]

    def push(column):
        with forward_ad.dual_level():
            duals, start = [], 0
            for x in flat:                # leaf x's slice of the column is its tangent
                part = column if len(flat) == 1 else column[start:start + x.size]
                t = reshape(part, tuple(x.shape))
                duals.append(forward_ad.make_dual(x, t if t.dtype == x.dtype
                                                  else t.astype(x.dtype)))
                start += x.size
            outs = outputs(_with_leaves(args, nums, specs, _regrouped(duals, leaves)))
            return tuple(_tangent_or_zeros(o) for o in outs)
    eye = _eye_rows(max(flat, key=lambda x: x.dtype.itemsize), n)
    return list(vmap(push, chunk_size=chunk_size, randomness=randomness)(eye))


def _as_block(columns, out_shape, in_shape):
    """(n_in,) + out_shape -> out_shape + in_shape."""
    from ..ops.shape import movedim, reshape
    moved = movedim(columns, 0, -1) if columns.ndim > 1 else columns
    return reshape(moved, tuple(out_shape) + tuple(in_shape))


def _regrouped(flat, leaves) -> list:
    """``flat`` split into groups the sizes of ``leaves``'s."""
    groups, start = [], 0
    for group in leaves:
        groups.append(flat[start:start + len(group)])
        start += len(group)
    return groups


def _with_leaves(args, nums, specs, leaves):
    """``args`` with the differentiated arguments rebuilt from ``leaves`` (one group each)."""
    call = list(args)
    for n, spec, group in zip(nums, specs, leaves):
        call[n] = tree_unflatten(spec, group)
    return call


def _tangent_or_zeros(o):
    primal, tangent = forward_ad.unpack_dual(o)
    return tangent if tangent is not None else _zeros_like(primal)


def hessian(f, argnums=0, *, has_aux: bool = False, chunk_size=None):
    """The Hessian of scalar-valued f, forward over reverse: ``jacfwd(jacrev(f))``, one
    batched pass (n tangents at once for n inputs). With ``has_aux=True`` (JAX's), f
    returns ``(output, aux)`` and the result is ``(hessian, aux)``.

    Example (the seed's)::

        >>> def f(x, y): return x**2 * y + y**3
        >>> func.hessian(f)(2.0, 3.0)                   # d2f/dx2 = 2y
        tensor(6., device='cpu', dtype=float32)
        >>> H = func.hessian(f, argnums=(0, 1))(2.0, 3.0)    # ((2y, 2x), (2x, 6y))
        >>> [[h.item() for h in row] for row in H]
        [[6.0, 4.0], [4.0, 18.0]]
    """
    check_chunk_size(chunk_size, "hessian")
    return jacfwd(jacrev(f, argnums, has_aux=has_aux), argnums, has_aux=has_aux,
                  chunk_size=chunk_size)


def hvp(f, primals, v):
    """The Hessian of scalar-valued f at ``primals`` times ``v``, in one forward-over-reverse
    pass (the Hessian is never formed). ``primals`` and ``v`` are tuples, one entry per
    argument of f; returns H v with the structure of the first (or, for several arguments,
    a tuple).

    Example::

        >>> x, v = gpugrad.tensor([1.0, 2.0]), gpugrad.tensor([1.0, 1.0])
        >>> func.hvp(lambda x: (x ** 3).sum(), (x,), (v,))      # H = diag(6x), H v = 6 x v
        tensor([ 6., 12.], device='cpu', dtype=float32)
    """
    if not isinstance(primals, (tuple, list)) or not isinstance(v, (tuple, list)):
        raise TypeError(f"hvp(f, primals, v): primals and v must be tuples, one entry per "
                        f"argument of f (as jax.jvp's), got {type(primals).__name__} and "
                        f"{type(v).__name__}: write hvp(f, (x,), (v,)); "
                        f"autograd.functional.hvp(f, x, v) takes bare tensors")
    argnums = 0 if len(primals) == 1 else tuple(range(len(primals)))
    _, tangent = jvp(grad(f, argnums), tuple(primals), tuple(v))
    return tangent
