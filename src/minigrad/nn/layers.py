"""Feed-forward layers: Linear, Embedding, the activations, Dropout, and
Sequential to chain them."""

import numpy as np

from .. import functional as F
from .. import ops
from ..backend import get_array_module
from ..errors import MinigradError
from ..tensor import Tensor
from .module import Module, Parameter


class LayerError(MinigradError, ValueError):
    """A layer or loss was given a setting or an input it cannot use."""


def as_tensor(x) -> Tensor:
    """``x`` as a Tensor (arrays and lists are wrapped, Tensors kept)."""
    return x if isinstance(x, Tensor) else Tensor(x)


def as_indices(x):
    """The integer array of ids or class labels held by ``x``.

    Float values that are whole numbers are accepted and cast:
    ``Tensor([1, 2], autograd=True)`` stores its ids as float32, because asking
    for a gradient marks a list of ints as values.
    """
    array = x.data if isinstance(x, Tensor) else x
    if not hasattr(array, "dtype"):
        array = np.asarray(array)
    if array.dtype.kind in "iu":
        return array
    xp = get_array_module(array)
    if array.dtype.kind == "f" and bool(xp.all(array == xp.round(array))):
        return array.astype(np.int64)
    raise LayerError(f"expected integer ids, got an array of dtype {array.dtype}.",
                     hint="Pass word ids or class labels as an integer array.")


class Linear(Module):
    """y = x @ W + b, with W of shape (n_inputs, n_outputs).

    Initialised as in the lesson: W ~ normal * sqrt(2 / n_inputs) (He), b = 0.
    The bias is added inside the same fused op as the product.

    Args:
        n_inputs: features per input row.
        n_outputs: features per output row.
        bias: learn a bias (default True).
    """

    def __init__(self, n_inputs, n_outputs, bias=True):
        self.n_inputs, self.n_outputs = n_inputs, n_outputs
        scale = np.sqrt(2.0 / n_inputs)
        self.weight = Parameter(np.random.randn(n_inputs, n_outputs) * scale, dtype=np.float32)
        self.bias = Parameter(np.zeros(n_outputs), dtype=np.float32) if bias else None

    def forward(self, input):
        input = as_tensor(input)
        if input.dtype.kind != "f":
            # The lesson feeds 0/1 integer features; numpy would make int @ float32
            # a float64 product, so cast to the weight's dtype instead.
            input = Tensor(input.data.astype(self.weight.dtype))
        return F.linear(input, self.weight, self.bias)


class Embedding(Module):
    """A lookup table: row ``i`` of ``weight`` is the vector of id ``i``.

    Initialised as in the lesson (a word2vec convention):
    weight = (uniform[0, 1) - 0.5) / dim, stored as float32, or from
    N(0, std^2) when ``std`` is given.

    Args:
        vocab_size: number of ids (rows).
        dim: length of each vector.
        padding_idx: an id (``<pad>``) whose vector is zero and never
            learns: the table is read through ``ZeroRow``, so that row adds
            nothing and gets no gradient however the table is used.
        std: draw the weights from a normal distribution with this spread.
    """

    def __init__(self, vocab_size, dim, padding_idx=None, std=None):
        self.vocab_size, self.dim, self.padding_idx = vocab_size, dim, padding_idx
        values = (np.random.rand(vocab_size, dim) - 0.5) / dim if std is None else \
            np.random.randn(vocab_size, dim) * std
        if padding_idx is not None:
            values[padding_idx] = 0
        self.weight = Parameter(values, dtype=np.float32)

    def table(self):
        """The weight as the model should read it: with the padding row held at zero."""
        if self.padding_idx is None:
            return self.weight
        return ops.ZeroRow.apply(self.weight, row=self.padding_idx)

    def forward(self, input):
        """Vectors of the integer ids in ``input``: shape ``input.shape + (dim,)``."""
        return F.embedding(self.table(), as_indices(input))


class Tanh(Module):
    """y = tanh(x), elementwise."""

    def forward(self, input):
        return input.tanh()


class Sigmoid(Module):
    """y = 1 / (1 + e^-x), elementwise."""

    def forward(self, input):
        return input.sigmoid()


class ReLU(Module):
    """y = max(x, 0), elementwise."""

    def forward(self, input):
        return input.relu()


class Dropout(Module):
    """Inverted dropout: in training mode each element is zeroed with
    probability ``p`` and the survivors are scaled by 1 / (1 - p), so the
    expected value is unchanged and evaluation needs no rescaling. In
    evaluation mode (``model.eval()``) it passes its input through.

    Args:
        p: probability of zeroing an element, in [0, 1).
    """

    def __init__(self, p=0.5):
        if not 0.0 <= p < 1.0:
            raise LayerError(f"dropout probability must be in [0, 1), not {p}.")
        self.p = p

    def forward(self, input):
        if not self.training or self.p == 0.0:
            return input
        xp = get_array_module(input.data)
        mask = (xp.random.rand(*input.shape) >= self.p).astype(input.dtype)
        mask *= 1.0 / (1.0 - self.p)
        return input * mask


class Sequential(Module):
    """Layers applied one after another: ``Sequential([Linear(2, 3), Tanh()])``.

    Args:
        layers: the layers, in order (more can be appended with ``add``).
    """

    def __init__(self, layers=None):
        # A fresh list: the lesson's ``layers=list()`` default shared one list
        # between every Sequential built without arguments.
        self.layers = list(layers) if layers is not None else []

    def add(self, layer):
        """Append ``layer`` to the end of the chain."""
        self.layers.append(layer)
        return self

    def forward(self, input):
        for layer in self.layers:
            input = layer.forward(input)
        return input

    def __getitem__(self, i):
        return self.layers[i]

    def __len__(self):
        return len(self.layers)

    def __iter__(self):
        return iter(self.layers)
