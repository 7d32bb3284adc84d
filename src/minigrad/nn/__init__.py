"""Layers and losses: Modules that own parameters."""

from .layers import Dropout, Embedding, Linear, ReLU, Sequential, Sigmoid, Tanh
from .losses import CrossEntropyLoss, MSELoss
from .memory import AdjacentMemN2N, LayerwiseMemN2N, MemN2N, memn2n
from .module import Module, Parameter
from .recurrent import RNN, GRUCell, LSTMCell, RNNCell
