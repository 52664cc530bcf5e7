"""Neural-network building blocks: Module, Parameter, layers, containers, losses, functional
forms and initialisers (``nn.init``).

Example::

    >>> model = nn.MLP([4, 8, 3])                 # Linear(4, 8), ReLU, Linear(8, 3)
    >>> x, labels = gpugrad.randn(2, 4), gpugrad.tensor([0, 2])
    >>> loss = nn.CrossEntropyLoss()(model(x), labels)     # the batch's mean: 0-d
    >>> loss.backward()
    >>> loss.shape, model.layers[0].weight.grad.shape
    ((), (8, 4))
"""

from . import functional, init, utils
from .activation_layers import (CELU, ELU, GELU, GLU, SELU, Hardtanh, LeakyReLU, LogSigmoid,
                                Mish, ReLU6, SiLU, Softmax2d, Softmin, Softplus, Softsign,
                                Tanhshrink)
from .batch_norm import BatchNorm1d, BatchNorm2d, BatchNorm3d
from .containers import ModuleDict, ModuleList, ParameterDict, ParameterList
from .dropout_variants import (AlphaDropout, Dropout1d, Dropout2d, Dropout3d,
                               FeatureAlphaDropout)
from .embedding import Embedding
from .instance_norm import InstanceNorm1d, InstanceNorm2d, InstanceNorm3d
from .lazy import LazyLinear
from .layers import (Dropout, Flatten, Identity, Linear, LogSoftmax, ReLU, Sigmoid, Softmax,
                     Tanh, Unflatten)
from .sequential import MLP, Sequential
from .loss_layers import (BCELoss, BCEWithLogitsLoss, HuberLoss, KLDivLoss, L1Loss, NLLLoss,
                          SmoothL1Loss)
from .likelihood_losses import GaussianNLLLoss, PoissonNLLLoss
from .losses import CrossEntropyLoss, MSELoss
from .margin_loss_layers import (CosineEmbeddingLoss, HingeEmbeddingLoss, MarginRankingLoss,
                                 MultiLabelMarginLoss, MultiLabelSoftMarginLoss,
                                 MultiMarginLoss, SoftMarginLoss, TripletMarginLoss)
from .module import Module, Parameter
from .parameter import Buffer, UninitializedParameter
from .normalization import GroupNorm, LayerNorm, RMSNorm
from .pairwise import Bilinear, CosineSimilarity, PairwiseDistance
from .triplet_distance import TripletMarginWithDistanceLoss
from .piecewise_layers import (PReLU, RReLU, Hardshrink, Hardsigmoid, Hardswish, Softshrink,
                               Threshold)

__all__ = ["functional", "init", "utils", "Module", "Parameter", "Linear", "ReLU", "Tanh",
           "Sigmoid", "Dropout", "Identity", "Flatten", "Unflatten", "Softmax", "LogSoftmax",
           "Sequential", "ModuleList", "ModuleDict", "ParameterList", "ParameterDict", "MLP",
           "MSELoss", "CrossEntropyLoss", "Embedding", "LayerNorm", "RMSNorm", "GroupNorm",
           "BatchNorm1d", "BatchNorm2d", "ELU", "GELU", "Hardtanh", "LeakyReLU", "ReLU6",
           "SiLU", "Softplus", "BCELoss", "BCEWithLogitsLoss", "HuberLoss", "KLDivLoss",
           "L1Loss", "NLLLoss", "SmoothL1Loss", "CELU", "GLU", "SELU", "LogSigmoid", "Mish",
           "Softmin", "Softsign", "Tanhshrink", "PReLU", "RReLU", "Hardshrink", "Hardsigmoid",
           "Hardswish", "Softshrink", "Threshold", "Bilinear", "CosineSimilarity",
           "PairwiseDistance", "AlphaDropout", "Dropout1d", "Dropout2d", "Dropout3d",
           "FeatureAlphaDropout", "GaussianNLLLoss", "PoissonNLLLoss", "CosineEmbeddingLoss",
           "HingeEmbeddingLoss", "MarginRankingLoss", "MultiLabelMarginLoss",
           "MultiLabelSoftMarginLoss", "MultiMarginLoss", "SoftMarginLoss",
           "TripletMarginLoss", "BatchNorm3d", "InstanceNorm1d", "InstanceNorm2d",
           "InstanceNorm3d", "Buffer", "UninitializedParameter", "LazyLinear",
           "Softmax2d", "TripletMarginWithDistanceLoss"]
