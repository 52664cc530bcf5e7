"""The Optimizer base class: parameter groups, per-parameter state, zero_grad and
state_dict/load_state_dict in PyTorch's layout; hooks (``optimizer_hooks.py``).

Groups hold PyTorch's implementation switches too (``foreach``, ``fused``, ``capturable``,
``differentiable``, with its defaults, where its optimizer has them), so code that reads or
sets them works; they change no result (``hyper.check_flags``).

Differences from PyTorch: a step count (``state[p]["step"]``; NAdam's "mu_product", ASGD's
"eta" and "mu") is a Python number in the live ``opt.state`` (cheaper to count), and a 0-d
float32 tensor in ``state_dict()``, as PyTorch keeps it (``load_state_dict`` takes either).
``state_dict()`` holds copies of the state tensors, where PyTorch's holds the live ones.

Example::

    >>> model = nn.Linear(2, 1)
    >>> opt = gpugrad.optim.SGD(model.parameters(), lr=0.1, momentum=0.9)
    >>> model(gpugrad.ones(4, 2)).sum().backward()
    >>> opt.step(); opt.zero_grad()
    >>> state = opt.state_dict()                       # parameters by position
    >>> state["param_groups"]
    [{'lr': 0.1, 'momentum': 0.9, 'dampening': 0, 'weight_decay': 0, 'nesterov': False,
      'maximize': False, 'foreach': None, 'differentiable': False, 'fused': None,
      'params': [0, 1]}]
    >>> list(state["state"][0]), model.weight.grad is None
    (['momentum_buffer'], True)
    >>> list(opt.state[model.weight])                  # live state, keyed by parameter
    ['momentum_buffer']
"""

from __future__ import annotations

import copy

from .. import backend
from ..autograd.mode import enable_grad, no_grad
from ..autograd.capture_mode import CaptureError, is_graph_recording
from ..autograd.compile_mode import _state as _compiling, kernel, note_reads
from . import multi_tensor
from ..nn.module import zero_grads
from ..tensor import Tensor
from .optimizer_hooks import (OptimizerHooks, hooked_step, register_optimizer_step_post_hook,
                              register_optimizer_step_pre_hook)
from .complex_params import update_as_real
from .hyper import check_flags, own_number
from .param_state import ParamState, _as_state_value, saved_value

__all__ = ["Optimizer", "ParamState", "register_optimizer_step_pre_hook",
           "register_optimizer_step_post_hook"]   # (ParamState: param_state.py)

_SCALAR_STATE = ("step",)   # numbers saved as 0-d float32 tensors (subclasses add theirs)
_FLAGS = ("foreach", "capturable", "differentiable", "fused")   # PyTorch's switches


class Optimizer(OptimizerHooks):
    """Holds ``param_groups`` (dicts with "params" and hyperparameters, which schedulers
    may change) and ``state`` (a ``ParamState``: parameter -> its state dict, as PyTorch's
    ``optimizer.state[p]``). Subclasses implement ``_update``, or ``step`` as PyTorch's
    optimizers do (the step hooks run around either).

    ``params``: tensors, or ``(name, tensor)`` pairs (``model.named_parameters()``: the
    names go to the group's "param_names"), or dicts of parameter groups."""

    _scalar_state = ()      # a user's optimizer: its state saved as it is (PyTorch's too)

    def __init_subclass__(cls, **kwargs):
        super().__init_subclass__(**kwargs)
        if cls.__module__.startswith("gpugrad.") and "_scalar_state" not in cls.__dict__:
            cls._scalar_state = _SCALAR_STATE   # gpugrad's own: "step" as PyTorch's saves it
        if "step" in cls.__dict__:              # hooks run around a subclass's own step
            cls.step = hooked_step(cls.step)

    def __init__(self, params, defaults: dict):
        self.init_hooks()
        self.defaults = {k: own_number(v, k, type(self).__name__) for k, v in defaults.items()}
        name = type(self).__name__
        if isinstance(params, Tensor):
            raise TypeError(f"{name} takes an iterable of tensors (e.g. model.parameters() or "
                            f"[w, b]), not a single tensor")
        params = list(params)
        if not params:
            raise ValueError(f"{name} got an empty parameter list")
        groups = params if isinstance(params[0], dict) else [{"params": params}]
        self.param_groups = []
        self.state = ParamState()       # parameter -> dict of state tensors and numbers
        for group in groups:
            self.add_param_group(group)

    def add_param_group(self, param_group: dict) -> None:
        """Add a group of parameters with its own hyperparameters (those it leaves out
        take the optimizer's defaults), e.g. to train layers unfrozen during fine-tuning.
        A parameter may belong to one group only; its state is made at its first step.

        Example::

            >>> a, b = gpugrad.zeros(2, requires_grad=True), gpugrad.zeros(3, requires_grad=True)
            >>> opt = gpugrad.optim.SGD([a], lr=0.1, momentum=0.9)
            >>> opt.add_param_group({"params": [b], "lr": 0.01})
            >>> [(g["lr"], g["momentum"]) for g in opt.param_groups]
            [(0.1, 0.9), (0.01, 0.9)]
        """
        name = type(self).__name__
        if not isinstance(param_group, dict):
            raise TypeError(f"{name}.add_param_group takes a dict such as {{'params': [w, b], "
                            f"'lr': 0.01}}, got a {type(param_group).__name__}")
        if "params" not in param_group:
            raise KeyError(f"{name}.add_param_group: the group has no 'params' key (it has "
                           f"{sorted(param_group)})")
        group = dict(param_group)
        params = group["params"]
        if isinstance(params, Tensor):
            params = [params]
        elif isinstance(params, (set, frozenset)):
            raise TypeError(f"{name}: a group's 'params' must be an ordered collection (a list "
                            f"or tuple): the order of a set changes between runs, so a saved "
                            f"optimizer state would not match; got a set")
        group["params"] = params = list(params)
        if any(isinstance(p, tuple) for p in params):
            params, names = _split_names(name, params)
            group["params"], group["param_names"] = params, names
        for other in self.param_groups:
            if ("param_names" in other) != ("param_names" in group):
                raise ValueError(f"{name}: all parameter groups must be given with names "
                                 f"((name, tensor) pairs) or all without; cannot add a group "
                                 f"{'with' if 'param_names' in group else 'without'} names")
        owned = {id(p): i for i, g in enumerate(self.param_groups) for p in g["params"]}
        seen = set()
        for p in params:
            if not isinstance(p, Tensor):
                raise TypeError(f"{name} optimizes tensors; got {type(p).__name__}")
            if not p.is_leaf:
                raise ValueError(f"{name} can only optimize leaf tensors (parameters), "
                                 f"not results of ops (shape {tuple(p.shape)}, "
                                 f"grad_fn={p.grad_fn!r})")
            if id(p) in owned:
                raise ValueError(f"{name}: a parameter of shape {tuple(p.shape)} is already in "
                                 f"parameter group {owned[id(p)]}; a parameter may belong to "
                                 f"one group only")
            if id(p) in seen:
                raise ValueError(f"{name}: a parameter of shape {tuple(p.shape)} appears twice "
                                 f"in the same parameter group; list it once")
            seen.add(id(p))
        flags = {k: group[k] for k in _FLAGS if k in group}
        if flags:
            check_flags(name, **flags)          # (differentiable=True is refused)
        for key, value in group.items():
            if key != "params":
                group[key] = own_number(value, key, name)
        for key, default in self.defaults.items():
            group.setdefault(key, default)
        self.param_groups.append(group)

    def zero_grad(self, set_to_none: bool = True) -> None:
        """Reset every parameter's gradient: to None, or to zeros in place."""
        zero_grads(self._params(), set_to_none)

    _fused_kind = None      # "sgd" / "adam": a multi-tensor kernel exists (multi_tensor.py)

    def step(self, closure=None):
        """Update every parameter that has a gradient, in place (no graph is recorded).
        ``closure`` (optional, as PyTorch's): a function of no arguments that recomputes the
        loss and its gradients; it is called first, with gradients enabled, and its result
        is returned (None without a closure). In a compiled or captured step it is part of
        the step, as if called just before ``step()``.

        On CUDA, with the fused kernels on, each group's parameters are updated by one
        multi-tensor launch per device and dtype; the rest by ``_update`` one by one. In a
        step compiled by ``gpugrad.compile``, each parameter's update is a line of the
        program: replays run it again, reading the current learning rates, step counts and
        state (a step records again when the groups or their parameters change)."""
        loss = None
        if closure is not None:
            with enable_grad():
                loss = closure()
        recording = is_graph_recording()
        recorder = _compiling.recorder
        if recorder is not None:
            recorder.guard(self._layout, self._layout())
        with no_grad():
            done = multi_tensor.step(self, recording) if self._fused_kind else ()
            updates = []
            for group in self.param_groups:
                for p in group["params"]:
                    if recorder is not None:
                        recorder.grad_read(p)       # (a .grad made outside the step)
                    if p._grad is not None and id(p) not in done:
                        _check_grad(p)
                        if recording:
                            raise _reference_update_captured(self, p)
                        note_reads(p)
                        if recorder is not None:
                            recorder.updates(p)
                        updates.append((p, p._array, p._grad._array, group))
            if updates:         # every gradient checked first: a bad one stops them all
                kernel(_update_params, self, updates)
        return loss

    def _fusable_group(self, group: dict) -> bool:
        """Whether the fused kernels can do ``group``'s update (options they lack take
        the reference ``_update``)."""
        return True

    def _layout(self) -> list:
        """The groups and the parameters in them, by identity (what a compiled step's
        updates were recorded for)."""
        groups = self.param_groups
        layout = [id(g) for g in groups]
        for g in groups:
            layout.extend(map(id, g["params"]))
        return layout

    # ------------------------------------------------------------------ capture protocol
    # What a whole-step CUDA graph capture needs from an optimizer (as PyTorch's optimizers
    # say with ``capturable``): only fused launches can be recorded (``step`` refuses the
    # rest while recording); each launch recorded is noted by ``multi_tensor.step`` as a
    # ``ReplayedLaunch``, which calls these two around every replay of the graph.
    def _before_replay(self, bucket) -> None:
        """Upload the bucket's current hyperparameters (a scheduler may have changed them)."""
        if bucket.slot.hyper is not None:
            bucket.slot.hyper_array(self._fused_hyper(bucket.group), None, False)

    def _after_replay(self, bucket) -> None:
        """The replay updated the bucket: count the step on the host as an eager step does."""
        self._fused_counted(bucket)
        for p in bucket.params:
            p._version_counter.value += 1

    def _update(self, param, grad, state: dict, group: dict) -> None:
        """Write the new value into the raw array ``param`` (NumPy or CuPy) from the raw
        array ``grad``; ``state`` holds tensors and numbers (see ``_state_tensor``)."""
        raise NotImplementedError

    # ------------------------------------------------------------------ state
    def _params(self) -> list:
        return [p for group in self.param_groups for p in group["params"]]

    def _param_index(self) -> dict:
        """id(parameter) -> its position in ``_params()``, as saved state is keyed."""
        return {id(p): i for i, p in enumerate(self._params())}

    def state_dict(self) -> dict:
        """{"state": {index: {name: tensor or number}}, "param_groups": [hyperparameters and
        "params" as indices]}, as PyTorch's (int indices; ``load_state_dict`` also takes
        the string ones older gpugrad wrote, and PyTorch's own state dicts); tensors are
        copies cut from the graph (PyTorch's are the live ones), and step counts are 0-d
        float32 tensors, as PyTorch's (live, ``opt.state`` holds them as numbers).

        Example::

            >>> w = gpugrad.tensor([1.0], requires_grad=True)
            >>> opt = gpugrad.optim.Adam([w])
            >>> w.grad = gpugrad.ones(1); opt.step()
            >>> opt.state[w]["step"], opt.state_dict()["state"][0]["step"]
            (1, tensor(1., device='cpu', dtype=float32))
        """
        self._state_dict_pre()
        index = self._param_index()
        scalars = self._scalar_state
        state = {}
        for key, value in self.state.items():
            i = index.get(id(key))
            if i is not None:
                state[i] = {k: saved_value(v, k in scalars) for k, v in value.items()}
        groups = []
        for group in self.param_groups:
            entry = {k: copy.deepcopy(v) for k, v in group.items() if k != "params"}
            entry["params"] = [index[id(p)] for p in group["params"]]
            groups.append(entry)
        return self._state_dict_post({"state": state, "param_groups": groups})

    def __repr__(self) -> str:
        """As PyTorch's: each group's options, sorted by name."""
        lines = [f"{type(self).__name__} ("]
        for i, group in enumerate(self.param_groups):
            lines.append(f"Parameter Group {i}")
            lines.extend(f"    {key}: {group[key]}" for key in sorted(group) if key != "params")
        return "\n".join(lines) + "\n)"

    def __getstate__(self) -> dict:
        """For pickle and ``copy.deepcopy``: the state keyed by parameter position (the
        copy's parameters are new objects); the fused path's device tables are rebuilt."""
        state = {k: v for k, v in self.__dict__.items()
                 if not k.startswith("_optimizer_") and k != "_in_step"}     # (no hooks)
        index = self._param_index()
        state["state"] = {index[id(k)]: v for k, v in self.state.items() if id(k) in index}
        state.pop("_fused_buckets", None)
        return state

    def __setstate__(self, state: dict) -> None:
        self.__dict__.update(state)
        self.init_hooks()
        params = self._params()
        self.state = ParamState((params[i], value) for i, value in state["state"].items())

    def load_state_dict(self, state_dict: dict) -> None:
        """Restore hyperparameters and state saved by ``state_dict`` (same parameter layout).
        The state may be keyed by int or str positions; tensors may be PyTorch's (an
        optimizer's ``state_dict()`` from torch, with its 0-d ``step`` tensors).

        Example::

            >>> w = gpugrad.tensor(2.0, requires_grad=True)            # a 0-d parameter
            >>> opt = gpugrad.optim.Adam([w], lr=0.1)
            >>> (w * w).backward(); opt.step()
            >>> opt.load_state_dict(opt.state_dict())
            >>> opt.state[w]["step"], opt.state[w]["exp_avg"].shape
            (1, ())
        """
        state_dict = self._load_state_dict_pre(state_dict)
        groups = state_dict.get("param_groups")
        if groups is None or "state" not in state_dict:
            raise KeyError("optimizer state dict needs 'state' and 'param_groups' keys")
        if len(groups) != len(self.param_groups):
            raise ValueError(f"optimizer state dict has {len(groups)} parameter groups, this "
                             f"optimizer has {len(self.param_groups)}")
        params = self._params()
        for saved, group in zip(groups, self.param_groups):
            if len(saved["params"]) != len(group["params"]):
                raise ValueError(f"optimizer state dict: a group has {len(saved['params'])} "
                                 f"parameters, this optimizer's has {len(group['params'])}")
        state = ParamState()
        for key, value in state_dict["state"].items():
            try:
                i = int(key)
            except (TypeError, ValueError):
                raise KeyError(f"optimizer state dict: its 'state' is keyed by parameter "
                               f"position (0, 1, ... or '0', '1', ...), got {key!r}") from None
            if not 0 <= i < len(params):
                raise KeyError(f"optimizer state dict: state for parameter {i}, but there are "
                               f"only {len(params)}")
            p = params[i]
            state[p] = {k: _as_state_value(v, p, k, f"state.{i}.{k}") for k, v in value.items()
                        if v is not None}          # (PyTorch's "no momentum buffer yet")
        for saved, group in zip(groups, self.param_groups):
            group.update({k: v for k, v in saved.items() if k != "params"})
        self.state = state
        self._load_state_dict_post()


Optimizer.step = hooked_step(Optimizer.step)


def _split_names(name: str, params: list) -> tuple:
    """``(name, tensor)`` pairs as (tensors, names); all the group's entries must be pairs."""
    if not all(isinstance(p, tuple) and len(p) == 2 and isinstance(p[0], str) for p in params):
        raise ValueError(f"{name}: give all parameters of a group as (name, tensor) pairs "
                         f"(model.named_parameters()) or all as tensors; some names are "
                         f"missing")
    return [p[1] for p in params], [p[0] for p in params]


def _reference_update_captured(optimizer, p) -> CaptureError:
    name = type(optimizer).__name__
    if optimizer._fused_kind is None:
        fix = (f"{name} has no fused kernel, so its steps cannot be captured: run them "
               f"eagerly or with gpugrad.compile")
    else:
        fix = ("only the fused kernels can be captured (float32 or float64, contiguous, "
               "GPUGRAD_FUSED not 0, and neither amsgrad nor maximize)")
    return CaptureError(f"{name}: a parameter of shape {tuple(p.shape)} ({p.dtype}) takes the "
                        f"reference update, whose learning rate and step count a captured "
                        f"graph would freeze; {fix}")


def _update_params(optimizer, updates) -> None:
    """``optimizer._update`` of each ``(p, param, grad, group)`` in ``updates`` (parameter
    ``p``, its raw array ``param`` and gradient ``grad``, its group) with its state as it is
    now, counted on its version: one line of a compiled step, run again at every replay."""
    states = optimizer.state
    update = optimizer._update
    for p, param, grad, group in updates:
        state = dict.get(states, p)
        fresh = state is None
        if fresh:                           # kept only if the update writes to it
            state = {}
        if param.dtype.kind == "c":         # as real pairs, as PyTorch's (complex_params.py)
            update_as_real(update, param, grad, state, group)
        else:
            update(param, grad, state, group)
        if fresh and state:
            states[p] = state
        p._version_counter.value += 1


def _check_grad(p) -> None:
    g = p._grad._array
    if g.shape != p._array.shape or g.__class__ is not p._array.__class__:
        raise ValueError(f"a parameter of shape {tuple(p.shape)} on {p.device} has a .grad of "
                         f"shape {tuple(p.grad.shape)} on {p.grad.device}; a gradient must match "
                         f"its parameter's shape and device")


def _state_tensor(state: dict, key: str, like) -> object:
    """The raw array of state entry ``key`` (a tensor, made as zeros like array ``like`` on
    first use); in-place writes to it are counted on the tensor's version."""
    entry = state.get(key)
    if entry is None:
        entry = state[key] = Tensor._wrap(backend.xp_of(like).zeros_like(like))
    entry._version_counter.value += 1
    return entry._array
