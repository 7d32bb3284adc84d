"""Every differentiable op minigrad has, one Function class each."""

from .elementwise import Add, Cast, Div, Exp, Log, Mul, Neg, Pow, PowTensor, ReLU, Sigmoid, Sub, Tanh
from .linalg import Linear, MatMul
from .loss import MSE, CrossEntropy, LogSoftmax, Softmax
from .memory import EmbeddingBag, MaskedSoftmax, ZeroRow
from .reduce import Max, Mean, Sum
from .sequence import LSTMLayer, RNNLayer
from .shape import BroadcastTo, Concat, DimError, Expand, GetItem, IndexSelect, Reshape, Stack, Transpose

# The public name of each op, as the gradcheck registry labels its cases. A test
# fails if one of these has no case, so a new op cannot ship unchecked.
PUBLIC_OPS = (
    "add", "sub", "mul", "div", "neg", "pow", "matmul", "linear",
    "transpose", "reshape", "expand", "broadcast_to", "getitem", "index_select", "concat", "stack",
    "sum", "mean", "max",
    "exp", "log", "tanh", "sigmoid", "relu",
    "softmax", "log_softmax", "cross_entropy", "mse",
    "rnn_step", "rnn_layer", "lstm_layer",
    "zero_row", "embedding_bag", "masked_softmax",
)
