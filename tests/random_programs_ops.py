"""The op catalogue of the random-program tester: for each op, how a step prints as gpugrad
code and what it computes in float64 NumPy (the independent reference).

``OPS[name].code(names, params)`` returns an expression (or, for in-place ops, a statement)
over the argument names; ``OPS[name].numpy(arrays, params)`` the reference value (in-place
ops return the target's new value and never write into their arguments). Where max, min,
maximum and minimum have ties, the reference is their documented rule: the tied elements
share equally. ``pattern`` records at the unperturbed inputs which elements win, with what
weight (1/k for each of k ties), and ``frozen`` computes the op with those weights, so that
differences of the reference are the derivatives of that rule. ``view``: the
output may share memory with an input (never written in place); ``writable``: the op's
reverse rule saves neither its output nor anything aliasing it, so a later in-place op on
the output is legal. Which ops are drawn, and where, is random_programs_gen.py's business.

Example::

    >>> OPS["maximum"].code(["v1", "x0"], {})
    'G.maximum(v1, x0)'
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Callable

import numpy as np


@dataclass(frozen=True)
class OpDef:
    code: Callable
    numpy: Callable
    inplace: bool = False
    view: bool = False
    writable: bool = False
    pattern: Callable | None = None     # (arrays, params) -> which elements win (weights)
    frozen: Callable | None = None      # (arrays, params, pattern) -> value with those weights


def num(x) -> str:
    """A number as Python source (ints stay ints, floats round-trip exactly)."""
    return repr(int(x)) if isinstance(x, (int, np.integer)) else repr(float(x))


def array_code(a: np.ndarray) -> str:
    """A float array as a nested list literal whose values round-trip exactly."""
    if a.ndim == 0:
        return num(float(a))
    return "[" + ", ".join(array_code(row) for row in a) + "]"


def index_part_code(part) -> str:
    if part is None:
        return "None"
    if part is Ellipsis:
        return "..."
    if isinstance(part, slice):
        text = ":".join("" if v is None else str(v) for v in (part.start, part.stop))
        return text + ("" if part.step is None else f":{part.step}")
    if isinstance(part, np.ndarray):                  # a constant boolean mask
        return f"np.array({part.tolist()})"
    if isinstance(part, tuple):                       # an integer array
        return "[" + ", ".join(str(i) for i in part) + "]"
    return str(part)


def index_code(index: tuple) -> str:
    if len(index) == 1 and isinstance(index[0], tuple):
        return index_part_code(index[0])              # x[[0, 2]]: a list, not a tuple
    return ", ".join(index_part_code(p) for p in index)


def numpy_index(index: tuple) -> tuple:
    return tuple(np.array(p, dtype=np.intp) if isinstance(p, tuple) else p for p in index)


def _is_int(part) -> bool:
    return isinstance(part, (int, np.integer)) and not isinstance(part, (bool, np.bool_))


def selected_first(a, index: tuple):
    """(the view of ``a`` its ints select, the rest of the index): PyTorch's rule, where
    the ints of an index select first and the arrays then index what is left (NumPy instead
    moves an array's dimensions to the front when a slice separates it from an int)."""
    index = numpy_index(index)
    if not any(_is_int(p) for p in index):
        return a, index
    used = sum(0 if p is None or p is Ellipsis else p.ndim if getattr(p, "dtype", None) == bool
               else 1 for p in index)
    first = []
    for p in index:
        if p is Ellipsis:
            first += [slice(None)] * (a.ndim - used)
        elif _is_int(p):
            first.append(p)
        elif p is not None:
            first += [slice(None)] * (p.ndim if getattr(p, "dtype", None) == bool else 1)
    return a[tuple(first) + (Ellipsis,)], tuple(p for p in index if not _is_int(p))


def torch_get(a, index: tuple):
    view, rest = selected_first(a, index)
    return view[rest]


def _reduce_args(p) -> str:
    axis = p.get("axis")
    parts = [] if axis is None else [f"axis={axis!r}"]
    if p.get("keepdims"):
        parts.append("keepdims=True")
    return ", ".join(parts)


def _logsumexp(a, axis, keepdims):
    m = np.max(a, axis=axis, keepdims=True)
    out = np.log(np.sum(np.exp(a - m), axis=axis, keepdims=True)) + m
    return out if keepdims else np.squeeze(out, axis=axis)


def _var(a, axis, keepdims, correction):
    centred = a - a.mean(axis=axis, keepdims=True)
    count = a.size if axis is None else np.prod([a.shape[i] for i in np.atleast_1d(axis)])
    return (centred ** 2).sum(axis=axis, keepdims=keepdims) / (count - correction)


def _softmax(a, axis):
    e = np.exp(a - a.max(axis=axis, keepdims=True))
    return e / e.sum(axis=axis, keepdims=True)


def _log_softmax(a, axis):
    return a - _logsumexp(a, axis, True)


def _cross_entropy(a, labels, reduction):
    logp = _log_softmax(a, 1)
    losses = -logp[np.arange(len(labels)), list(labels)]
    return {"none": losses, "sum": losses.sum(), "mean": losses.mean()}[reduction]


def _extreme_pattern(a, p):
    """Weights of max/min: 1/(number of ties) where an element equals the extreme, else 0."""
    x, axis, largest = a[0], p.get("axis"), p["largest"]
    top = (np.max if largest else np.min)(x, axis=axis, keepdims=True)
    hit = (x == top).astype(np.float64)
    return hit / hit.sum(axis=axis, keepdims=True)


def _extreme_frozen(a, p, weights):
    return np.sum(a[0] * weights, axis=p.get("axis"), keepdims=bool(p.get("keepdims")))


def _pair_pattern(a, p):
    """Weights of maximum/minimum's first operand: 1 where it wins, 1/2 on ties, else 0."""
    wins = a[0] > a[1] if p["largest"] else a[0] < a[1]
    return wins.astype(np.float64) + 0.5 * (a[0] == a[1])


def _pair_frozen(a, p, w):
    return w * a[0] + (1.0 - w) * a[1]


def _extreme(method, largest):
    op = _reduction(method, lambda x, axis, k: (np.max if largest else np.min)(
        x, axis=axis, keepdims=k))
    return OpDef(op.code, op.numpy, pattern=lambda a, p: _extreme_pattern(
        a, dict(p, largest=largest)), frozen=_extreme_frozen)


def _pair(code, largest):
    fn = np.maximum if largest else np.minimum
    return OpDef(code, lambda a, p: fn(a[0], a[1]), writable=True,
                 pattern=lambda a, p: _pair_pattern(a, dict(p, largest=largest)),
                 frozen=_pair_frozen)


def _setitem(a, index, v):
    out = np.array(a, dtype=np.float64, copy=True)
    view, rest = selected_first(out, index)
    view[rest] = v
    return out


def _binary(symbol, fn_name, numpy_fn):
    """An element-wise broadcasting op written ``a <symbol> b`` or ``G.<fn_name>(a, b)``."""
    def code(n, p):
        return f"G.{fn_name}({n[0]}, {n[1]})" if p.get("form") else f"{n[0]} {symbol} {n[1]}"
    return OpDef(code, lambda a, p: numpy_fn(a[0], a[1]), writable=fn_name != "div")


def _scalar(template, numpy_fn, writable=False):
    """A tensor-scalar op; ``template`` uses {a} and {c} (the scalar's source)."""
    return OpDef(lambda n, p: template.format(a=n[0], c=num(p["c"])),
                 lambda a, p: numpy_fn(a[0], p["c"]), writable=writable)


def _unary(method, numpy_fn, function=None):
    """``a.<method>()``, or ``G.<function>(a)`` with form 1."""
    def code(n, p):
        return f"G.{function or method}({n[0]})" if p.get("form") else f"{n[0]}.{method}()"
    return OpDef(code, lambda a, p: numpy_fn(a[0]))


def _reduction(method, numpy_fn, writable=False):
    def code(n, p):
        args = _reduce_args(p)
        if p.get("form"):
            return f"G.{method}({n[0]}{', ' if args else ''}{args})"
        return f"{n[0]}.{method}({args})"
    return OpDef(code, lambda a, p: numpy_fn(a[0], p.get("axis"), bool(p.get("keepdims"))),
                 writable=writable)


def _in_place(method, symbol, numpy_fn):
    """``t.<method>(b)`` or ``t <symbol>= b``; b is args[1] or the scalar params["c"]."""
    def code(n, p):
        other = n[1] if len(n) > 1 else num(p["c"])
        return f"{n[0]} {symbol}= {other}" if p.get("form") else f"{n[0]}.{method}({other})"

    def reference(a, p):
        return numpy_fn(a[0], a[1] if len(a) > 1 else p["c"])
    return OpDef(code, reference, inplace=True, writable=True)


def _shape_args(shape) -> str:
    return ", ".join(str(n) for n in shape)


def _reshape_code(n, p):
    shape, form = p["shape"], p.get("form", 0)
    if form == 1:
        return f"{n[0]}.view({_shape_args(shape)})"
    if form == 2:
        return f"G.reshape({n[0]}, {tuple(shape)!r})"
    return f"{n[0]}.reshape({_shape_args(shape)})"


def _expand_code(n, p):
    if p.get("form"):
        return f"G.broadcast_to({n[0]}, {tuple(p['shape'])!r})"
    return f"{n[0]}.expand({_shape_args(p['shape'])})"


def _expand_numpy(a, p):
    shape = p["shape"]
    lead = len(shape) - a[0].ndim
    target = tuple(a[0].shape[i - lead] if n == -1 else n for i, n in enumerate(shape))
    return np.broadcast_to(a[0], target)


def _squeeze_numpy(a, p):
    axis = p.get("axis")
    if axis is None:
        return np.squeeze(a[0])
    return np.squeeze(a[0], axis) if a[0].shape[axis] == 1 else a[0]


def _flatten_numpy(a, p):
    x = a[0]
    if x.ndim == 0:
        return x.reshape(1)
    start, end = p["start"] % x.ndim, p["end"] % x.ndim
    return x.reshape(x.shape[:start] + (-1,) + x.shape[end + 1:])


def _transpose_numpy(a, p):
    return a[0] if a[0].ndim < 2 else np.swapaxes(a[0], p["d0"], p["d1"])


def _join_code(fn):
    def code(n, p):
        return f"G.{fn}([{', '.join(n)}], axis={p['axis']})"
    return code


OPS = {
    # ---- element-wise, tensor and tensor (broadcasting)
    "add": _binary("+", "add", np.add),
    "sub": _binary("-", "sub", np.subtract),
    "mul": _binary("*", "mul", np.multiply),
    "div": _binary("/", "div", np.divide),
    "pow": OpDef(lambda n, p: f"{n[0]} ** {n[1]}", lambda a, p: np.power(a[0], a[1])),
    "maximum": _pair(lambda n, p: f"G.maximum({n[0]}, {n[1]})", True),
    "minimum": _pair(lambda n, p: f"{n[0]}.minimum({n[1]})", False),
    "where": OpDef(lambda n, p: f"G.where({n[0]} > {num(p['t'])}, {n[1]}, {n[2]})",
                   lambda a, p: np.where(a[0] > p["t"], a[1], a[2]), writable=True),
    # ---- tensor and Python scalar
    "add_scalar": _scalar("{a} + {c}", np.add, writable=True),
    "radd_scalar": _scalar("{c} + {a}", np.add, writable=True),
    "rsub_scalar": _scalar("{c} - {a}", lambda a, c: c - a, writable=True),
    "mul_scalar": _scalar("{a} * {c}", np.multiply, writable=True),
    "rmul_scalar": _scalar("{c} * {a}", np.multiply, writable=True),
    "div_scalar": _scalar("{a} / {c}", np.divide, writable=True),
    "rdiv_scalar": _scalar("{c} / {a}", lambda a, c: c / a),
    "pow_scalar": _scalar("{a} ** {c}", np.power),
    "rpow_scalar": _scalar("{c} ** {a}", lambda a, c: np.power(c, a)),
    # ---- unary
    "neg": OpDef(lambda n, p: f"-{n[0]}", lambda a, p: -a[0], writable=True),
    "exp": _unary("exp", np.exp),
    "log": OpDef(lambda n, p: f"G.log({n[0]})", lambda a, p: np.log(a[0])),
    "sqrt": _unary("sqrt", np.sqrt),
    "abs": OpDef(lambda n, p: f"G.abs({n[0]})" if p.get("form") else f"abs({n[0]})",
                 lambda a, p: np.abs(a[0])),
    "tanh": _unary("tanh", np.tanh),
    "sigmoid": _unary("sigmoid", lambda x: 1.0 / (1.0 + np.exp(-x))),
    "relu": _unary("relu", lambda x: np.maximum(x, 0.0)),
    "clamp": OpDef(lambda n, p: f"{n[0]}.clamp(min={p['lo']!r}, max={p['hi']!r})",
                   lambda a, p: np.clip(a[0], p["lo"], p["hi"])),
    "clone": OpDef(lambda n, p: f"{n[0]}.clone()", lambda a, p: a[0].copy(), writable=True),
    # ---- reductions and softmax
    "sum": _reduction("sum", lambda a, axis, k: np.sum(a, axis=axis, keepdims=k), True),
    "mean": _reduction("mean", lambda a, axis, k: np.mean(a, axis=axis, keepdims=k), True),
    "max": _extreme("max", True),
    "min": _extreme("min", False),
    "logsumexp": _reduction("logsumexp", _logsumexp),
    "var": OpDef(lambda n, p: f"{n[0]}.var({_reduce_args(p)}{', ' if _reduce_args(p) else ''}"
                              f"correction={p['correction']})",
                 lambda a, p: _var(a[0], p.get("axis"), bool(p.get("keepdims")),
                                   p["correction"])),
    "softmax": OpDef(lambda n, p: f"{n[0]}.softmax(axis={p['axis']})",
                     lambda a, p: _softmax(a[0], p["axis"])),
    "log_softmax": OpDef(lambda n, p: f"G.log_softmax({n[0]}, axis={p['axis']})",
                         lambda a, p: _log_softmax(a[0], p["axis"])),
    # ---- products, layers, losses
    "matmul": OpDef(lambda n, p: f"G.matmul({n[0]}, {n[1]})" if p.get("form")
                    else f"{n[0]} @ {n[1]}", lambda a, p: np.matmul(a[0], a[1]), writable=True),
    "linear": OpDef(lambda n, p: f"F.linear({', '.join(n)})",
                    lambda a, p: a[0] @ a[1].T + (a[2] if len(a) > 2 else 0.0), writable=True),
    "linear_relu": OpDef(lambda n, p: f"F.linear_relu({', '.join(n)})",
                         lambda a, p: np.maximum(a[0] @ a[1].T + a[2], 0.0)),
    "mse": OpDef(lambda n, p: f"F.mse_loss({n[0]}, {n[1]}, reduction={p['reduction']!r})",
                 lambda a, p: {"none": np.square(a[0] - a[1]),
                               "sum": np.square(a[0] - a[1]).sum(),
                               "mean": np.square(a[0] - a[1]).mean()}[p["reduction"]]),
    "cross_entropy": OpDef(lambda n, p: f"F.cross_entropy({n[0]}, G.tensor({list(p['labels'])}"
                                        f"), reduction={p['reduction']!r})",
                           lambda a, p: _cross_entropy(a[0], p["labels"], p["reduction"])),
    # ---- shapes and views
    "reshape": OpDef(_reshape_code, lambda a, p: a[0].reshape(p["shape"]), view=True),
    "permute": OpDef(lambda n, p: f"{n[0]}.permute({_shape_args(p['axes'])})",
                     lambda a, p: a[0].transpose(p["axes"]), view=True),
    "transpose": OpDef(lambda n, p: f"{n[0]}.transpose({p['d0']}, {p['d1']})",
                       _transpose_numpy, view=True),
    "T": OpDef(lambda n, p: f"{n[0]}.T", lambda a, p: a[0].T, view=True),
    "mT": OpDef(lambda n, p: f"{n[0]}.mT", lambda a, p: np.swapaxes(a[0], -1, -2), view=True),
    "expand": OpDef(_expand_code, _expand_numpy, view=True),
    "squeeze": OpDef(lambda n, p: f"{n[0]}.squeeze({'' if p.get('axis') is None else p['axis']})",
                     _squeeze_numpy, view=True),
    "unsqueeze": OpDef(lambda n, p: f"{n[0]}.unsqueeze({p['axis']})",
                       lambda a, p: np.expand_dims(a[0], p["axis"]), view=True),
    "flatten": OpDef(lambda n, p: f"{n[0]}.flatten({p['start']}, {p['end']})", _flatten_numpy,
                     view=True),
    "getitem": OpDef(lambda n, p: f"{n[0]}[{index_code(p['index'])}]",
                     lambda a, p: torch_get(a[0], p["index"]), view=True),
    "mask_select": OpDef(lambda n, p: f"{n[0]}[{n[1]} > {num(p['t'])}]",
                         lambda a, p: a[0][a[1] > p["t"]], view=True),
    "cat": OpDef(_join_code("cat"), lambda a, p: np.concatenate(a, axis=p["axis"]),
                 writable=True),
    "stack": OpDef(_join_code("stack"), lambda a, p: np.stack(a, axis=p["axis"])),
    # ---- in place, on non-leaf values that nothing has read yet
    "add_": _in_place("add_", "+", np.add),
    "sub_": _in_place("sub_", "-", np.subtract),
    "mul_": _in_place("mul_", "*", np.multiply),
    "div_": _in_place("div_", "/", np.divide),
    "setitem": OpDef(lambda n, p: f"{n[0]}[{index_code(p['index'])}] = "
                                  f"{n[1] if len(n) > 1 else num(p['c'])}",
                     lambda a, p: _setitem(a[0], p["index"], a[1] if len(a) > 1 else p["c"]),
                     inplace=True, writable=True),
}
