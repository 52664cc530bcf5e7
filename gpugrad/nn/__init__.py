"""Neural-network building blocks: Module, Parameter, layers, losses and functional forms.

Example::

    >>> from gpugrad import nn
    >>> model = nn.MLP([64, 128, 10])
    >>> loss = nn.CrossEntropyLoss()(model(x), labels)
"""

from . import functional
from .layers import MLP, Dropout, Identity, Linear, ReLU, Sequential, Sigmoid, Tanh
from .losses import CrossEntropyLoss, MSELoss
from .module import Module, Parameter

__all__ = ["functional", "Module", "Parameter", "Linear", "ReLU", "Tanh", "Sigmoid",
           "Dropout", "Identity", "Sequential", "MLP", "MSELoss", "CrossEntropyLoss"]
