"""JAX-style function transforms: grad, value_and_grad, vjp, jvp (the Jacobians are in
jacobians.py, vmap in vmap.py).

Each takes a Python function of tensors and returns a function (or values). Arguments and
outputs may be tensors, NumPy/CuPy arrays, Python floats, or tuples/lists/dicts of them;
results come back in the same structure, as tensors. They compose (``grad(grad(f))``,
``jacfwd(jacrev(f))``) and work with Python control flow, since gpugrad is define-by-run.
A result stays differentiable with respect to tensors that f closes over and that a
transform outside (or ordinary autograd) differentiates, as in JAX: with ``w`` fixed by an
outer ``grad``, ``grad(lambda x: (x * w).sum())(x0)`` is ``w`` for it, not a constant.
So, as with ``torch.func``, a result keeps its graph whenever f closes over tensors that
require grad (a model's parameters, say), which costs memory; closing over ``p.detach()``
(or parameters set to ``requires_grad_(False)``) avoids it.

Which mode, when (the seed's table): forward mode (``jvp``, ``jacfwd``) costs one pass per
*input* direction, reverse mode (``vjp``, ``grad``, ``jacrev``) one pass per *output*
direction. For f: R^n -> R^m use ``jacfwd`` when n < m (few inputs) and ``jacrev`` when
m < n (few outputs; a scalar loss of many parameters is the extreme case).

Example (the seed's JAX example)::

    >>> from gpugrad.func import grad, hessian
    >>> def f(x, y): return x**2 * y + y**3
    >>> grad(f, argnums=(0, 1))(2.0, 3.0)           # (2xy, x^2 + 3y^2)
    (tensor(12., device='cpu', dtype=float32), tensor(31., device='cpu', dtype=float32))
    >>> hessian(f)(2.0, 3.0)                        # d2f/dx2 = 2y
    tensor(6., device='cpu', dtype=float32)
"""

from __future__ import annotations

import threading
import weakref


from ..autograd import forward_ad
from ..autograd.engine import grad as autograd_grad
from ..autograd.graph import AccumulateGrad, grad_accumulator, gradient_edge
from ..autograd.mode import enable_grad, is_grad_enabled
from ..autograd.walk import nodes_behind
from ..pytree import tree_flatten, tree_leaves_like, tree_unflatten
from .arguments import _argnums, _float_tensor, _tensor, describe, float_outputs

__all__ = ["grad", "value_and_grad", "vjp", "jvp"]


class _Differentiating(threading.local):
    def __init__(self):
        self.handles = set()    # id()s of the stand-ins of grad, vjp and jacrev transforms
                                # whose function is running now


differentiating = _Differentiating()


class _Handles:
    """Differentiable stand-ins for the differentiated arguments.

    Each leaf becomes an alias: connected to the original when that already requires grad
    (so an outer transform can differentiate through this one), a fresh leaf otherwise; its
    tangents (an outer jvp/jacfwd) ride along either way.
    """

    def __init__(self, args, nums, name: str):
        from ..ops.shape import alias
        self.args = list(args)
        self.nums = nums
        self.specs, self.leaves = [], []
        self.create_graph = False
        outer = is_grad_enabled()       # under no_grad() nothing outside differentiates
        for n in nums:
            leaves, spec = tree_flatten(args[n])
            handles = []
            for leaf in leaves:
                t = _float_tensor(leaf, f"argument {n}", name, name in ("grad", "vjp"))
                self.create_graph |= outer and (t.requires_grad or _batch_requires_grad(t))
                h = alias(t)
                if not h.requires_grad:
                    h.requires_grad_()
                handles.append(h)
            self.specs.append(spec)
            self.leaves.append(handles)
            self.args[n] = tree_unflatten(spec, handles)

    def call(self, f, **kwargs):
        """``f`` on the arguments with the handles in place, listed in ``differentiating``
        while it runs (a compiled step refuses them as inputs: its outputs carry no graph to
        differentiate). Grad mode is on while it runs, as in ``torch.func``: a transform
        called under ``no_grad()`` still differentiates f (a ``no_grad()`` inside f is
        respected)."""
        mine = {id(h) for h in self.flat} - differentiating.handles
        differentiating.handles |= mine
        try:
            with enable_grad():
                return f(*self.args, **kwargs)
        finally:
            differentiating.handles -= mine

    @property
    def flat(self) -> list:
        return [h for group in self.leaves for h in group]

    def note_outputs(self, outputs) -> None:
        """Record the gradients (``create_graph``) also when ``outputs`` depend on a tensor
        that requires grad other than the handles: a value f closes over that an outer
        transform (or the caller's autograd) differentiates, as ``w`` in
        ``grad(lambda w: grad(lambda x: (x * w).sum())(x0).sum())``."""
        # f has returned: no transform outside differentiates with respect to these handles
        _finished_handles.update(grad_accumulator(h) for h in self.flat if h.grad_fn is None)
        if not self.create_graph and is_grad_enabled():     # else no graph to keep
            self.create_graph = _depends_on_others(outputs)

    def regroup(self, flat_values, single: bool):
        """Values per flat handle, back in the argument structure(s)."""
        trees, start = [], 0
        for spec, group in zip(self.specs, self.leaves):
            trees.append(tree_unflatten(spec, flat_values[start:start + len(group)]))
            start += len(group)
        return trees[0] if single else tuple(trees)


def _batch_requires_grad(t) -> bool:
    """Whether a batched argument's batch is differentiated by a transform outside its vmap
    (``grad(vmap(grad(f)))``): this gradient must then be recorded for it."""
    while t._batched:
        t = t._value
        if t._requires_grad:
            return True
    return False


# The gradient accumulators of handles whose function has returned (a handle of a finished
# transform is no tensor anything outside it differentiates); weak, so they go with their graph.
_finished_handles = weakref.WeakSet()


def _depends_on_others(outputs) -> bool:
    """Whether the graph behind ``outputs`` reaches a leaf requiring grad whose gradient
    accumulator is not a finished handle's. Walks the graph once, stopping at the first
    such leaf."""
    roots = [gradient_edge(o)[0] for o in outputs if o.requires_grad]
    return any(node.__class__ is AccumulateGrad and node not in _finished_handles
               for node in nodes_behind(roots))


def _zeros_like(t):
    from ..creation import zeros_like
    return zeros_like(t)


def _gradients(outputs, cotangents, handles: _Handles, create_graph: bool) -> list:
    """d(outputs)/d(handles) contracted with ``cotangents``, zeros for unused handles."""
    pairs = [(o, c) for o, c in zip(outputs, cotangents) if o.requires_grad]
    flat = handles.flat
    if not pairs:
        return [_zeros_like(h) for h in flat]
    grads = autograd_grad([o for o, _ in pairs], flat, grad_outputs=[c for _, c in pairs],
                          retain_graph=True, create_graph=create_graph, allow_unused=True)
    return [g if g is not None else _zeros_like(h) for g, h in zip(grads, flat)]


def _scalar_output(out, name: str):
    """``out`` if it is a 0-d tensor (as torch.func and JAX ask of grad's f), else raise."""
    from ..tensor import Tensor
    if not isinstance(out, Tensor):
        hint = (". Returning (loss, aux)? Pass has_aux=True" if isinstance(out, tuple) and
                len(out) == 2 else "")
        raise TypeError(f"{name}: the function must return a gpugrad tensor, got "
                        f"{type(out).__name__}{hint}")
    if out.ndim != 0:
        raise TypeError(f"{name} needs a function with a scalar output (a 0-d tensor), but it "
                        f"returned shape {tuple(out.shape)}. Reduce it (e.g. .sum(); a one-element "
                        f"tensor: .reshape(())), or use jacrev/jacobian for the full Jacobian "
                        f"or vjp for a vector-Jacobian product.")
    return out


def _split_aux(result, name: str) -> tuple:
    """``(output, aux)`` from what a ``has_aux=True`` function returned."""
    if not (isinstance(result, tuple) and len(result) == 2):
        raise TypeError(f"{name} with has_aux=True: the function must return a pair "
                        f"(output, aux), got {type(result).__name__}")
    return result


def _detached(tree):
    """``tree`` with its tensors cut from the graph (an aux output: not differentiated)."""
    from ..tensor import Tensor
    leaves, spec = tree_flatten(tree)
    return tree_unflatten(spec, [x.detach() if isinstance(x, Tensor) else x for x in leaves])


def value_and_grad(f, argnums=0, has_aux: bool = False):
    """A function returning ``(f(*args), grad)`` (``((value, aux), grad)`` with ``has_aux``),
    one reverse pass for both. See ``grad``.

    Example::

        >>> func.value_and_grad(lambda x: (x ** 2).sum())(gpugrad.tensor([1.0, 2.0]))
        (tensor(5., device='cpu', dtype=float32), tensor([2., 4.], device='cpu', dtype=float32))
    """
    def value_and_grad_f(*args, **kwargs):
        nums = _argnums(argnums, len(args), "grad")
        handles = _Handles(args, nums, "grad")
        result = handles.call(f, **kwargs)
        if has_aux:
            result, aux = _split_aux(result, "grad")
        out = _scalar_output(result, "grad")
        handles.note_outputs([out])
        grads = _gradients([out], [_ones_like(out)], handles, handles.create_graph)
        value = out if handles.create_graph else out.detach()
        grads_tree = handles.regroup(grads, isinstance(argnums, int))
        if not has_aux:
            return value, grads_tree
        return (value, aux if handles.create_graph else _detached(aux)), grads_tree
    return value_and_grad_f


def _ones_like(t):
    from ..creation import ones_like
    return ones_like(t)


def grad(f, argnums=0, has_aux: bool = False):
    """The gradient of scalar-valued ``f`` with respect to argument(s) ``argnums``.

    ``argnums`` is an int (one gradient, shaped like that argument) or a non-empty tuple of
    distinct ints (a tuple of gradients), as torch.func asks. The differentiated arguments
    are floating-point tensors (or Python numbers, taken as floats); f returns a 0-d tensor.
    With ``has_aux=True``, ``f`` returns ``(output, aux)`` and the function returns
    ``(grad, aux)``. One reverse pass. A dict argument's gradient comes back a dict with the
    same key order (as torch.func's; JAX sorts the keys).

    Example::

        >>> func.grad(lambda x: (x ** 2).sum())(gpugrad.tensor([1.0, 2.0]))   # 2x
        tensor([2., 4.], device='cpu', dtype=float32)
    """
    value_and_grad_f = value_and_grad(f, argnums, has_aux)

    def grad_f(*args, **kwargs):
        value, grads = value_and_grad_f(*args, **kwargs)
        return (grads, value[1]) if has_aux else grads
    return grad_f


def vjp(f, *primals, has_aux: bool = False):
    """``(f(*primals), vjp_fn)``: ``vjp_fn(cotangents)`` returns, for every primal, the
    cotangent pulled back through f (one reverse pass per call; it can be called many times).
    With ``has_aux=True``, f returns ``(output, aux)`` and vjp returns ``(output, vjp_fn,
    aux)``, aux not differentiated (as torch.func's). The primals and f's outputs must be
    floating point (as torch.func; JAX allows integer outputs): return an index as aux.

    ``cotangents`` has the structure of f's output. Example::

        >>> out, vjp_fn = func.vjp(lambda x: x * 3, gpugrad.tensor([1.0, 2.0]))
        >>> out
        tensor([3., 6.], device='cpu', dtype=float32)
        >>> vjp_fn(gpugrad.tensor([1.0, 1.0]))       # one cotangent per primal: 3 * [1, 1]
        (tensor([3., 3.], device='cpu', dtype=float32),)
    """
    handles = _Handles(primals, tuple(range(len(primals))), "vjp")
    out = handles.call(f)
    if has_aux:
        out, aux = _split_aux(out, "vjp")
    out_leaves, out_spec = tree_flatten(out)
    outputs = float_outputs(out_leaves, "vjp")
    handles.note_outputs(outputs)

    def vjp_fn(cotangents):
        try:
            leaves = tree_leaves_like(out_spec, cotangents)
        except ValueError:
            raise ValueError(f"vjp_fn: f returned {describe(out_spec)}; pass cotangents of "
                             f"that structure (one per output, shaped like it), got "
                             f"{describe(tree_flatten(cotangents)[1])}: cotangents have "
                             f"structure {tree_flatten(cotangents)[1]!r}, the outputs "
                             f"{out_spec!r}") from None
        cts = [_tensor(c, "a cotangent") for c in leaves]
        cts = [c if c.dtype.kind == "f" else c.astype(o.dtype) for o, c in zip(outputs, cts)]
        for o, c in zip(outputs, cts):
            if tuple(c.shape) != tuple(o.shape):
                raise ValueError(f"vjp_fn: a cotangent has shape {tuple(c.shape)} but its "
                                 f"output has shape {tuple(o.shape)}")
        create = handles.create_graph or any(c.requires_grad for c in cts)
        grads = _gradients(outputs, cts, handles, create)
        return tuple(handles.regroup(grads, single=False))

    shown = out if handles.create_graph else tree_unflatten(out_spec,
                                                            [o.detach() for o in outputs])
    if has_aux:
        return shown, vjp_fn, (aux if handles.create_graph else _detached(aux))
    return shown, vjp_fn


def jvp(f, primals, tangents, *, has_aux: bool = False):
    """``(f(*primals), tangents_out)``: the Jacobian of f at ``primals`` applied to
    ``tangents``, in one forward-mode pass (no tape: memory stays flat). With
    ``has_aux=True``, f returns ``(output, aux)`` and jvp returns ``(output, tangents_out,
    aux)``, aux's primal values (not differentiated).

    ``primals`` and ``tangents`` are tuples (one entry per argument) of the same structure,
    of floating-point tensors (or Python numbers). An output that is not floating point (an
    index from ``argmax``) keeps its dtype, its tangent zeros of that dtype (as torch.func).

    Example::

        >>> func.jvp(lambda x: x ** 3, (gpugrad.tensor(2.0),), (gpugrad.tensor(1.0),))  # 3x^2
        (tensor(8., device='cpu', dtype=float32), tensor(12., device='cpu', dtype=float32))
    """
    if not isinstance(primals, (tuple, list)) or not isinstance(tangents, (tuple, list)):
        raise TypeError("jvp(f, primals, tangents): primals and tangents must be tuples")
    p_leaves, p_spec = tree_flatten(tuple(primals))
    try:                                # (dicts matched by key: any order)
        t_leaves = tree_leaves_like(p_spec, tuple(tangents))
    except ValueError:
        raise ValueError(f"jvp: primals {p_spec!r} and tangents "
                         f"{tree_flatten(tuple(tangents))[1]!r} differ in structure; give "
                         f"one tangent per primal, shaped like it") from None
    with forward_ad.dual_level():
        duals = [forward_ad.make_dual(_float_tensor(p, "a primal", "jvp", True),
                                      _float_tensor(t, "a tangent", "jvp", True))
                 for p, t in zip(p_leaves, t_leaves)]
        out = f(*tree_unflatten(p_spec, duals))
        if has_aux:
            out, aux = _split_aux(out, "jvp")
            aux = primal_values(aux)
        out_leaves, out_spec = tree_flatten(out)
        primal_out, tangent_out = [], []
        for o in out_leaves:
            o = _tensor(o, "an output")
            primal, tangent = forward_ad.unpack_dual(o)
            primal_out.append(primal)
            tangent_out.append(tangent if tangent is not None else _zeros_like(primal))
    if has_aux:
        return tree_unflatten(out_spec, primal_out), tree_unflatten(out_spec, tangent_out), aux
    return tree_unflatten(out_spec, primal_out), tree_unflatten(out_spec, tangent_out)


def primal_values(tree):
    """``tree`` with each tensor replaced by its primal value (its tangent dropped): an aux
    output of a forward-mode transform."""
    from ..tensor import Tensor
    leaves, spec = tree_flatten(tree)
    return tree_unflatten(spec, [forward_ad.unpack_dual(x).primal if isinstance(x, Tensor)
                                 else x for x in leaves])
