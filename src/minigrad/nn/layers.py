"""Feed-forward layers."""

import numpy as np

from .. import functional as F
from .module import Module, Parameter


class Linear(Module):
    """y = x @ W + b, with W of shape (n_inputs, n_outputs).

    Initialised as in the lesson: W ~ normal * sqrt(2 / n_inputs) (He), b = 0.
    The bias is added inside the same fused op as the product.
    """

    def __init__(self, n_inputs, n_outputs, bias=True):
        self.n_inputs, self.n_outputs = n_inputs, n_outputs
        scale = np.sqrt(2.0 / n_inputs)
        self.weight = Parameter(np.random.randn(n_inputs, n_outputs) * scale, dtype=np.float32)
        self.bias = Parameter(np.zeros(n_outputs), dtype=np.float32) if bias else None

    def forward(self, input):
        return F.linear(input, self.weight, self.bias)
