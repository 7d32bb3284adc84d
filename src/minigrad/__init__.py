"""minigrad: a small deep-learning framework you can read in an afternoon."""

from . import autograd
from .autograd import is_grad_enabled, no_grad
from .tensor import Tensor, concat, stack

from . import functional, nn, optim
from .nn import (
    CrossEntropyLoss,
    Dropout,
    Embedding,
    GRUCell,
    Linear,
    LSTMCell,
    Module,
    MSELoss,
    Parameter,
    ReLU,
    RNN,
    RNNCell,
    Sequential,
    Sigmoid,
    Tanh,
)
from .optim import SGD, Adagrad, Adam, clip_grad_norm
from .serialization import load, save

__version__ = "0.1.0"
