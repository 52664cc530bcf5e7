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
from .activation_layers import ELU, GELU, Hardtanh, LeakyReLU, ReLU6, SiLU, Softplus
from .embedding import Embedding
from .layers import MLP, Dropout, Identity, Linear, ReLU, Sequential, Sigmoid, Tanh
from .loss_layers import (BCELoss, BCEWithLogitsLoss, HuberLoss, KLDivLoss, L1Loss, NLLLoss,
                          SmoothL1Loss)
from .losses import CrossEntropyLoss, MSELoss
from .module import Module, Parameter
from .normalization import LayerNorm

__all__ = ["functional", "utils", "Module", "Parameter", "Linear", "ReLU", "Tanh", "Sigmoid",
           "Dropout", "Identity", "Sequential", "MLP", "MSELoss", "CrossEntropyLoss",
           "Embedding", "LayerNorm", "ELU", "GELU", "Hardtanh", "LeakyReLU", "ReLU6", "SiLU",
           "Softplus", "BCELoss", "BCEWithLogitsLoss", "HuberLoss", "KLDivLoss", "L1Loss",
           "NLLLoss", "SmoothL1Loss"]
