"""What a call must match to replay a recorded step (``gpugrad.compile``): the signature
taken when the recording began, and ``matches(inputs)``, generated as one function with
every condition an inlined comparison (it runs before every replay).

Example::

    >>> from gpugrad.step_signature import Signature, matcher
    >>> x = gpugrad.ones(2, 3)
    >>> matches = matcher(Signature([x]), guards=[], checks=[])
    >>> matches([gpugrad.zeros(2, 3)]), matches([gpugrad.zeros(3, 2)])
    (True, False)
"""

from __future__ import annotations

import weakref

from .autograd.autocast_mode import _state as _autocast
from .autograd.compile_mode import structure
from .autograd.mode import _state as _grad_mode
from .autograd.saved_hooks import _hooks as _saved_hooks
from .func.transforms import differentiating
from .nn.attributes import holders_of
from .nn.parameter import Parameter
from .tensor import Tensor

__all__ = ["Signature", "matcher", "is_module_state"]


def is_module_state(t) -> bool:
    """Whether ``t`` is a parameter or a registered buffer: passed as an input, the step may
    read it by reference too, so a program is for that very tensor. (A plain tensor
    attribute passed in, such as a recurrent state ``st.h = rnn(st.h, x)``, is not: it is a
    new tensor at every call.)"""
    return isinstance(t, Parameter) or any(name in module.__dict__["_buffers"]
                                           for module, name in holders_of(t))


class Signature:
    """What a call must match to replay a program, taken when the recording began: grad
    mode, anomaly mode, autocast and the saved-tensor hooks in force, and per input its
    array's type, shape and dtype and requires_grad
    (a tensor, not batched, with no forward-mode tangent); which inputs share one array
    (one tensor passed twice, or a tensor and its ``detach()``); which inputs must be the
    very tensors they were (a parameter passed in, or an optimizer's); and
    ``compile_mode.structure``'s epoch once the recording ended (modules and hooks
    unchanged since: a change the step itself made, such as a hook it adds and removes, is
    part of the recording)."""

    def __init__(self, inputs):
        self.grad_enabled = _grad_mode.grad_enabled
        self.anomaly = _grad_mode.anomaly_enabled
        self.autocast = _autocast.active
        self.saved_hooks = list(_saved_hooks.stack)
        # input position -> the tensor it must be: a parameter or buffer passed in (the
        # recorder adds an optimizer's parameters it finds among the inputs)
        self.same_objects = {i: t for i, t in enumerate(inputs) if is_module_state(t)}
        self.structure = structure.epoch    # (the recorder sets it again when it ends)
        self.inputs = [(t._array.__class__, t._array.shape, t._array.dtype, t._requires_grad)
                       for t in inputs]
        first: dict = {}            # (by array: two tensors may share one)
        self.aliases = tuple(first.setdefault(id(t._array), i) for i, t in enumerate(inputs))


def matcher(signature: Signature, guards: list, checks: list, grad_guards: list = (),
            attribute_guards: list = ()):
    """``matches(inputs)``: whether a call with ``inputs`` may replay the program, as one
    generated function (every condition a comparison inlined: this runs before every
    replay, so it costs what reading the attributes costs). Its conditions: the
    ``signature``; every tensor in ``guards`` still holds its array and still does (or does
    not) require grad; every ``(read, value)`` in ``checks`` still reads ``value``; every
    ``.grad`` in ``grad_guards`` is still None, or still an array of that type, shape and
    dtype; every ``(module, name, tensor)`` in ``attribute_guards`` still has
    ``module.name`` holding ``tensor``."""
    names = {"_grad_mode": _grad_mode, "_autocast": _autocast, "Tensor": Tensor,
             "_structure": structure, "_saved_hooks": _saved_hooks,
             "_differentiating": differentiating,
             "saved_hooks": signature.saved_hooks}
    terms = [f"_grad_mode.grad_enabled == {signature.grad_enabled!r}",
             f"_grad_mode.anomaly_enabled == {signature.anomaly!r}",
             f"_autocast.active == {signature.autocast!r}",
             f"_structure.epoch == {signature.structure!r}",
             "_saved_hooks.stack == saved_hooks"]
    n = len(signature.inputs)
    for i, (kind, shape, dtype, requires_grad) in enumerate(signature.inputs):
        names[f"k{i}"], names[f"d{i}"] = kind, dtype
        terms += [f"isinstance(t{i}, Tensor)", f"not t{i}._batched", f"not t{i}._tangents",
                  f"t{i}._array.__class__ is k{i}", f"t{i}._array.shape == {shape!r}",
                  f"t{i}._array.dtype == d{i}", f"t{i}._requires_grad == {requires_grad!r}"]
        terms.append(f"t{i}.grad_fn is None")      # (one with a graph is refused by the
        if requires_grad:                           # call, as is a grad transform's own)
            terms.append(f"id(t{i}) not in _differentiating.handles")
    for i, tensor in signature.same_objects.items():    # (held weakly: a program for a
        names[f"s{i}"] = weakref.ref(tensor)            # parameter goes with it)
        terms.append(f"t{i} is s{i}()")
    firsts = [j for j in range(n) if signature.aliases[j] == j]
    terms += [f"t{j}._array is t{i}._array" for j, i in enumerate(signature.aliases) if i != j]
    if len(firsts) <= 4:                # and the others distinct: pairwise (fast), or by a set
        terms += [f"t{j}._array is not t{k}._array" for j in firsts for k in firsts if k < j]
    else:
        listed = ", ".join(f"t{j}._array" for j in firsts)
        terms.append(f"len(set(map(id, ({listed},)))) == {len(firsts)}")
    for number, (tensor, array, requires_grad) in enumerate(guards):
        names[f"g{number}"], names[f"a{number}"] = tensor, array
        terms += [f"g{number}._array is a{number}",
                  f"g{number}._requires_grad == {requires_grad!r}"]
    for number, (read, value) in enumerate(checks):
        names[f"r{number}"], names[f"v{number}"] = read, value
        terms.append(f"r{number}() == v{number}")
    for number, (module, name, tensor) in enumerate(attribute_guards):
        # the module held weakly (a program keeps no module alive); a dead one matches nothing
        names[f"am{number}"], names[f"at{number}"] = weakref.ref(module), tensor
        terms.append(f"getattr(am{number}(), '__dict__', {{}}).get({name!r}) is at{number}")

    def grad_of(owner, name: str) -> str:
        if isinstance(owner, int):
            return f"t{owner}._grad"
        names[name] = owner
        return f"{name}._grad"

    for number, (owner, layout, source) in enumerate(grad_guards):
        grad = grad_of(owner, f"o{number}")
        if layout is None:
            terms.append(f"{grad} is None")
            continue
        names[f"ok{number}"], names[f"od{number}"] = layout[0], layout[2]
        terms += [f"{grad} is not None", f"{grad}._array.__class__ is ok{number}",
                  f"{grad}._array.shape == {layout[1]!r}", f"{grad}._array.dtype == od{number}"]
        if source is not None:                  # it shares the array of an input or another
            kind, other = source                # gradient found: still does
            held = f"t{other}._array" if kind == "input" else \
                f"{grad_of(other, f'os{number}')}._array"
            terms.append(f"{grad}._array is {held}")
    unpack = f"    {''.join(f't{i}, ' for i in range(n))}= inputs\n" if n else ""
    source = (f"def matches(inputs):\n    if len(inputs) != {n}:\n        return False\n"
              f"{unpack}    return (" + "\n            and ".join(terms) + ")")
    exec(compile(source, "<gpugrad.compile signature>", "exec"), names)   # noqa: S102
    return names["matches"]
