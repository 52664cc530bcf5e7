"""L-BFGS, as PyTorch's ``torch.optim.LBFGS`` (2.13): the same iterations, stopping rules,
optional strong-Wolfe line search (``lbfgs_line_search.py``), state and state-dict layout.

Each ``step(closure)`` runs up to ``max_iter`` iterations, calling ``closure`` (which clears
the gradients, recomputes the loss, calls ``backward()`` and returns the loss) once or more
per iteration. Example (the quadratic (w0 - 1)^2 + 10 (w1 + 2)^2, minimised in a step)::

    >>> w = gpugrad.zeros(2, dtype="float64", requires_grad=True)
    >>> opt = gpugrad.optim.LBFGS([w], line_search_fn="strong_wolfe")
    >>> def closure():
    ...     opt.zero_grad()
    ...     loss = (w[0] - 1) ** 2 + 10 * (w[1] + 2) ** 2
    ...     loss.backward()
    ...     return loss
    >>> loss = opt.step(closure)                  # the loss at the start: 1 + 40
    >>> loss.item(), w.detach().numpy().round(5)
    (41.0, array([ 1., -2.]))
"""

from __future__ import annotations

import numpy as np

from .. import backend
from ..autograd.capture_mode import CaptureError, is_graph_recording
from ..autograd.compile_mode import refuse_in_compile
from ..autograd.mode import enable_grad, no_grad
from ..tensor import Tensor
from .complex_params import as_pairs, flat_pairs
from .lbfgs_line_search import strong_wolfe
from .optimizer import Optimizer
from .param_state import is_torch_tensor

__all__ = ["LBFGS"]

_FLAT = ("d", "prev_flat_grad")             # state entries that are flat vectors
_FLAT_LISTS = ("old_dirs", "old_stps")      # ... lists of flat vectors
_COUNTS = ("func_evals", "n_iter")


class LBFGS(Optimizer):
    """Limited-memory BFGS over all parameters as one flat vector x (gradient g). At each
    iteration, with s = x_k+1 - x_k and y = g_k+1 - g_k kept for the last ``history_size``
    pairs whose y . s > 1e-10, the direction d = -H g comes from the two-loop recursion
    with H_0 = (y . s) / (y . y) of the newest pair; the first iteration of all goes down
    the gradient, with step min(1, 1 / sum|g|) * lr. Without a line search x moves by
    lr * d; with ``line_search_fn="strong_wolfe"`` by t * d with t satisfying the strong
    Wolfe conditions (c1 = 1e-4, c2 = 0.9). A step stops after ``max_iter`` iterations or
    ``max_eval`` closure calls, when max|g| <= tolerance_grad, when g . d or max|t d| or
    the change of the loss falls below tolerance_change.

    One parameter group only, all parameters on one device with one dtype, as PyTorch's.
    The state (``func_evals``, ``n_iter``, the direction ``d``, step ``t``, the history
    ``old_dirs`` (y), ``old_stps`` (s), ``ro`` (1 / y . s), ``H_diag``, ``prev_flat_grad``,
    ``prev_loss``, scratch ``al``) is kept under the first parameter, as PyTorch keeps it.
    Every iteration reads numbers back from the device (a host sync), as PyTorch's does,
    so a step cannot be compiled or captured.

    Example (a least-squares fit, solved within one step's 20 iterations)::

        >>> A = gpugrad.tensor([[2.0, 1.0], [1.0, 3.0], [0.0, 1.0]], dtype="float64")
        >>> b = gpugrad.tensor([1.0, 2.0, 3.0], dtype="float64")
        >>> x = gpugrad.zeros(2, dtype="float64", requires_grad=True)
        >>> opt = gpugrad.optim.LBFGS([x], line_search_fn="strong_wolfe")
        >>> def closure():
        ...     opt.zero_grad()
        ...     loss = ((A @ x - b) ** 2).sum()
        ...     loss.backward()
        ...     return loss
        >>> _ = opt.step(closure)
        >>> x.detach().numpy().round(5)                 # (A^T A)^-1 A^T b
        array([-0.2,  1. ])
    """

    def __init__(self, params, lr: float = 1, max_iter: int = 20, max_eval=None,
                 tolerance_grad: float = 1e-7, tolerance_change: float = 1e-9,
                 history_size: int = 100, line_search_fn=None):
        if not 0.0 <= lr:
            raise ValueError(f"LBFGS: invalid lr={lr!r}: it must be >= 0")
        if line_search_fn not in (None, "strong_wolfe"):
            raise ValueError(f"LBFGS: line_search_fn must be None or 'strong_wolfe', got "
                             f"{line_search_fn!r}")
        if max_eval is None:
            max_eval = max_iter * 5 // 4
        super().__init__(params, dict(lr=lr, max_iter=max_iter, max_eval=max_eval,
                                      tolerance_grad=tolerance_grad,
                                      tolerance_change=tolerance_change,
                                      history_size=history_size,
                                      line_search_fn=line_search_fn))

    def add_param_group(self, param_group: dict) -> None:
        """Refused after the first group: LBFGS treats all parameters as one vector with
        one set of options (as PyTorch's, which takes one group only)."""
        if self.param_groups:
            raise ValueError("LBFGS doesn't support per-parameter options (parameter "
                             "groups): pass all parameters in one list, e.g. "
                             "LBFGS(model.parameters())")
        super().add_param_group(param_group)

    # ------------------------------------------------------------------ flat vectors
    def _flat_grad(self):
        """Every parameter's gradient (zeros where it has none), raveled and joined; a
        complex one as its real pairs (``view_as_real``), as PyTorch's."""
        params = self._params()
        xp = backend.xp_of(params[0]._array)
        return xp.concatenate([flat_pairs(xp, xp.zeros_like(p._array) if p._grad is None
                                          else p._grad._array) for p in params])

    def _add_grad(self, step_size, update) -> None:
        """x += step_size * update, in place, parameter by parameter (a complex one as its
        real pairs)."""
        offset = 0
        for p in self._params():
            a = p._array
            if a.dtype.kind == "c":
                work = a if a.flags.c_contiguous else backend.xp_of(a).ascontiguousarray(a)
                pairs = as_pairs(work)
                n = pairs.size
                pairs += step_size * update[offset:offset + n].reshape(pairs.shape)
                if work is not a:
                    a[...] = work
            else:
                n = a.size
                a += step_size * update[offset:offset + n].reshape(a.shape)
            p._version_counter.value += 1
            offset += n

    def _set_param(self, values) -> None:
        for p, value in zip(self._params(), values):
            p._array[...] = value
            p._version_counter.value += 1

    def _directional_evaluate(self, closure, x, t, d):
        """(loss, flat gradient) at x + t d; the parameters are put back to ``x``."""
        self._add_grad(t, d)
        loss = _number(closure())
        flat_grad = self._flat_grad()
        self._set_param(x)
        return loss, flat_grad

    # ------------------------------------------------------------------ the step
    def step(self, closure=None):
        """Run up to ``max_iter`` iterations; ``closure`` (required) clears the gradients,
        computes the loss, calls ``backward()`` and returns the loss. Returns the loss of
        the first call of ``closure`` (at the parameters the step started from)."""
        if closure is None:
            raise TypeError("LBFGS.step needs a closure: a function of no arguments that "
                            "calls opt.zero_grad(), computes the loss, calls "
                            "loss.backward() and returns the loss (LBFGS evaluates the loss "
                            "several times per step)")
        if len(self.param_groups) != 1:
            raise ValueError(f"LBFGS takes one parameter group, it has "
                             f"{len(self.param_groups)}")
        if is_graph_recording():
            raise CaptureError("LBFGS.step reads the loss and gradient norms back on the "
                               "host at every iteration, which a captured graph cannot "
                               "replay: run it eagerly")
        refuse_in_compile("LBFGS.step (its iterations branch on values read back on the "
                          "host)", "call it outside the compiled function")
        self._check_params()
        with no_grad():
            return self._step(closure)

    def _check_params(self) -> None:
        params = self._params()
        first = params[0]
        for p in params[1:]:    # (a complex parameter counts as its real pairs, as PyTorch's)
            if p.device != first.device or _real_dtype(p.dtype) != _real_dtype(first.dtype):
                raise ValueError(f"LBFGS optimizes all parameters as one vector, so they "
                                 f"must share a device and a dtype (complex64 counts as "
                                 f"float32): one is {first.dtype} on {first.device}, "
                                 f"another {p.dtype} on {p.device}")

    def _step(self, closure):
        group = self.param_groups[0]
        lr, max_iter, max_eval = group["lr"], group["max_iter"], group["max_eval"]
        tolerance_grad, tolerance_change = group["tolerance_grad"], group["tolerance_change"]
        line_search_fn, history_size = group["line_search_fn"], group["history_size"]
        if line_search_fn not in (None, "strong_wolfe"):
            raise ValueError(f"LBFGS: line_search_fn must be None or 'strong_wolfe', got "
                             f"{line_search_fn!r}")

        params = self._params()
        state = self.state.setdefault(params[0], {})
        state.setdefault("func_evals", 0)
        state.setdefault("n_iter", 0)

        def evaluate():
            with enable_grad():
                return closure()

        orig_loss = evaluate()
        loss = _number(orig_loss)
        current_evals = 1
        state["func_evals"] += 1
        flat_grad = self._flat_grad()
        opt_cond = float(abs(flat_grad).max()) <= tolerance_grad
        if opt_cond:
            return orig_loss

        d, t = _array(state.get("d")), state.get("t")
        old_dirs = [_array(v) for v in state.get("old_dirs", [])]
        old_stps = [_array(v) for v in state.get("old_stps", [])]
        ro, H_diag = list(state.get("ro", [])), state.get("H_diag")
        prev_flat_grad, prev_loss = _array(state.get("prev_flat_grad")), state.get("prev_loss")

        n_iter = 0
        while n_iter < max_iter:
            n_iter += 1
            state["n_iter"] += 1

            # the direction: steepest descent at first, then the L-BFGS two-loop recursion
            if state["n_iter"] == 1:
                d = -flat_grad
                old_dirs, old_stps, ro, H_diag = [], [], [], 1
            else:
                y = flat_grad - prev_flat_grad
                s = d * t
                ys = float(y.dot(s))
                if ys > 1e-10:
                    if len(old_dirs) == history_size:
                        old_dirs.pop(0)
                        old_stps.pop(0)
                        ro.pop(0)
                    old_dirs.append(y)
                    old_stps.append(s)
                    ro.append(1.0 / ys)
                    H_diag = ys / float(y.dot(y))
                num_old = len(old_dirs)
                if "al" not in state:
                    state["al"] = [None] * history_size
                al = state["al"]
                q = -flat_grad
                for i in range(num_old - 1, -1, -1):
                    al[i] = float(old_stps[i].dot(q)) * ro[i]
                    q += old_dirs[i] * -al[i]
                d = r = q * H_diag
                for i in range(num_old):
                    be_i = float(old_dirs[i].dot(r)) * ro[i]
                    r += old_stps[i] * (al[i] - be_i)

            if prev_flat_grad is None:
                prev_flat_grad = flat_grad.copy()
            else:
                prev_flat_grad[...] = flat_grad
            prev_loss = loss

            # the step length
            if state["n_iter"] == 1:
                t = min(1.0, 1.0 / float(abs(flat_grad).sum())) * lr
            else:
                t = lr
            gtd = float(flat_grad.dot(d))
            if gtd > -tolerance_change:         # not a descent direction (any more)
                break

            ls_func_evals = 0
            if line_search_fn is not None:
                x_init = [p._array.copy() for p in params]

                def obj_func(x, t, d):
                    return self._directional_evaluate(evaluate, x, t, d)

                loss, flat_grad, t, ls_func_evals = strong_wolfe(
                    obj_func, x_init, t, d, loss, flat_grad, gtd,
                    max_ls=max_eval - current_evals)
                self._add_grad(t, d)
                opt_cond = float(abs(flat_grad).max()) <= tolerance_grad
            else:
                self._add_grad(t, d)
                if n_iter != max_iter:          # (the last iteration's loss goes unused)
                    loss = _number(evaluate())
                    flat_grad = self._flat_grad()
                    opt_cond = float(abs(flat_grad).max()) <= tolerance_grad
                    ls_func_evals = 1
            current_evals += ls_func_evals
            state["func_evals"] += ls_func_evals

            if n_iter == max_iter or current_evals >= max_eval or opt_cond:
                break
            if float(abs(d * t).max()) <= tolerance_change:
                break
            if abs(loss - prev_loss) < tolerance_change:
                break

        state.update(d=_tensor(d), t=t, old_dirs=[_tensor(v) for v in old_dirs],
                     old_stps=[_tensor(v) for v in old_stps], ro=ro, H_diag=H_diag,
                     prev_flat_grad=_tensor(prev_flat_grad), prev_loss=prev_loss)
        return orig_loss

    # ------------------------------------------------------------------ state dicts
    def state_dict(self) -> dict:
        """As ``Optimizer.state_dict``, the state under parameter 0, its lists copied (the
        next step changes the live ones)."""
        saved = super().state_dict()
        for entry in saved["state"].values():
            for key, value in entry.items():
                if isinstance(value, list):
                    entry[key] = [v.detach().clone() if isinstance(v, Tensor) else v
                                  for v in value]
        return saved

    def load_state_dict(self, state_dict: dict) -> None:
        """Restore what ``state_dict`` saved (or PyTorch's LBFGS saved): flat vectors on the
        parameters' device and dtype, numbers as Python numbers."""
        if not isinstance(state_dict, dict) or "state" not in state_dict:
            return super().load_state_dict(state_dict)
        super().load_state_dict(dict(state_dict, state={}))
        params = self._params()
        numel = sum(p._array.size for p in params)
        for key, entry in state_dict["state"].items():
            if str(key) != "0":
                raise KeyError(f"LBFGS state dict: LBFGS keeps its state under parameter 0, "
                               f"this one has state for parameter {key!r}")
            self.state[params[0]] = {k: _restored(k, v, params[0], numel)
                                     for k, v in entry.items()}


def _real_dtype(dtype):
    """float32 for complex64 (its ``view_as_real``), float64 for complex128; others as they
    are."""
    return np.finfo(dtype).dtype if dtype.kind == "c" else dtype


def _number(loss) -> float:
    """The closure's loss as a Python float."""
    if isinstance(loss, Tensor):
        return float(loss.item())
    if is_torch_tensor(loss):
        return float(loss.item())
    return float(loss)


def _array(value):
    return value._array if isinstance(value, Tensor) else value


def _tensor(array):
    return None if array is None else Tensor._wrap(array)


def _restored(key: str, value, param, numel: int):
    """A saved state entry as the step uses it: flat vectors as tensors like ``param``,
    scalars (0-d tensors in PyTorch's state dicts) as Python numbers."""
    if isinstance(value, (list, tuple)):
        return [_restored(key, v, param, numel) for v in value]
    if value is None or isinstance(value, (int, float)):
        return int(value) if key in _COUNTS else value
    if is_torch_tensor(value):
        value = value.detach().cpu().numpy()
    array = value._array if isinstance(value, Tensor) else value
    if array.ndim == 0:
        return int(array.item()) if key in _COUNTS else float(array.item())
    if key not in _FLAT + _FLAT_LISTS or array.shape != (numel,):
        raise ValueError(f"LBFGS state dict: '{key}' has shape {tuple(array.shape)}; LBFGS "
                         f"keeps flat vectors of all {numel} parameter elements in 'd', "
                         f"'prev_flat_grad', 'old_dirs' and 'old_stps' only")
    return Tensor._wrap(backend.to_device(array, param.device).astype(param.dtype))
