"""The graph engine: the lesson's worked examples, broadcasting, deep graphs,
graph release, accumulation and no_grad."""

import weakref

import numpy as np
import pytest

import minigrad
from minigrad import Tensor, errors, ops
from minigrad.autograd import RELEASED, BackwardShapeError, Function, unbroadcast

# ---- the lesson's worked examples ---------------------------------------------------


def test_tensor_used_twice_gets_both_gradients():
    a = Tensor([1, 2, 3, 4, 5], autograd=True)
    b = Tensor([2, 2, 2, 2, 2], autograd=True)
    c = Tensor([5, 4, 3, 2, 1], autograd=True)
    d = a + b
    e = b + c
    f = d + e
    f.backward(Tensor([1, 1, 1, 1, 1]))
    assert (b.grad.data == [2, 2, 2, 2, 2]).all()
    np.testing.assert_array_equal(a.grad.numpy(), np.ones(5))
    np.testing.assert_array_equal(c.grad.numpy(), np.ones(5))


def test_negated_tensor_used_twice():
    a = Tensor([1, 2, 3, 4, 5], autograd=True)
    b = Tensor([2, 2, 2, 2, 2], autograd=True)
    c = Tensor([5, 4, 3, 2, 1], autograd=True)
    d = a + (-b)
    e = (-b) + c
    f = d + e
    f.backward(Tensor([1, 1, 1, 1, 1]))
    np.testing.assert_array_equal(b.grad.numpy(), [-2, -2, -2, -2, -2])


def test_index_select_of_eye():
    x = Tensor(np.eye(5), autograd=True)
    x.index_select(Tensor([[1, 2, 3], [2, 3, 4]])).backward()
    expected = np.array([0, 1, 2, 2, 1], dtype=float)[:, None] * np.ones((1, 5))
    np.testing.assert_array_equal(x.grad.numpy(), expected)


def _lesson_two_layer_run(lesson_ids):
    """The lesson's hand-written training loop; returns the 10 printed losses.

    The lesson's Tensor drew ``np.random.randint(100)`` for an id each time it
    was built, so its weights came from a random stream two (then one more)
    draws along. minigrad draws no ids; ``lesson_ids`` makes those draws here so
    the run starts from the same weights as the lesson.
    """
    np.random.seed(0)
    draw_id = np.random.randint if lesson_ids else (lambda high: None)
    x = Tensor(np.array([[0, 0], [0, 1], [1, 0], [1, 1]]), autograd=True)
    draw_id(100)
    y = Tensor(np.array([[0], [1], [0], [1]]), autograd=True)
    draw_id(100)
    weights = [Tensor(np.random.rand(2, 3), autograd=True)]
    draw_id(100)
    weights.append(Tensor(np.random.rand(3, 1), autograd=True))
    losses = []
    for _ in range(10):
        y_hat = x.mm(weights[0]).mm(weights[1])
        loss = ((y_hat - y) * (y_hat - y)).sum(0)
        loss.backward(Tensor(np.ones_like(loss.data)))
        for weight in weights:
            weight.data -= weight.grad.data * 0.1
            weight.grad.data *= 0
        losses.append(loss.numpy().copy())
    return losses


def test_lesson_training_loop_reproduces_its_losses():
    printed = [0.58128304, 0.48988149, 0.41375111, 0.34489412, 0.28210124,
               0.2254484, 0.17538853, 0.1324231, 0.09682769, 0.06849361]
    losses = _lesson_two_layer_run(lesson_ids=True)
    assert all(loss.shape == (1,) and loss.dtype == np.float64 for loss in losses)
    np.testing.assert_allclose(np.concatenate(losses), printed, rtol=0, atol=1e-8)


def test_lesson_training_loop_matches_numpy_by_hand():
    # Without the lesson's id draws the weights differ; check against the same
    # descent written out in numpy.
    np.random.seed(0)
    x = np.array([[0, 0], [0, 1], [1, 0], [1, 1]], dtype=float)
    y = np.array([[0], [1], [0], [1]], dtype=float)
    w0, w1 = np.random.rand(2, 3), np.random.rand(3, 1)
    expected = []
    for _ in range(10):
        hidden = x @ w0
        diff = hidden @ w1 - y
        expected.append((diff * diff).sum(0))
        g = 2 * diff
        w0, w1 = w0 - 0.1 * x.T @ (g @ w1.T), w1 - 0.1 * hidden.T @ g
    losses = _lesson_two_layer_run(lesson_ids=False)
    np.testing.assert_allclose(np.concatenate(losses), np.concatenate(expected), rtol=1e-12)
    assert expected[0][0] == pytest.approx(5.06643999, abs=1e-8)


# ---- broadcasting ----------------------------------------------------------------------


def test_broadcast_add_column_plus_row():
    a = Tensor(np.arange(3.0).reshape(3, 1), requires_grad=True)
    b = Tensor(np.arange(4.0).reshape(1, 4), requires_grad=True)
    g = np.arange(12.0).reshape(3, 4)
    out = a + b
    assert out.shape == (3, 4)
    out.backward(g)
    assert a.grad.shape == (3, 1) and b.grad.shape == (1, 4)
    np.testing.assert_array_equal(a.grad.numpy(), [[6.0], [22.0], [38.0]])
    np.testing.assert_array_equal(b.grad.numpy(), [[12.0, 15.0, 18.0, 21.0]])


def test_broadcast_mul_matrix_by_vector():
    xa = np.arange(20.0).reshape(5, 4)
    xb = np.array([1.0, -2.0, 3.0, 0.5])
    a, b = Tensor(xa, requires_grad=True), Tensor(xb, requires_grad=True)
    g = np.linspace(-1, 1, 20).reshape(5, 4)
    (a * b).backward(g)
    assert a.grad.shape == (5, 4) and b.grad.shape == (4,)
    np.testing.assert_allclose(a.grad.numpy(), g * xb)
    np.testing.assert_allclose(b.grad.numpy(), (g * xa).sum(0))


@pytest.mark.parametrize("left", [True, False], ids=["scalar-left", "scalar-right"])
def test_scalar_with_tensor(left):
    x = Tensor([[1.0, 2.0], [3.0, 4.0]], requires_grad=True)
    s = Tensor(2.0, requires_grad=True)  # a 0-d parameter
    out = s * x if left else x * s
    out.backward(np.array([[1.0, 0.0], [2.0, -1.0]]))
    assert s.grad.shape == ()
    assert s.grad.item() == 1 * 1 + 3 * 2 - 4
    np.testing.assert_array_equal(x.grad.numpy(), [[2.0, 0.0], [4.0, -2.0]])


@pytest.mark.parametrize("left", [True, False], ids=["number-left", "number-right"])
def test_python_number_with_tensor(left):
    x = Tensor([1.0, 2.0, 4.0], requires_grad=True)
    out = 10.0 / x if left else x / 10.0
    out.sum().backward()
    expected = -10.0 / np.array([1.0, 4.0, 16.0]) if left else np.full(3, 0.1)
    np.testing.assert_allclose(x.grad.numpy(), expected, rtol=1e-6)


def test_batched_matmul_against_shared_matrix():
    rng = np.random.default_rng(1)
    xa, xb = rng.standard_normal((2, 3, 4)), rng.standard_normal((4, 5))
    g = rng.standard_normal((2, 3, 5))
    a, b = Tensor(xa, requires_grad=True), Tensor(xb, requires_grad=True)
    out = a @ b
    np.testing.assert_allclose(out.numpy(), xa @ xb)
    out.backward(g)
    assert a.grad.shape == (2, 3, 4) and b.grad.shape == (4, 5)
    np.testing.assert_allclose(a.grad.numpy(), g @ xb.T)
    np.testing.assert_allclose(b.grad.numpy(), sum(xa[i].T @ g[i] for i in range(2)))


@pytest.mark.parametrize("method", ["sum", "mean"])
@pytest.mark.parametrize("dim", [None, 0, 1, 2, -1, (0, 2)])
@pytest.mark.parametrize("keepdim", [False, True])
def test_reduction_gradients(method, dim, keepdim):
    xa = np.arange(24.0).reshape(2, 3, 4)
    x = Tensor(xa, requires_grad=True)
    out = getattr(x, method)(dim, keepdim=keepdim)
    expected = getattr(xa, method)(axis=dim, keepdims=keepdim)
    np.testing.assert_allclose(out.numpy(), expected)
    g = np.arange(1.0, np.size(expected) + 1).reshape(np.shape(expected))
    out.backward(g)
    assert x.grad.shape == (2, 3, 4)
    # Each input element gets the upstream value of the output it fed, over n for a mean.
    axes = tuple(range(3)) if dim is None else tuple(np.atleast_1d(dim) % 3)
    spread = g if keepdim else np.expand_dims(g, axes)
    count = np.prod([xa.shape[a] for a in axes]) if method == "mean" else 1
    np.testing.assert_allclose(x.grad.numpy(), np.broadcast_to(spread, xa.shape) / count)


# ---- the seed gradient --------------------------------------------------------------------


def test_backward_on_one_element_seeds_one():
    x = Tensor([3.0], requires_grad=True)
    (x * x).backward()
    np.testing.assert_array_equal(x.grad.numpy(), [6.0])
    y = Tensor(2.0, requires_grad=True)
    (y * y * y).backward()
    assert y.grad.item() == 12.0


def test_backward_on_larger_tensor_seeds_ones():
    x = Tensor([1.0, 2.0, 3.0], requires_grad=True)
    (x * x).backward()
    np.testing.assert_array_equal(x.grad.numpy(), [2.0, 4.0, 6.0])


def test_backward_with_given_gradient():
    x = Tensor([1.0, 2.0], requires_grad=True)
    (x * 3).backward(Tensor([1.0, -1.0]))
    np.testing.assert_array_equal(x.grad.numpy(), [3.0, -3.0])


def test_backward_with_scalar_gradient_broadcasts():
    x = Tensor([1.0, 2.0], requires_grad=True)
    (x * 3).backward(0.5)
    np.testing.assert_array_equal(x.grad.numpy(), [1.5, 1.5])


def test_backward_on_leaf_accumulates_seed():
    x = Tensor([1.0, 2.0], requires_grad=True)
    x.backward()
    np.testing.assert_array_equal(x.grad.numpy(), [1.0, 1.0])


def test_backward_without_requires_grad_is_a_no_op():
    x = Tensor([1.0, 2.0])
    y = x * 2
    y.backward()
    assert x.grad is None and y.grad is None


def test_leaves_that_do_not_require_grad_get_none():
    x = Tensor([1.0, 2.0], requires_grad=True)
    c = Tensor([5.0, 6.0])
    (x * c).sum().backward()
    assert c.grad is None
    np.testing.assert_array_equal(x.grad.numpy(), [5.0, 6.0])


def test_leaf_grad_has_leaf_dtype():
    x = Tensor(np.array([1.0, 2.0], dtype=np.float32), requires_grad=True)
    (x * np.array([2.0, 3.0])).sum().backward()  # the product is float64
    assert x.grad.dtype == np.float32
    np.testing.assert_array_equal(x.grad.numpy(), [2.0, 3.0])


# ---- deep graphs ------------------------------------------------------------------------------


def test_hundred_thousand_chained_adds():
    x = Tensor([1.0, 2.0], requires_grad=True)
    y = x
    for _ in range(100_000):
        y = y + x
    y.backward()
    np.testing.assert_array_equal(x.grad.numpy(), [100_001.0, 100_001.0])


def test_long_tanh_recurrence():
    rng = np.random.default_rng(0)
    steps = 1000
    w = Tensor(rng.standard_normal((4, 4)) * 0.5, requires_grad=True)
    xs = Tensor(rng.standard_normal((steps, 1, 4)), requires_grad=True)
    h = Tensor(np.zeros((1, 4)))
    for t in range(steps):
        h = (h @ w + xs[t]).tanh()
    h.sum().backward()
    assert w.grad.shape == (4, 4) and np.isfinite(w.grad.numpy()).all()
    # The last input's gradient is (1 - h^2) of the last step, with no recursion involved.
    np.testing.assert_allclose(xs.grad.numpy()[-1], 1 - h.numpy() ** 2, rtol=1e-12)


def test_tanh_recurrence_gradient_matches_numpy():
    rng = np.random.default_rng(2)
    wa, xa = rng.standard_normal((3, 3)) * 0.5, rng.standard_normal((6, 1, 3))
    w, xs = Tensor(wa, requires_grad=True), Tensor(xa, requires_grad=True)
    h, hs = Tensor(np.zeros((1, 3))), [np.zeros((1, 3))]
    for t in range(6):
        h = (h @ w + xs[t]).tanh()
        hs.append(np.tanh(hs[-1] @ wa + xa[t]))
    h.sum().backward()
    # Backprop through time, written out.
    gw, gh = np.zeros_like(wa), np.ones((1, 3))
    for t in reversed(range(6)):
        gz = gh * (1 - hs[t + 1] ** 2)
        gw += hs[t].T @ gz
        gh = gz @ wa.T
    np.testing.assert_allclose(w.grad.numpy(), gw, rtol=1e-10)


# ---- graph release and retain_graph ---------------------------------------------------------------


def test_second_backward_raises_graph_error():
    x = Tensor([1.0, 2.0], requires_grad=True)
    loss = (x * x).sum()
    loss.backward()
    with pytest.raises(errors.GraphError) as info:
        loss.backward()
    assert "already been released" in str(info.value)
    assert "retain_graph=True" in str(info.value)
    np.testing.assert_array_equal(x.grad.numpy(), [2.0, 4.0])  # unchanged by the failed call


def test_retain_graph_allows_second_backward_and_accumulates():
    x = Tensor([1.0, 2.0], requires_grad=True)
    loss = (x * x).sum()
    loss.backward(retain_graph=True)
    np.testing.assert_array_equal(x.grad.numpy(), [2.0, 4.0])
    loss.backward()
    np.testing.assert_array_equal(x.grad.numpy(), [4.0, 8.0])
    with pytest.raises(errors.GraphError):
        loss.backward()


def test_gradients_accumulate_until_zeroed():
    x = Tensor([1.0, -1.0], requires_grad=True)
    for _ in range(3):
        (x * 2).sum().backward()
    np.testing.assert_array_equal(x.grad.numpy(), [6.0, 6.0])
    x.zero_grad()
    assert x.grad is None
    (x * 5).sum().backward()
    np.testing.assert_array_equal(x.grad.numpy(), [5.0, 5.0])


def test_lesson_style_zeroing_in_place():
    x = Tensor([1.0, 2.0], requires_grad=True)
    (x * 3).sum().backward()
    x.grad.data *= 0
    (x * 3).sum().backward()
    np.testing.assert_array_equal(x.grad.numpy(), [3.0, 3.0])


def test_leaf_grad_is_not_shared_with_other_tensors():
    # Add hands the same array to both inputs; each leaf must own its .grad.
    a = Tensor([1.0, 2.0], requires_grad=True)
    b = Tensor([3.0, 4.0], requires_grad=True)
    (a + b).backward()
    a.grad.data += 10
    np.testing.assert_array_equal(b.grad.numpy(), [1.0, 1.0])


def test_intermediate_arrays_are_freed_after_backward():
    x = Tensor(np.ones(1000), requires_grad=True)
    middle = (x * 3).tanh()  # Tanh saves its output for the backward
    saved = weakref.ref(middle.data)
    context = weakref.ref(middle._ctx)
    loss = middle.sum()
    del middle
    assert saved() is not None  # the graph holds it until backward
    loss.backward()
    assert loss._ctx is RELEASED
    assert saved() is None and context() is None


def test_retain_graph_keeps_intermediates():
    x = Tensor(np.ones(10), requires_grad=True)
    middle = (x * 3).tanh()
    saved = weakref.ref(middle.data)
    loss = middle.sum()
    del middle
    loss.backward(retain_graph=True)
    assert saved() is not None
    assert loss._ctx is not RELEASED


def test_branch_not_reaching_a_leaf_is_skipped():
    x = Tensor([1.0, 2.0], requires_grad=True)
    y = x * 2
    z = y + Tensor([1.0, 1.0])
    z.backward(np.array([1.0, 3.0]))
    np.testing.assert_array_equal(x.grad.numpy(), [2.0, 6.0])


def test_diamond_graph_visits_each_node_once(monkeypatch):
    # y feeds two ops, so a walk that passes each gradient on as soon as it
    # arrives runs y's backward once per consumer, each time with part of the
    # gradient, and still ends with the right sum. Count the backward calls of
    # each op instead of trusting the result.
    calls = {}
    for op in (ops.Mul, ops.Add):
        original = op.backward

        def counted(self, gy, original=original):
            calls[id(self)] = calls.get(id(self), 0) + 1
            return original(self, gy)

        monkeypatch.setattr(op, "backward", counted)
    x = Tensor([2.0], requires_grad=True)
    y = x * x  # 4
    square = y * y
    total = square + y  # x^4 + x^2
    nodes = {id(y._ctx): "x*x", id(square._ctx): "y*y", id(total._ctx): "y*y + y"}
    total.backward()
    assert {nodes[key]: n for key, n in calls.items()} == {"x*x": 1, "y*y": 1, "y*y + y": 1}
    np.testing.assert_allclose(x.grad.numpy(), [4 * 8 + 2 * 2])


# ---- no_grad ----------------------------------------------------------------------------------------


def test_no_grad_records_nothing():
    x = Tensor([1.0, 2.0], requires_grad=True)
    with minigrad.no_grad():
        assert not minigrad.is_grad_enabled()
        y = (x * 2).tanh().sum()
    assert minigrad.is_grad_enabled()
    assert y.requires_grad is False
    assert y._ctx is None
    y.backward()
    assert x.grad is None


def test_no_grad_restores_state_after_an_error():
    with pytest.raises(RuntimeError):
        with minigrad.no_grad():
            raise RuntimeError("boom")
    assert minigrad.is_grad_enabled()
    x = Tensor([1.0], requires_grad=True)
    assert (x * 2).requires_grad


def test_nested_no_grad():
    with minigrad.no_grad():
        with minigrad.no_grad():
            pass
        assert not minigrad.is_grad_enabled()
    assert minigrad.is_grad_enabled()


# ---- the engine's check of what a backward returns --------------------------------------------


class _Returns(Function):
    """An op whose backward returns whatever array the test chose."""

    def forward(self, x, grad):
        self.grad = grad
        return x * 2

    def backward(self, gy):
        return (self.grad,)


def test_backward_gradient_of_a_foreign_shape_is_an_error_naming_op_and_shapes():
    # The same number of elements in another shape: the engine used to reshape it silently.
    x = Tensor(np.arange(24.0).reshape(2, 3, 4), requires_grad=True)
    out = _Returns.apply(x, grad=np.ones((4, 2, 3)))
    with pytest.raises(BackwardShapeError) as info:
        out.sum().backward()
    message = str(info.value)
    assert "_Returns.backward" in message
    assert "(4, 2, 3)" in message and "(2, 3, 4)" in message
    assert x.grad is None


@pytest.mark.parametrize("shape", [(6,), (2, 4), (3, 2), (2, 3, 1), ()], ids=str)
def test_backward_gradient_that_does_not_broadcast_down_is_an_error(shape):
    # (2, 3) broadcasts to none of these, so none is a broadcast to undo: (6,),
    # (3, 2) and (2, 3, 1) even have the right number of elements to reshape.
    x = Tensor(np.ones((2, 3)), requires_grad=True)
    out = _Returns.apply(x, grad=np.ones(shape))
    with pytest.raises(BackwardShapeError, match=r"_Returns\.backward returned a gradient of shape"):
        out.backward(np.ones((2, 3)))


def test_backward_gradient_with_a_broadcast_shape_is_summed_down():
    x = Tensor(np.ones((2, 1)), requires_grad=True)
    grad = np.arange(12.0).reshape(2, 2, 3)  # (2, 1) broadcast to (2, 2, 3)
    _Returns.apply(x, grad=grad).backward(np.ones((2, 1)))
    np.testing.assert_array_equal(x.grad.numpy(), [[0 + 1 + 2 + 6 + 7 + 8], [3 + 4 + 5 + 9 + 10 + 11]])


def test_backward_returning_too_few_gradients_is_an_error():
    class OneGradForTwo(Function):
        def forward(self, a, b):
            return a + b

        def backward(self, gy):
            return (gy,)

    a, b = Tensor([1.0], requires_grad=True), Tensor([2.0], requires_grad=True)
    with pytest.raises(BackwardShapeError, match="OneGradForTwo.backward returned 1 gradients for 2 inputs"):
        OneGradForTwo.apply(a, b).backward()


def test_unbroadcast_refuses_what_is_not_a_broadcast():
    np.testing.assert_array_equal(unbroadcast(np.ones((4, 2, 3)), (2, 1)), np.full((2, 1), 12.0))
    with pytest.raises(ValueError, match="cannot be summed down"):
        unbroadcast(np.ones((3, 2)), (2, 3))
    with pytest.raises(ValueError, match="cannot be summed down"):
        unbroadcast(np.ones(3), (1, 3))
