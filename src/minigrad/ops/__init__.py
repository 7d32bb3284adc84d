"""Every differentiable op minigrad has, one Function class each."""

from .elementwise import Add, Cast, Div, Exp, Log, Mul, Neg, Pow, PowTensor, ReLU, Sigmoid, Sub, Tanh
from .linalg import Linear, MatMul
from .loss import MSE, CrossEntropy, LogSoftmax, Softmax
from .memory import EmbeddingBag, MaskedSoftmax, ZeroRow
from .reduce import CumSum, Max, Mean, Sum
from .sequence import LSTMLayer, RNNLayer
from .shape import BroadcastTo, Concat, DimError, Expand, GetItem, IndexSelect, Reshape, Stack, Transpose

# The public name of each op, as the gradcheck registry labels its cases. The
# test that every op has a case does not read this list: it finds every Function
# subclass in the package and the ops each case's graph runs, so it cannot go stale.
PUBLIC_OPS = (
    "add", "sub", "mul", "div", "neg", "pow", "cast", "matmul", "linear",
    "transpose", "reshape", "expand", "broadcast_to", "getitem", "index_select", "concat", "stack",
    "sum", "mean", "max", "cumsum",
    "exp", "log", "tanh", "sigmoid", "relu",
    "softmax", "log_softmax", "cross_entropy", "mse",
    "rnn_step", "rnn_layer", "lstm_layer",
    "zero_row", "embedding_bag", "masked_softmax",
)
