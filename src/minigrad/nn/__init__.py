"""Layers and losses: Modules that own parameters."""

from .layers import Dropout, Embedding, Linear, ReLU, Sequential, Sigmoid, Tanh
from .losses import CrossEntropyLoss, MSELoss
from .module import Module, Parameter
from .recurrent import RNN, GRUCell, LSTMCell, RNNCell
