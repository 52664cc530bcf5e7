"""PyTorch's ``torch.autograd.functional``: ``vjp``, ``jvp``, ``jacobian``, ``hessian``,
``vhp`` and ``hvp`` of a function of tensors, with PyTorch's signatures and return
structures, built on the reverse-mode engine (``autograd.grad``), as PyTorch's are.

A tensor ``inputs`` gives tensors back, a tuple (or a list, which PyTorch refuses) gives
tuples (and likewise for the function's outputs: ``jacobian(f, (x, y))`` of a two-output
``f`` is a tuple of tuples, ``[i][j]`` the Jacobian of output ``i`` in input ``j``, of shape
``outputs[i].shape + inputs[j].shape``). ``create_graph=True`` keeps the results
differentiable; ``strict=True`` raises where an output is independent of an input (else
zeros come back, as PyTorch's); ``vectorize`` and ``strategy`` are accepted as PyTorch's
(the values are the same either way). New code may prefer ``gpugrad.func``.

Example::

    >>> from gpugrad.autograd.functional import hessian, jacobian
    >>> x = gpugrad.tensor([1.0, 2.0], dtype="float64")
    >>> jacobian(lambda x: x ** 2, x)                    # diag(2x), shape (2, 2)
    tensor([[2., 0.],
           [0., 4.]], device='cpu', dtype=float64)
    >>> hessian(lambda x: (x ** 3).sum(), x).tolist()    # diag(6x)
    [[6.0, 0.0], [0.0, 12.0]]
"""

from __future__ import annotations

from .engine import grad as _grad
from .mode import enable_grad

__all__ = ["vjp", "jvp", "jacobian", "hessian", "vhp", "hvp"]


def _tensor_type():
    from ..tensor import Tensor
    return Tensor


def _as_tuple(value, what: str, fn_name: str) -> tuple:
    """``(was a tuple, the values as a tuple)``, every value checked to be a Tensor (a list
    is taken as a tuple: more lenient than PyTorch; gradcheck's ``_as_tuple`` has no checks)."""
    Tensor = _tensor_type()
    is_tuple = isinstance(value, (tuple, list))
    values = tuple(value) if is_tuple else (value,)
    for i, v in enumerate(values):
        if not isinstance(v, Tensor):
            where = f"element {i} of the {what}" if is_tuple else f"the {what}"
            raise TypeError(f"autograd.functional.{fn_name}: {where} is a "
                            f"{type(v).__name__}; it must be a Tensor or a tuple of Tensors "
                            f"(wrap values with gpugrad.tensor)")
    return is_tuple, values


def _untuple(values, is_tuple: bool):
    return tuple(values) if is_tuple else values[0]


def _untuple2(values, outer: bool, inner: bool):
    """A tuple (per output) of tuples (per input), unwrapped as the caller passed them."""
    rows = [_untuple(row, inner) for row in values]
    return tuple(rows) if outer else rows[0]


def _prepare(inputs: tuple, create_graph: bool) -> tuple:
    """The inputs as differentiable leaves (or, with ``create_graph``, still attached to
    the graph they come from, so the results can be differentiated in them)."""
    if create_graph:
        return tuple(x.view_as(x) if x.requires_grad else x.detach().requires_grad_()
                     for x in inputs)
    return tuple(x.detach().requires_grad_() for x in inputs)


def _finish(values, create_graph: bool):
    if isinstance(values, tuple):
        return tuple(_finish(v, create_graph) for v in values)
    return values if values is None or create_graph else values.detach()


def _zeros_like(t):      # (func/transforms.py has its own: func sits a floor above)
    return _tensor_type()._wrap(t._xp().zeros_like(t._array))


def _check_outputs(outputs: tuple, strict: bool) -> None:
    if strict:
        for i, out in enumerate(outputs):
            if not out.requires_grad:
                raise RuntimeError(
                    f"Output {i} of the user-provided function does not require gradients. "
                    f"The outputs must be computed in a differentiable manner from the input "
                    f"when running in strict mode.")


def _grads(outputs: tuple, inputs: tuple, grad_outputs, create_graph: bool,
           retain_graph=None) -> list:
    """``autograd.grad`` of the outputs that require grad (None for an input none reaches),
    as PyTorch's ``_autograd_grad``."""
    if grad_outputs is None:
        grad_outputs = (None,) * len(outputs)
    pairs = [(o, g) for o, g in zip(outputs, grad_outputs) if o.requires_grad]
    if not pairs:
        return [None] * len(inputs)
    return list(_grad([o for o, _ in pairs], inputs, [g for _, g in pairs],
                      retain_graph=retain_graph, create_graph=create_graph,
                      allow_unused=True))


_INDEPENDENT = {
    "back": "The output of the user-provided function is independent of input {i}. This "
            "is not allowed in strict mode.",
    "back_trick": "The gradient with respect to the input is independent of entry {i} in "
                  "the grad_outputs when using the double backward trick to compute forward "
                  "mode gradients. This is not allowed in strict mode.",
    "double_back": "The jacobian of the user-provided function is independent of input "
                   "{i}. This is not allowed in strict mode.",
    "double_back_trick": "The hessian of the user-provided function is independent of entry "
                         "{i} in the grad_jacobian. This is not allowed in strict mode as it "
                         "prevents from using the double backward trick to replace forward "
                         "mode AD.",
}


def _fill_zeros(grads: list, refs: tuple, strict: bool, create_graph: bool,
                stage: str) -> tuple:
    """Zeros (shaped as ``refs``) where no gradient came; in strict mode, PyTorch's errors."""
    result = []
    for i, (g, ref) in enumerate(zip(grads, refs)):
        if g is None:
            if strict:
                raise RuntimeError(_INDEPENDENT[stage].format(i=i))
            g = _zeros_like(ref)
        elif strict and create_graph and not g.requires_grad:
            what = "hessian" if "double" in stage else "jacobian"
            raise RuntimeError(f"The {what} of the user-provided function is independent of "
                               f"input {i}. This is not allowed in strict mode when "
                               f"create_graph=True.")
        result.append(g)
    return tuple(result)


def _check_v(v, outputs_or_inputs: tuple, fn_name: str, what: str) -> tuple:
    """``v`` as a tuple matching ``outputs_or_inputs`` in count and shapes; None allowed
    only for a single one-element tensor (then ones)."""
    if v is None:
        if len(outputs_or_inputs) != 1 or outputs_or_inputs[0].numel() != 1:
            raise RuntimeError(f"The vector v can only be None if the {what} "
                               f"is a single Tensor with a single element.")
        return (outputs_or_inputs[0]._ones_like_for_grad(),)
    _, v = _as_tuple(v, "v", fn_name)
    if len(v) != len(outputs_or_inputs):
        raise RuntimeError(f"autograd.functional.{fn_name}: v has {len(v)} tensors but the "
                           f"{what} has {len(outputs_or_inputs)}; they must match")
    for i, (a, b) in enumerate(zip(v, outputs_or_inputs)):
        if tuple(a.shape) != tuple(b.shape):
            raise RuntimeError(f"Entry {i} in v has invalid size: should be "
                               f"{tuple(b.shape)} but got {tuple(a.shape)}.")
    return v


def vjp(func, inputs, v=None, create_graph: bool = False, strict: bool = False):
    """``(func(*inputs), v^T J)``: the vector-Jacobian product in ``v`` (shaped as the
    outputs; may be omitted for a one-element output).

    Example::

        >>> from gpugrad.autograd.functional import vjp
        >>> x = gpugrad.tensor([1.0, 2.0])
        >>> out, g = vjp(lambda x: x ** 2, x, gpugrad.ones(2))
        >>> g.tolist()                          # 2x
        [2.0, 4.0]
    """
    with enable_grad():
        is_in_tuple, inputs = _as_tuple(inputs, "inputs", "vjp")
        inputs = _prepare(inputs, create_graph)
        is_out_tuple, outputs = _as_tuple(func(*inputs), "outputs of the user-provided "
                                          "function", "vjp")
        _check_outputs(outputs, strict)
        v = _check_v(v, outputs, "vjp", "user-provided function returns")
        grads = _grads(outputs, inputs, v, create_graph)
        grads = _fill_zeros(grads, inputs, strict, create_graph, "back")
    return (_untuple(_finish(outputs, create_graph), is_out_tuple),
            _untuple(_finish(grads, create_graph), is_in_tuple))


def jvp(func, inputs, v=None, create_graph: bool = False, strict: bool = False):
    """``(func(*inputs), J v)``: the Jacobian-vector product in ``v`` (shaped as the inputs;
    may be omitted for a one-element input), by PyTorch's double-backward trick.

    Example::

        >>> from gpugrad.autograd.functional import jvp
        >>> x = gpugrad.tensor([1.0, 2.0])
        >>> out, t = jvp(lambda x: x ** 2, x, gpugrad.tensor([1.0, 0.5]))
        >>> t.tolist()                          # 2x v
        [2.0, 2.0]
    """
    with enable_grad():
        is_in_tuple, inputs = _as_tuple(inputs, "inputs", "jvp")
        inputs = _prepare(inputs, create_graph)
        v = _check_v(v, inputs, "jvp", "input to the user-provided function")
        is_out_tuple, outputs = _as_tuple(func(*inputs), "outputs of the user-provided "
                                          "function", "jvp")
        _check_outputs(outputs, strict)
        dummies = tuple(_zeros_like(o).requires_grad_() for o in outputs)
        grad_inputs = _grads(outputs, inputs, dummies, create_graph=True)
        _fill_zeros(grad_inputs, inputs, strict, create_graph, "back")
        pairs = [(g, t) for g, t in zip(grad_inputs, v) if g is not None]
        tangents = _grads(tuple(g for g, _ in pairs), dummies, tuple(t for _, t in pairs),
                          create_graph) if pairs else [None] * len(outputs)
        tangents = _fill_zeros(tangents, outputs, strict, create_graph, "back_trick")
    return (_untuple(_finish(outputs, create_graph), is_out_tuple),
            _untuple(_finish(tangents, create_graph), is_out_tuple))


def _jacobian_rows(out, inputs: tuple, index: int, create_graph: bool, strict: bool,
                   vectorize: bool) -> tuple:
    """The Jacobian of output ``out`` (number ``index``) in each input: shape
    ``out.shape + input.shape``; one reverse pass per output element, or one batched pass
    (``vectorize``)."""
    from ..ops.shape import stack
    n = out.numel()
    Tensor = _tensor_type()
    xp = out._xp()
    if not out.requires_grad:
        columns = [None] * len(inputs)
    elif vectorize:
        basis = Tensor._wrap(xp.eye(n, dtype=out.dtype).reshape((n, *out.shape)))
        columns = list(_grad([out], inputs, [basis], retain_graph=True,
                             create_graph=create_graph, allow_unused=True,
                             is_grads_batched=True))
    else:
        rows = []
        for k in range(n):
            seed = xp.zeros(n, dtype=out.dtype)
            seed[k] = 1
            rows.append(_grad([out], inputs, [Tensor._wrap(seed.reshape(out.shape))],
                              retain_graph=True, create_graph=create_graph,
                              allow_unused=True))
        columns = []
        for j, x in enumerate(inputs):
            got = [row[j] for row in rows]
            if not n or all(g is None for g in got):
                columns.append(None)
            else:
                columns.append(stack([_zeros_like(x) if g is None else g for g in got]))
    result = []
    for j, (col, x) in enumerate(zip(columns, inputs)):
        if col is None:
            if strict:
                raise RuntimeError(f"Output {index} of the user-provided function is "
                                   f"independent of input {j}. This is not allowed in "
                                   f"strict mode.")
            col = Tensor._wrap(xp.zeros((*out.shape, *x.shape), dtype=x.dtype))
        elif strict and create_graph and not col.requires_grad:
            raise RuntimeError(f"The jacobian of the user-provided function is independent "
                               f"of input {index}. This is not allowed in strict mode when "
                               f"create_graph=True.")
        result.append(col.reshape((*out.shape, *x.shape)))
    return tuple(result)


def jacobian(func, inputs, create_graph: bool = False, strict: bool = False,
             vectorize: bool = False, strategy: str = "reverse-mode"):
    """The Jacobian of ``func`` at ``inputs``: for one output and one input a tensor of
    shape ``output.shape + input.shape``; tuples per output and per input as they were
    passed (see the module docstring).

    Example::

        >>> from gpugrad.autograd.functional import jacobian
        >>> x, y = gpugrad.tensor([1.0, 2.0]), gpugrad.tensor(3.0)
        >>> jx, jy = jacobian(lambda x, y: x * y, (x, y))
        >>> jx.tolist(), jy.tolist()            # diag(y), x
        ([[3.0, 0.0], [0.0, 3.0]], [1.0, 2.0])
    """
    if strategy not in ("forward-mode", "reverse-mode"):
        raise ValueError('Expected strategy to be either "forward-mode" or "reverse-mode".')
    if strategy == "forward-mode" and create_graph:
        raise NotImplementedError(
            'autograd.functional.jacobian: `create_graph=True` and `strategy="forward-mode"` '
            'are not supported together (yet). Please either set `create_graph=False` or '
            '`strategy="reverse-mode"`.')
    if strict and (vectorize or strategy == "forward-mode"):
        raise RuntimeError("autograd.functional.jacobian: `strict=True` is not supported "
                           "with `vectorize=True` or `strategy=\"forward-mode\"`. Please "
                           "either set `strict=False` or use the default vectorize and "
                           "strategy.")
    with enable_grad():
        is_in_tuple, inputs = _as_tuple(inputs, "inputs", "jacobian")
        inputs = _prepare(inputs, create_graph)
        is_out_tuple, outputs = _as_tuple(func(*inputs), "outputs of the user-provided "
                                          "function", "jacobian")
        _check_outputs(outputs, strict)
        result = tuple(_jacobian_rows(out, inputs, i, create_graph, strict, vectorize)
                       for i, out in enumerate(outputs))
    return _untuple2(_finish(result, create_graph), is_out_tuple, is_in_tuple)


def hessian(func, inputs, create_graph: bool = False, strict: bool = False,
            vectorize: bool = False, outer_jacobian_strategy: str = "reverse-mode"):
    """The Hessian of a function returning one element: shape ``input.shape * 2`` for one
    input, a tuple of tuples (``[i][j]``: in inputs i and j) for a tuple of inputs.

    Example::

        >>> from gpugrad.autograd.functional import hessian
        >>> x = gpugrad.tensor([1.0, 2.0])
        >>> hessian(lambda x: (x[0] * x[1]) ** 2, x).tolist()   # [[2b^2, 4ab], [4ab, 2a^2]]
        [[8.0, 8.0], [8.0, 2.0]]
    """
    is_in_tuple, inputs = _as_tuple(inputs, "inputs", "hessian")

    def single_output(*xs):
        out = func(*xs)
        is_tuple, outs = _as_tuple(out, "outputs of the user-provided function", "hessian")
        _check_outputs(outs, strict)
        if is_tuple:
            raise RuntimeError("The function given to hessian should return a single Tensor")
        if out.numel() != 1:
            raise RuntimeError("The Tensor returned by the function given to hessian should "
                               "contain a single element")
        return out.reshape(())

    def jac_func(*xs):
        jac = jacobian(single_output, xs, create_graph=True)
        if strict:
            for i, j in enumerate(jac):
                if not j.requires_grad:
                    raise RuntimeError(
                        f"While computing the hessian, found that the jacobian of the "
                        f"user-provided function with respect to input {i} is independent "
                        f"of the input. This is not allowed in strict mode. You should "
                        f"ensure that your function is twice differentiable and that the "
                        f"jacobian depends on the inputs.")
        return jac

    result = jacobian(jac_func, inputs, create_graph=create_graph, strict=strict,
                      vectorize=vectorize, strategy=outer_jacobian_strategy)
    result = result if isinstance(result[0], tuple) else (result,)    # (one input)
    return _untuple2(result, is_in_tuple, is_in_tuple)


def _first_gradient(func, inputs: tuple, strict: bool, fn_name: str):
    """``(output, d output / d inputs with its graph)`` of a one-element function."""
    is_out_tuple, outputs = _as_tuple(func(*inputs), "outputs of the user-provided "
                                      "function", fn_name)
    _check_outputs(outputs, strict)
    if is_out_tuple or outputs[0].numel() != 1:
        raise RuntimeError(f"The function given to {fn_name} should return a single Tensor "
                           f"with a single element.")
    jac = _grads(outputs, inputs, None, create_graph=True)
    return outputs[0], _fill_zeros(jac, inputs, strict, True, "double_back")


def vhp(func, inputs, v=None, create_graph: bool = False, strict: bool = False):
    """``(func(*inputs), v^T H)`` for a function returning one element (``v`` shaped as
    the inputs; may be omitted for a one-element input).

    Example::

        >>> from gpugrad.autograd.functional import vhp
        >>> x = gpugrad.tensor([1.0, 2.0])
        >>> out, g = vhp(lambda x: (x ** 3).sum(), x, gpugrad.ones(2))
        >>> g.tolist()                          # 6x
        [6.0, 12.0]
    """
    with enable_grad():
        is_in_tuple, inputs = _as_tuple(inputs, "inputs", "vhp")
        inputs = _prepare(inputs, create_graph)
        v = _check_v(v, inputs, "vhp", "input to the user-provided function")
        out, jac = _first_gradient(func, inputs, strict, "vhp")
        grads = _grads(jac, inputs, v, create_graph)
        grads = _fill_zeros(grads, inputs, strict, create_graph, "double_back")
    return _finish(out, create_graph), _untuple(_finish(grads, create_graph), is_in_tuple)


def hvp(func, inputs, v=None, create_graph: bool = False, strict: bool = False):
    """``(func(*inputs), H v)`` for a function returning one element, by PyTorch's
    double-backward trick (equal to ``vhp`` where the Hessian is symmetric).

    Example::

        >>> from gpugrad.autograd.functional import hvp
        >>> x = gpugrad.tensor([1.0, 2.0])
        >>> out, g = hvp(lambda x: (x ** 3).sum(), x, gpugrad.tensor([1.0, 0.0]))
        >>> g.tolist()                          # diag(6x) v
        [6.0, 0.0]
    """
    with enable_grad():
        is_in_tuple, inputs = _as_tuple(inputs, "inputs", "hvp")
        inputs = _prepare(inputs, create_graph)
        v = _check_v(v, inputs, "hvp", "input to the user-provided function")
        out, jac = _first_gradient(func, inputs, strict, "hvp")
        dummies = tuple(_zeros_like(x).requires_grad_() for x in inputs)
        double_back = _grads(jac, inputs, dummies, create_graph=True)
        _fill_zeros(double_back, inputs, strict, create_graph, "double_back")
        pairs = [(d, t) for d, t in zip(double_back, v) if d is not None]
        grads = _grads(tuple(d for d, _ in pairs), dummies, tuple(t for _, t in pairs),
                       create_graph) if pairs else [None] * len(inputs)
        grads = _fill_zeros(grads, inputs, strict, create_graph, "double_back_trick")
    return _finish(out, create_graph), _untuple(_finish(grads, create_graph), is_in_tuple)
