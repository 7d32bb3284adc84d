"""The lesson's training examples, written the lesson's way, still train.

Each runs the lesson's code shape: ``np.random.seed(0)``, ``autograd=True``
tensors, ``model.forward``, ``loss.forward``, ``l.backward(Tensor(ones))`` and
``optimizer.step()``. Two are also replayed in plain numpy with hand-written
gradients, which minigrad must match step by step.
"""

import numpy as np

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
