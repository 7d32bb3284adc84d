"""The lesson's names with the lesson's conventions, on minigrad's engine.

``from minigrad.lesson import Tensor, Linear, ...`` in place of the classes
the lesson writes by hand runs the lesson's programs unchanged and prints the
lesson's numbers. Each name here is a thin subclass of (or is) minigrad's own
class; the graph, the ops and their backward passes are minigrad's. Where
they differ from plain ``minigrad``, and why:

* **Cross-entropy.** The lesson's loss reports the mean over the batch but
  backpropagates ``softmax - one_hot`` for every row: the gradient of the
  *summed* loss, batch-size times the gradient of the number it prints. Its
  learning rates were tuned with that gradient (the bAbI loop's
  ``alpha=0.05`` moves the weights as 5.0 would with the true gradient), so
  ``CrossEntropyLoss`` here is the op ``LessonCrossEntropy``, whose gradient
  is that of the sum. ``minigrad.CrossEntropyLoss`` keeps the true gradient
  of the mean. ``Tensor.cross_entropy`` is still minigrad's.
* **float64.** The lesson stores ``np.array(data)``, so its weights and
  Python floats are float64; minigrad stores them as float32 (half the
  memory, faster products). Here they are float64, so the printouts agree
  to the digits the lesson prints.
* **Random ids.** Each of the lesson's tensors draws
  ``np.random.randint(100)`` as its id from numpy's global generator, in
  between the draws of the weights. ``Tensor`` and every parameter here draw
  one too, so after the lesson's ``np.random.seed(0)`` the weights are the
  lesson's. The lesson also draws one for every intermediate tensor of
  forward and backward; minigrad's ops do not, so after training the
  generator is elsewhere than the lesson's (which matters only to a program
  that builds a second model without seeding again).
* **SGD** zeroes the gradients in place, as the lesson's ``p.grad.data *= 0``
  does, so ``p.grad`` stays an array of zeros; minigrad's drops it.
* **Layer** is the lesson's base class: a subclass lists what it learns in
  the list ``self.parameters``.
* **LSTMCell.** The lesson's chapter has none; this is minigrad's cell with
  the conventions above and zero biases (minigrad starts the forget gate's
  bias at 1).
"""

import numpy as np

from . import nn, optim
from .autograd import Function
from .backend import get_array_module
from .nn import MSELoss, Module, Sigmoid, Tanh
from .nn.losses import class_ids
from .nn.recurrent import ACTIVATIONS, RecurrentLayerError
from .ops.loss import _log_softmax
from .tensor import Tensor as _Tensor

__all__ = [
    "Tensor", "Layer", "Linear", "Sequential", "Tanh", "Sigmoid", "Embedding", "RNNCell", "LSTMCell",
    "MSELoss", "CrossEntropyLoss", "SGD", "LessonCrossEntropy",
]


def _draw_id() -> int:
    """A tensor's id, drawn as the lesson draws it: this keeps numpy's global
    generator in step with the lesson's, so a seed gives the lesson's weights."""
    return int(np.random.randint(100))


def _as_lesson_array(data, autograd):
    """``data`` stored as the lesson stores it, ``np.array(data)``: Python floats
    become float64 (minigrad would make float32). Arrays keep their dtype, and a
    list of ints that asks for a gradient becomes float64 so it can have one."""
    if isinstance(data, _Tensor):
        return data.data
    if hasattr(data, "dtype") and not isinstance(data, np.generic):
        return data
    array = np.array(data)
    return array.astype(np.float64) if autograd and array.dtype.kind in "iub" else array


class Tensor(_Tensor):
    """minigrad's Tensor, made the lesson's way: ``Tensor(data, autograd=True)``
    stores ``np.array(data)`` and draws a random ``id`` as the lesson does.

    The results of its operations are plain ``minigrad.Tensor``s.
    """

    __slots__ = ("id",)

    def __init__(self, data, autograd=False, id=None, dtype=None, device=None):
        super().__init__(_as_lesson_array(data, autograd), requires_grad=autograd, dtype=dtype, device=device)
        self.id = _draw_id() if id is None else id


class _Parameter(nn.Parameter):
    """A weight as the lesson makes one: float64, drawing its id once its values are drawn."""

    __slots__ = ("id",)

    def __init__(self, values):
        super().__init__(values, dtype=np.float64)
        self.id = _draw_id()


class Layer(Module):
    """The lesson's base class: a subclass appends the tensors it learns to the
    list ``self.parameters``; ``get_parameters`` returns them, then any
    minigrad parameters or layers it holds as attributes."""

    def __init__(self):
        self.parameters = []

    def get_parameters(self):
        listed = list(self.parameters)
        seen = {id(p) for p in listed}
        return listed + [p for p in Module.parameters(self) if id(p) not in seen]


class Linear(nn.Linear):
    """The lesson's Linear: W = randn(n_inputs, n_outputs) * sqrt(2 / n_inputs), b = 0, float64."""

    def __init__(self, n_inputs, n_outputs, bias=True):
        self.n_inputs, self.n_outputs = n_inputs, n_outputs
        self.weight = _Parameter(np.random.randn(n_inputs, n_outputs) * np.sqrt(2.0 / n_inputs))
        self.bias = _Parameter(np.zeros(n_outputs)) if bias else None


class Embedding(nn.Embedding):
    """The lesson's Embedding: weight = (rand(vocab_size, dim) - 0.5) / dim, float64."""

    def __init__(self, vocab_size, dim):
        self.vocab_size, self.dim = vocab_size, dim
        self.padding_idx = None  # the lesson's table has no padding row: every row learns
        self.weight = _Parameter((np.random.rand(vocab_size, dim) - 0.5) / dim)


class Sequential(nn.Sequential):
    """The lesson's Sequential: its parameters are each layer's ``get_parameters()``
    in order, so a lesson-style ``Layer`` inside it is trained too."""

    def get_parameters(self):
        return [p for layer in self.layers for p in layer.get_parameters()]


def _output_layer(n_hidden, n_output):
    """The lesson's read-out ``w_ho`` (None leaves it out, as minigrad's cells allow)."""
    return None if n_output is None else Linear(n_hidden, n_output)


def _zero_state(batch_size, n_hidden):
    """The lesson's starting state: ``Tensor(np.zeros(...), autograd=True)``."""
    return Tensor(np.zeros((batch_size, n_hidden)), autograd=True)


class RNNCell(nn.RNNCell):
    """The lesson's RNNCell: minigrad's fused cell, with its three Linear layers
    w_ih, w_hh, w_ho made (and so drawn) in the lesson's order."""

    def __init__(self, n_inputs, n_hidden, n_output, activation="sigmoid"):
        if activation not in ACTIVATIONS:
            raise RecurrentLayerError(f"unknown activation {activation!r} for RNNCell.",
                                      hint=f"Use one of: {', '.join(ACTIVATIONS)}.")
        self.n_inputs, self.n_hidden, self.n_output = n_inputs, n_hidden, n_output
        self.activation = activation
        self.w_ih = Linear(n_inputs, n_hidden)
        self.w_hh = Linear(n_hidden, n_hidden)
        self.w_ho = _output_layer(n_hidden, n_output)

    def init_hidden(self, batch_size=1):
        return _zero_state(batch_size, self.n_hidden)


class LSTMCell(nn.LSTMCell):
    """minigrad's LSTMCell with the lesson's conventions: float64 weights drawn
    by the lesson's Linear, and every bias zero."""

    def __init__(self, n_inputs, n_hidden, n_output):
        self.n_inputs, self.n_hidden, self.n_output = n_inputs, n_hidden, n_output
        self.w_gates = Linear(n_inputs + n_hidden, 4 * n_hidden)
        self.w_ho = _output_layer(n_hidden, n_output)

    def init_hidden(self, batch_size=1):
        """The pair (h, c) of zeros."""
        return _zero_state(batch_size, self.n_hidden), _zero_state(batch_size, self.n_hidden)


class LessonCrossEntropy(Function):
    """The lesson's cross-entropy: f = sum of -log softmax(x)[t] over rows;  f' = softmax(x) - one_hot(t).

    With ``report="mean"`` (the lesson's) the value returned is f divided by
    the number of rows, what the lesson prints, while the gradient stays that
    of f. ``report="sum"`` returns f itself, the function the gradient belongs
    to, which is what the gradient check compares against.
    """

    def forward(self, logits, targets, report="mean"):
        if report not in ("mean", "sum"):
            raise ValueError(f"report must be 'mean' or 'sum', not {report!r}")
        xp = get_array_module(logits)
        log_probs = _log_softmax(logits.reshape(-1, logits.shape[-1]), axis=1)
        rows, targets = xp.arange(targets.size), targets.reshape(-1)
        total = -log_probs[rows, targets].sum()
        self.saved = (log_probs, rows, targets, logits.shape)
        return xp.asarray(total / len(rows) if report == "mean" else total, dtype=logits.dtype)

    def backward(self, gy):
        log_probs, rows, targets, shape = self.saved
        grad = get_array_module(log_probs).exp(log_probs)
        grad[rows, targets] -= 1
        return ((grad * gy).reshape(shape),)


class CrossEntropyLoss(Module):
    """The lesson's loss: prints the mean cross-entropy of logits against class
    ids and backpropagates the gradient of the sum (``LessonCrossEntropy``)."""

    def forward(self, input, target):
        return LessonCrossEntropy.apply(input, targets=class_ids(input, target))


class SGD(optim.SGD):
    """The lesson's SGD: ``p -= alpha * grad``; ``step()`` then zeroes every
    gradient in place (``step(zero=False)`` keeps them), leaving arrays of zeros."""

    def __init__(self, parameters, alpha=0.1):
        super().__init__(parameters, alpha=alpha)

    def zero(self):
        for p in self.parameters:
            if p.grad is not None:
                p.grad.data[...] = 0

    zero_grad = zero
