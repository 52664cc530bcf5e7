"""A Module run as a function of its parameters: ``functional_call`` and
``stack_module_state``, as ``torch.func``'s.

``functional_call(model, params, args)`` runs ``model(*args)`` with the tensors of ``params``
(a dict by dotted name, as ``named_parameters()`` gives them) in place of its parameters and
buffers, and puts the originals back after; so the model composes with ``grad``, ``vmap``
and the other transforms. ``stack_module_state(models)`` stacks the parameters and buffers of
several models of one class along a new first axis, for ``vmap`` over ``functional_call``
(model ensembling).

Example (per-example gradients, the torch.func recipe)::

    >>> from gpugrad.func import functional_call, grad, vmap
    >>> model = nn.Linear(3, 1)
    >>> params = {k: v.detach() for k, v in model.named_parameters()}
    >>> def loss(params, x, y):                     # one example: x (3,), y (1,)
    ...     return ((functional_call(model, params, (x,)) - y) ** 2).sum()
    >>> grads = vmap(grad(loss), in_dims=(None, 0, 0))(params, gpugrad.ones(8, 3),
    ...                                                 gpugrad.zeros(8, 1))
    >>> grads["weight"].shape, grads["bias"].shape          # one gradient per example
    ((8, 1, 3), (8, 1))
"""

from __future__ import annotations

import contextlib

from ..ops.shape import stack
from ..tensor import Tensor

__all__ = ["functional_call", "stack_module_state"]

_MISSING = object()


def functional_call(module, parameter_and_buffer_dicts, args=None, kwargs=None, *,
                    tie_weights: bool = True, strict: bool = False):
    """``module(*args, **kwargs)`` with the tensors of ``parameter_and_buffer_dicts`` (a dict,
    or a tuple/list of dicts with no key in two, by dotted name: ``"0.weight"``) standing for
    the module's parameters and buffers of those names; the module's own come back after.

    - ``args``: a tuple of positional arguments (a single value is one argument);
    - ``tie_weights``: a tensor given for one name of a tied weight (one Parameter under two
      names) stands for all its names (False: only for the name given);
    - ``strict``: the dict must name every parameter and buffer (a tied weight's other
      names count as given), and nothing else.

    A parametrized name (``"weight"`` after ``weight_norm``) is set through its
    parametrization's ``right_inverse``, as PyTorch's (a parametrization without one
    raises); give ``"parametrizations.weight.original0"`` (and so on) to keep it applied.

    Shapes: whatever ``module`` takes and returns. Example::

        >>> layer = nn.Linear(2, 1)
        >>> zeros = {"weight": gpugrad.zeros(1, 2), "bias": gpugrad.ones(1)}
        >>> func.functional_call(layer, zeros, (gpugrad.ones(3, 2),)).tolist()
        [[1.0], [1.0], [1.0]]
    """
    if isinstance(parameter_and_buffer_dicts, dict):
        given = parameter_and_buffer_dicts
    elif isinstance(parameter_and_buffer_dicts, (tuple, list)):
        if not all(isinstance(d, dict) for d in parameter_and_buffer_dicts):
            raise ValueError("functional_call: expected all elements of "
                             "parameter_and_buffer_dicts to be dictionaries")
        seen, repeated = set(), []
        for d in parameter_and_buffer_dicts:
            repeated += [k for k in d if k in seen and k not in repeated]
            seen.update(d)
        if repeated:
            raise ValueError(f"{repeated} appeared in multiple dictionaries; behavior of "
                             f"functional call is ambiguous (give each name once)")
        given = {k: v for d in parameter_and_buffer_dicts for k, v in d.items()}
    else:
        raise ValueError(f"functional_call: expected parameter_and_buffer_dicts to be a dict, "
                         f"or a list/tuple of dicts, but got {type(parameter_and_buffer_dicts)}")
    args = () if args is None else args if isinstance(args, tuple) else (args,)
    with _reparametrized(module, given, tie_weights, strict):
        return module(*args, **({} if kwargs is None else kwargs))


def _named_tensors(module) -> dict:
    """Every parameter and buffer of ``module`` under each of its names."""
    named = dict(module.named_parameters(remove_duplicate=False))
    named.update(module.named_buffers(remove_duplicate=False))
    return named


def _untied(module, given: dict) -> dict:
    """``given`` with each tensor given for a tied weight's name set for all its names."""
    names_of: dict = {}
    for name, tensor in _named_tensors(module).items():
        names_of.setdefault(id(tensor), set()).add(name)
    tied = {name: names for names in names_of.values() if len(names) > 1 for name in names}
    out = dict(given)
    for name in [n for n in given if n in tied]:
        values = {id(given[n]) for n in tied[name] if n in given}
        if len(values) > 1:
            raise ValueError(f"functional_call got multiple values for keys "
                             f"{sorted(n for n in tied[name] if n in given)}, which are tied. "
                             f"Consider using tie_weights=False")
        for other in tied[name]:
            out[other] = given[name]
    return out


def _swap(module, path: str, value):
    """Put ``value`` (a tensor, or _MISSING: remove it) at dotted ``path``; the old one."""
    owner_path, _, name = path.rpartition(".")
    owner = module.get_submodule(owner_path)
    state = owner.__dict__
    if isinstance(getattr(type(owner), name, None), property) and \
            name not in state["_parameters"] and name not in state["_buffers"]:
        return _swap_property(owner, name, value)
    old = state.get(name, _MISSING)
    for registry in (state["_parameters"], state["_buffers"]):
        if name in registry:                        # (written without the checks of
            registry._put(name, None if value is _MISSING else value)  # __setattr__)
            break
    if value is _MISSING:
        state.pop(name, None)
    else:
        state[name] = value
    return old


def _swap_property(owner, name: str, value):
    """Swap through a class property (a parametrized tensor's, or a user's), as PyTorch's
    accessor: ``setattr`` runs its setter (a parametrization's ``right_inverse``, which
    stores ``value`` in ``parametrizations.<name>.original`` in place) and raises where it
    has none. Putting the old value back goes through ``right_inverse`` again, as PyTorch."""
    old = getattr(owner, name)
    if value is not _MISSING:
        setattr(owner, name, value)
    return old


@contextlib.contextmanager
def _reparametrized(module, given: dict, tie_weights: bool, strict: bool):
    for path, value in given.items():
        if not isinstance(value, Tensor):
            raise TypeError(f"functional_call: '{path}' must be a Tensor, got a "
                            f"{type(value).__name__}")
    values = _untied(module, given) if tie_weights else given
    if strict:                                  # (on the untied names, as PyTorch)
        valid = set(_named_tensors(module))
        missing, unexpected = sorted(valid - set(values)), sorted(set(values) - valid)
        errors = ([f"Unexpected key(s): {', '.join(map(repr, unexpected))}."]
                  if unexpected else []) + \
            ([f"Missing key(s): {', '.join(map(repr, missing))}."] if missing else [])
        if errors:
            raise RuntimeError(f"Error(s) in reparametrizing for {type(module).__name__}:\n\t"
                               + "\n\t".join(errors))
    originals = {}
    try:
        for path, value in values.items():
            originals[path] = _swap(module, path, value)
        yield
    finally:
        for path, old in originals.items():
            now = _swap(module, path, old)
            if path in given and now is not _MISSING and now is not values[path]:
                given[path] = now                   # (replaced inside: as PyTorch's)


def stack_module_state(models) -> tuple:
    """``(params, buffers)``: dicts by name of each parameter (and buffer) of ``models`` (one
    class, all in training or all in eval mode) stacked along a new first axis, for
    ``vmap(functional_call)`` over the models. Stacked parameters are new leaves that
    require grad. Shapes: k models with a weight (o, i) give ``params["weight"]`` (k, o, i).

    Example::

        >>> models = [nn.Linear(3, 2) for _ in range(4)]
        >>> params, buffers = func.stack_module_state(models)
        >>> params["weight"].shape, params["weight"].requires_grad, buffers
        ((4, 2, 3), True, {})
    """
    models = list(models)
    if not models:
        raise RuntimeError("stack_module_state: Expected at least one model, got 0.")
    if len({m.training for m in models}) > 1:
        raise RuntimeError("stack_module_state: Expected all models to have the same "
                           "training/eval mode.")
    if len({type(m) for m in models}) > 1:
        raise RuntimeError("stack_module_state: Expected all models to be of the same class.")
    return (_stacked([dict(m.named_parameters()) for m in models]),
            _stacked([dict(m.named_buffers()) for m in models]))


def _stacked(dicts: list) -> dict:
    out = {}
    for name in dicts[0]:
        tensors = [d[name] for d in dicts]
        needs = {t.requires_grad for t in tensors}
        if len(needs) > 1:
            raise RuntimeError(f"Expected {name} from each model to have the same "
                               f".requires_grad")
        result = stack(tensors)
        if needs == {True}:
            result = result.detach().requires_grad_()
        out[name] = result
    return out


def replace_all_batch_norm_modules_(root):
    """Make every batch norm in ``root`` use its batch's statistics only (running statistics
    None, ``track_running_stats=False``), in place, so that ``vmap`` over the model (per
    example gradients, ensembling) never writes into running statistics shared by every
    example; as ``torch.func.replace_all_batch_norm_modules_``. Returns ``root``.

    Example::

        >>> model = nn.Sequential(nn.Linear(3, 4), nn.BatchNorm1d(4))
        >>> m = func.replace_all_batch_norm_modules_(model)
        >>> m is model, model[1].running_mean, model[1].track_running_stats
        (True, None, False)
    """
    from ..nn.batch_norm import _BatchNorm       # (nn builds on this floor's transforms)
    for module in root.modules():
        if isinstance(module, _BatchNorm) and module.track_running_stats:
            module.running_mean = module.running_var = None
            module.num_batches_tracked = None
            module.track_running_stats = False
    return root
