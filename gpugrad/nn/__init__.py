"""Neural-network building blocks: Module, Parameter, layers, losses and functional forms.

Example::

    >>> model = nn.MLP([4, 8, 3])                 # Linear(4, 8), ReLU, Linear(8, 3)
    >>> x, labels = gpugrad.randn(2, 4), gpugrad.tensor([0, 2])
    >>> loss = nn.CrossEntropyLoss()(model(x), labels)     # the batch's mean: 0-d
    >>> loss.backward()
    >>> loss.shape, model.layers[0].weight.grad.shape
    ((), (8, 4))
"""

from . import functional, utils
from .layers import MLP, Dropout, Identity, Linear, ReLU, Sequential, Sigmoid, Tanh
from .losses import CrossEntropyLoss, MSELoss
from .module import Module, Parameter

__all__ = ["functional", "utils", "Module", "Parameter", "Linear", "ReLU", "Tanh", "Sigmoid",
           "Dropout", "Identity", "Sequential", "MLP", "MSELoss", "CrossEntropyLoss"]
