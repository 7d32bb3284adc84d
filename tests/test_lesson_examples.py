"""The lesson's training examples, written the lesson's way, still train.

Each runs the lesson's code shape: ``np.random.seed(0)``, ``autograd=True``
tensors, ``model.forward``, ``loss.forward``, ``l.backward(Tensor(ones))`` and
``optimizer.step()``. Two are also replayed in plain numpy with hand-written
gradients, which minigrad must match step by step.

The second half runs the lesson's programs as the lesson prints them, on
``minigrad.lesson``, and checks they print the lesson's numbers.
"""

import contextlib
import io

import numpy as np
import pytest

from minigrad import CrossEntropyLoss, Embedding, Linear, MSELoss, SGD, Sequential, Sigmoid, Tanh, Tensor

X = np.array([[0, 0], [0, 1], [1, 0], [1, 1]])


def _train(model, loss, optimizer, x, y, epochs):
    losses = []
    for _ in range(epochs):
        y_hat = model.forward(x)
        l = loss.forward(y_hat, y)
        l.backward(Tensor(np.ones_like(l.data)))
        optimizer.step()
        losses.append(float(l.data.sum()))
    return losses


def test_raw_weights_with_sgd_match_numpy_step_by_step():
    np.random.seed(0)
    x = Tensor(X, autograd=True)
    y = Tensor(np.array([[0], [1], [0], [1]]), autograd=True)
    weights = [Tensor(np.random.rand(2, 3), autograd=True), Tensor(np.random.rand(3, 1), autograd=True)]
    w0, w1 = (w.data.copy() for w in weights)
    optimizer = SGD(weights, 0.1)
    for _ in range(10):
        y_hat = x.mm(weights[0]).mm(weights[1])
        loss = ((y_hat - y) * (y_hat - y)).sum(0)
        loss.backward(Tensor(np.ones_like(loss.data)))
        optimizer.step()
        # The same step in numpy, gradients by hand.
        h = X @ w0
        diff = h @ w1 - y.data
        np.testing.assert_allclose(loss.data, (diff * diff).sum(0), rtol=1e-12)
        g_out = 2 * diff
        w0, w1 = w0 - 0.1 * X.T @ (g_out @ w1.T), w1 - 0.1 * h.T @ g_out
    np.testing.assert_allclose(weights[0].data, w0, rtol=1e-10)
    assert loss.data[0] < 0.05


def test_sequential_tanh_sigmoid_mse_matches_numpy_and_learns():
    np.random.seed(0)
    x = Tensor(X, autograd=True)
    y = Tensor(np.array([[1], [0], [1], [0]]), autograd=True)
    model = Sequential([Linear(2, 3), Tanh(), Linear(3, 1), Sigmoid()])
    w1, b1, w2, b2 = (p.data.astype(np.float64) for p in model.get_parameters())
    loss = MSELoss()
    optimizer = SGD(parameters=model.get_parameters(), alpha=1)
    losses = _train(model, loss, optimizer, x, y, epochs=10)

    expected = []
    target = y.data
    for _ in range(10):
        h = np.tanh(X @ w1 + b1)
        out = 1 / (1 + np.exp(-(h @ w2 + b2)))
        expected.append(((out - target) ** 2).sum())
        g2 = 2 * (out - target) * out * (1 - out)
        g1 = (g2 @ w2.T) * (1 - h * h)
        w2, b2 = w2 - h.T @ g2, b2 - g2.sum(0)
        w1, b1 = w1 - X.T @ g1, b1 - g1.sum(0)
    np.testing.assert_allclose(losses, expected, rtol=1e-4)
    assert losses[-1] < 0.2 * losses[0]


def test_embedding_tanh_linear_sigmoid_mse_learns():
    np.random.seed(0)
    x = Tensor(np.array([1, 2, 1, 2]), autograd=True)
    y = Tensor(np.array([[0], [1], [0], [1]]), autograd=True)
    embed = Embedding(vocab_size=5, dim=3)
    model = Sequential([embed, Tanh(), Linear(3, 1), Sigmoid()])
    optimizer = SGD(parameters=model.get_parameters(), alpha=0.5)
    losses = _train(model, MSELoss(), optimizer, x, y, epochs=10)
    assert losses[-1] < 0.2 * losses[0]
    # Only the rows of ids 1 and 2 were used, so only they moved.
    np.random.seed(0)
    initial = (np.random.rand(5, 3) - 0.5) / 3
    moved = np.abs(embed.weight.data - initial).max(axis=1) > 1e-6
    assert moved.tolist() == [False, True, True, False, False]


def test_embedding_tanh_linear_cross_entropy_learns():
    np.random.seed(0)
    x = Tensor(np.array([1, 2, 1, 2]), autograd=True)
    y = Tensor(np.array([0, 1, 0, 1]), autograd=True)
    model = Sequential([Embedding(3, 3), Tanh(), Linear(3, 4)])
    loss = CrossEntropyLoss()
    optimizer = SGD(parameters=model.get_parameters(), alpha=0.1)
    losses = _train(model, loss, optimizer, x, y, epochs=100)
    assert abs(losses[0] - np.log(4)) < 0.1  # small initial logits: about uniform over 4 classes
    assert losses[-1] < 0.2 * losses[0]
    assert model.forward(x).data.argmax(axis=1).tolist() == [0, 1, 0, 1]


# ---- the lesson's programs as it prints them, on minigrad.lesson --------------------------
#
# Each program below is the lesson's code as written, with one line added: the
# import of the lesson's names from minigrad.lesson (in the lesson they are the
# classes defined a few cells before). Each test runs it and compares what it
# prints with the lesson's printout.

RAW_WEIGHTS_PROGRAM = """
from minigrad.lesson import Tensor, SGD
import numpy as np
np.random.seed(0)

x = Tensor(np.array([[0,0],[0,1],[1,0],[1,1]]), autograd=True)
y = Tensor(np.array([[0],[1],[0],[1]]), autograd=True)

weights = list()
weights.append(Tensor(np.random.rand(2,3), autograd=True))
weights.append(Tensor(np.random.rand(3,1), autograd=True))

optimizer = SGD(weights, 0.1)

for i in range(10): # epochs
    y_hat = x.mm(weights[0]).mm(weights[1]) # forward propagation
    loss = ((y_hat - y)*(y_hat - y)).sum(0) # compare
    loss.backward(Tensor(np.ones_like(loss.data))) # back propagation, feeding an initial gradient of 1 to the loss
    optimizer.step() # learn
    print(loss)
"""

MSE_LOSS_PROGRAM = """
from minigrad.lesson import Tensor, Sequential, Linear, MSELoss, SGD
import numpy as np
np.random.seed(0)

x = Tensor(np.array([[0, 0], [0,1], [1,0], [1,1]]), autograd=True)
y = Tensor(np.array([[1], [0], [1], [0]]), autograd=True)

model = Sequential([Linear(2,3), Linear(3,1)])
loss = MSELoss()
optimizer = SGD(parameters=model.get_parameters(), alpha=0.05)

for i in range(10):
    y_hat = model.forward(x)
    l = loss.forward(y_hat, y)
    l.backward(Tensor(np.ones_like(l.data)))
    optimizer.step()
    print(l)
"""

CROSS_ENTROPY_SETUP = """
from minigrad.lesson import Tensor, Sequential, Embedding, Tanh, Linear, CrossEntropyLoss, SGD
import numpy as np
np.random.seed(0)

x = Tensor(np.array([1,2,1,2]), autograd=True)
y = Tensor(np.array([0,1,0,1]), autograd=True)

model = Sequential([Embedding(3,3), Tanh(), Linear(3,4)])
loss = CrossEntropyLoss()
optimizer = SGD(parameters=model.get_parameters(), alpha=0.1)
"""

CROSS_ENTROPY_LOOP = """
for i in range(10):
    y_hat = model.forward(x)
    l = loss.forward(y_hat, y)
    l.backward(Tensor(np.ones_like(l.data)))
    optimizer.step()
    print(l)
"""


def _printed(source, namespace=None):
    """Run ``source`` and return the lines it prints."""
    output = io.StringIO()
    with contextlib.redirect_stdout(output):
        exec(source, {} if namespace is None else namespace)
    return output.getvalue().split()


def test_lessons_raw_weights_program_prints_the_lessons_losses():
    printed = _printed(RAW_WEIGHTS_PROGRAM)
    assert printed == ["[0.58128304]", "[0.48988149]", "[0.41375111]", "[0.34489412]", "[0.28210124]",
                       "[0.2254484]", "[0.17538853]", "[0.1324231]", "[0.09682769]", "[0.06849361]"]


def test_lessons_mse_loss_program_prints_the_lessons_losses():
    printed = _printed(MSE_LOSS_PROGRAM)
    assert printed == ["[1.6813686]", "[0.95192748]", "[0.72454581]", "[0.57489823]", "[0.45840608]",
                       "[0.36465316]", "[0.28883237]", "[0.22760439]", "[0.17835522]", "[0.13895393]"]


def test_lessons_cross_entropy_program_prints_the_lessons_losses():
    # The lesson's printout is its loop's second run on the same model (its
    # first run starts at 1.3449184264437202, about log 4). Both need the
    # lesson's weights, so its random ids, and the gradient of the summed loss.
    namespace = {}
    exec(CROSS_ENTROPY_SETUP, namespace)
    first = [float(v) for v in _printed(CROSS_ENTROPY_LOOP, namespace)]
    second = [float(v) for v in _printed(CROSS_ENTROPY_LOOP, namespace)]
    lesson = [0.1885620377278218, 0.16792356657516766, 0.15086902981053774, 0.13661027751993166,
              0.1245597425659242, 0.11427427141364929, 0.10541566875575809, 0.09772282456212722,
              0.0909918671530601, 0.08506189900243766]
    # The lesson prints 16 digits; the last can differ with the order of
    # floating-point operations, as it does for the lesson's own code on
    # another numpy.
    np.testing.assert_allclose(second, lesson, rtol=1e-13)
    assert first[0] == pytest.approx(1.3449184264437202, rel=1e-13)
