"""``nn.utils.stateless``: the older home of ``functional_call`` (PyTorch's, deprecated there
in favour of ``torch.func.functional_call``), kept for code written against it.

Example::

    >>> from gpugrad.nn.utils.stateless import functional_call
    >>> model = nn.Linear(2, 1, bias=False)
    >>> functional_call(model, {"weight": gpugrad.ones(1, 2)}, (gpugrad.ones(2),)).tolist()
    [2.0]
"""

from ...func.functional_call import functional_call

__all__ = ["functional_call"]
