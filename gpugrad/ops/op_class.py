"""What an op record declares: the ``Op`` base class, the rule shortcuts (``LINEAR``,
``ELEMENTWISE``, ``BROADCAST``, ``AXIS``), the complex-gradient marks (``HOLOMORPHIC``,
``OWN_RULES``) and ``REGISTRY``, every record by name.

Defining a subclass of ``Op`` registers it and checks its declarations there and then: its
``save`` names and its parameters. What a record holds, and how an application of one is
recorded, is in ``ops/record.py`` (which re-exports these names: records import them from
there).

Example::

    >>> from gpugrad.ops.op_class import REGISTRY
    >>> REGISTRY["Exp"].save
    'ans'
"""

from __future__ import annotations

import inspect

from ..autograd.graph import Node

__all__ = ["Op", "LINEAR", "ELEMENTWISE", "BROADCAST", "AXIS", "REGISTRY", "refuse_shadowing",
           "HOLOMORPHIC", "OWN_RULES"]

REGISTRY: dict[str, type] = {}


class _Shortcut:
    def __init__(self, name):
        self.name = name

    def __repr__(self):
        return self.name


LINEAR = _Shortcut("LINEAR")            # jvp(t) = op(t): the op is linear in its inputs
ELEMENTWISE = _Shortcut("ELEMENTWISE")  # jvp(t) = vjp(t): unary op with a diagonal Jacobian
BROADCAST = _Shortcut("BROADCAST")      # vmap: element-wise; batch dims broadcast in front
AXIS = _Shortcut("AXIS")                # vmap: one input, its ``axis`` parameter shifted
# complex_grad (ops/complex_node.py): what the rules do for complex inputs or outputs
HOLOMORPHIC = _Shortcut("HOLOMORPHIC")  # JAX-style rules of a holomorphic op: conjugated
OWN_RULES = _Shortcut("OWN_RULES")      # the rules give PyTorch's complex gradients themselves


class Op:
    """Base of every op record. Subclasses define ``forward``, ``vjp``, ``jvp`` and ``save``
    (see the module docstring); defining one checks ``save`` and the op's parameters."""

    name: str = ""
    save = ()
    differentiable = True   # False: outputs never require grad (comparisons, argmax...)
    view = False            # True: the output may share memory with input 0
    broadcasts = False      # True: inputs broadcast against each other (better errors)
    jvp = None
    vmap = None             # the batching rule: None loops over the batch (with a warning)
    vjp_accumulate = None   # the vjp with in-place permissions passed in (module docstring)
    complex_grad = None     # HOLOMORPHIC / OWN_RULES; None: complex inputs needing grad refused
    _save_aux = False       # save names "aux": forward returns (output, aux)
    _open_params = False    # forward takes **params: their names are checked at apply time

    def __init_subclass__(cls, **kwargs):
        super().__init_subclass__(**kwargs)
        cls.name = cls.__dict__.get("name") or cls.__name__
        names = _save_names(cls)
        cls._save_all_inputs = "xs" in names
        cls._save_inputs = tuple(int(n[1:]) for n in names if n[0] == "x" and n != "xs")
        cls._save_ans = "ans" in names
        cls._save_aux = "aux" in names
        cls._open_params = _check_params(cls)
        REGISTRY[cls.name] = cls


_SAVE_FORMS = ('"x0", "x1"... (an input), "xs" (all inputs), "ans" (the output) or "aux" (a '
               'value forward returns beside its output), joined by "+" or spaces, e.g. '
               'save = "x0 ans"')


def _save_names(cls) -> tuple:
    """The names in ``cls.save`` (a string, or a tuple of strings), each checked."""
    save = cls.save
    try:
        parts = (save,) if isinstance(save, str) else tuple(save)
    except TypeError:
        parts = (None,)
    if not all(isinstance(p, str) for p in parts):
        raise TypeError(f"{cls.__name__}.save = {save!r}: write a string of names: "
                        f"{_SAVE_FORMS}")
    names = tuple(n for part in parts for n in part.replace("+", " ").split())
    for n in names:
        if n not in ("xs", "ans", "aux") and \
                not (n[0] == "x" and n[1:].isdigit() and n.isascii()):
            raise TypeError(f"{cls.__name__}.save = {save!r}: {n!r} names nothing its rules "
                            f"can read; name what they read: {_SAVE_FORMS}")
    return names


def _ctx_names() -> frozenset:
    """What a rule's ``ctx`` already has: the ``Node``'s attributes, methods and fields,
    and the ``out_shape`` of the forward rules' context (ops/jvp.py). An op parameter
    is set on the node as an attribute, so it must not take one of these names."""
    return frozenset(dir(Node)) | Node.FIELDS | {"out_shape"}


def _check_params(cls) -> bool:
    """Refuse a parameter of ``cls.forward`` that would shadow an attribute of the node (op
    parameters are set on it; inputs, named there too, cannot be told from them here).
    True when ``forward`` takes ``**params`` (or cannot be read): ``record`` checks those
    names as they come."""
    forward = getattr(cls, "forward", None)
    if forward is None:
        return False
    try:
        parameters = list(inspect.signature(forward).parameters.values())[1:]   # after xp
    except (TypeError, ValueError):
        return True
    for p in parameters:
        if p.kind is p.VAR_KEYWORD:
            return True
        if p.kind is not p.VAR_POSITIONAL:
            refuse_shadowing(cls.__name__, p.name)
    return False


def refuse_shadowing(op_name: str, name: str) -> None:
    if name in _CTX_NAMES:
        raise TypeError(
            f"{op_name}: the op parameter {name!r} would shadow ctx.{name}, which the Node "
            f"its rules read it from already has (as it has xs, ans, shapes, dtypes, "
            f"needs(), name()...); give the parameter another name, e.g. {name}_")


_CTX_NAMES = _ctx_names()
