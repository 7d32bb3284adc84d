"""Each op's forward against numpy, and the edge cases of its backward."""

import numpy as np
import pytest

import minigrad
from minigrad import Tensor

RNG = np.random.default_rng(0)
A = RNG.standard_normal((3, 4))
B = RNG.standard_normal((3, 4))
POS = RNG.uniform(0.5, 2.0, (3, 4))


def _softmax(x, axis=-1):
    e = np.exp(x - x.max(axis=axis, keepdims=True))
    return e / e.sum(axis=axis, keepdims=True)


def grad_of(fn, *arrays, upstream=None):
    """Backprop ``fn`` of float64 leaves; returns (output array, [leaf grads])."""
    leaves = [Tensor(np.array(a, dtype=np.float64), requires_grad=True) for a in arrays]
    out = fn(*leaves)
    out.backward(upstream)
    return out.numpy(), [leaf.grad.numpy() if leaf.grad is not None else None for leaf in leaves]


# ---- forward values against numpy ------------------------------------------------------

FORWARD = [
    ("add", lambda a, b: a + b, np.add, (A, B)),
    ("sub", lambda a, b: a - b, np.subtract, (A, B)),
    ("mul", lambda a, b: a * b, np.multiply, (A, B)),
    ("div", lambda a, b: a / b, np.divide, (A, POS)),
    ("neg", lambda a: -a, np.negative, (A,)),
    ("pow", lambda a: a**3, lambda a: a**3, (A,)),
    ("sqrt", lambda a: a**0.5, np.sqrt, (POS,)),
    ("matmul", lambda a, b: a @ b.T, lambda a, b: a @ b.T, (A, B)),
    ("mm", lambda a, b: a.mm(b.T), lambda a, b: a @ b.T, (A, B)),
    ("exp", lambda a: a.exp(), np.exp, (A,)),
    ("log", lambda a: a.log(), np.log, (POS,)),
    ("tanh", lambda a: a.tanh(), np.tanh, (A,)),
    ("sigmoid", lambda a: a.sigmoid(), lambda a: 1 / (1 + np.exp(-a)), (A,)),
    ("relu", lambda a: a.relu(), lambda a: np.maximum(a, 0), (A,)),
    ("softmax", lambda a: a.softmax(), _softmax, (A,)),
    ("softmax0", lambda a: a.softmax(0), lambda a: _softmax(a, 0), (A,)),
    ("log_softmax", lambda a: a.log_softmax(), lambda a: np.log(_softmax(a)), (A,)),
    ("sum", lambda a: a.sum(), np.sum, (A,)),
    ("sum1", lambda a: a.sum(1), lambda a: a.sum(1), (A,)),
    ("mean0", lambda a: a.mean(0, keepdim=True), lambda a: a.mean(0, keepdims=True), (A,)),
    ("max1", lambda a: a.max(1), lambda a: a.max(1), (A,)),
    ("transpose", lambda a: a.transpose(), np.transpose, (A,)),
    ("T", lambda a: a.T, np.transpose, (A,)),
    ("reshape", lambda a: a.reshape(2, 6), lambda a: a.reshape(2, 6), (A,)),
    ("reshape-tuple", lambda a: a.reshape((4, 3)), lambda a: a.reshape(4, 3), (A,)),
    ("view", lambda a: a.view(12), lambda a: a.reshape(12), (A,)),
    ("expand", lambda a: a.expand(1, 2), lambda a: np.stack([a, a], 1), (A,)),
    ("broadcast_to", lambda a: a.broadcast_to(2, 3, 4), lambda a: np.broadcast_to(a, (2, 3, 4)), (A,)),
    ("getitem", lambda a: a[1:, ::2], lambda a: a[1:, ::2], (A,)),
    ("mse", lambda a, b: a.mse(b), lambda a, b: ((a - b) ** 2).mean(), (A, B)),
    ("mse-sum", lambda a, b: a.mse(b, reduction="sum"), lambda a, b: ((a - b) ** 2).sum(), (A, B)),
]


@pytest.mark.parametrize("name, fn, reference, arrays", FORWARD, ids=[f[0] for f in FORWARD])
def test_forward_matches_numpy(name, fn, reference, arrays):
    out = fn(*[Tensor(a) for a in arrays])
    expected = reference(*arrays)
    assert out.shape == np.shape(expected)
    np.testing.assert_allclose(out.numpy(), expected, rtol=1e-12, atol=1e-12)


@pytest.mark.parametrize("name, fn, reference, arrays", FORWARD, ids=[f[0] for f in FORWARD])
def test_float32_in_float32_out(name, fn, reference, arrays):
    out = fn(*[Tensor(a.astype(np.float32)) for a in arrays])
    assert out.dtype == np.float32
    np.testing.assert_allclose(out.numpy(), reference(*arrays), rtol=1e-4, atol=1e-5)


# ---- cross-entropy ---------------------------------------------------------------------------


def test_cross_entropy_value_and_gradient():
    logits = RNG.standard_normal((4, 5))
    targets = np.array([0, 3, 4, 1])
    loss, (g,) = grad_of(lambda x: x.cross_entropy(Tensor(targets)), logits)
    probs = _softmax(logits)
    assert loss == pytest.approx(-np.log(probs[np.arange(4), targets]).mean(), rel=1e-12)
    one_hot = np.eye(5)[targets]
    np.testing.assert_allclose(g, (probs - one_hot) / 4, rtol=1e-12)


def test_cross_entropy_accepts_a_list_of_targets():
    logits = Tensor([[2.0, 0.0], [0.0, 2.0]])
    assert logits.cross_entropy([0, 1]).item() == pytest.approx(np.log(1 + np.exp(-2.0)), rel=1e-6)


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_cross_entropy_is_stable_for_huge_logits(dtype):
    big = np.array([[1e4, 0.0, -1e4], [3e4, 3e4 + 2.0, 1e4]], dtype=dtype)
    targets = Tensor([1, 0])
    x = Tensor(big, requires_grad=True)
    loss = x.cross_entropy(targets)
    loss.backward()
    assert np.isfinite(loss.item()) and np.isfinite(x.grad.numpy()).all()
    # Shifting each row by a constant changes nothing: compare with the small version.
    small = big - big.max(axis=1, keepdims=True)
    y = Tensor(small, requires_grad=True)
    reference = y.cross_entropy(targets)
    reference.backward()
    assert loss.item() == pytest.approx(reference.item(), rel=1e-6)
    np.testing.assert_allclose(x.grad.numpy(), y.grad.numpy(), atol=1e-7)


def test_cross_entropy_huge_logits_exact_value():
    x = Tensor(np.array([[1e4, 0.0], [0.0, 1e4]]), requires_grad=True)
    loss = x.cross_entropy([1, 1])  # one row wrong by 1e4, one row right
    loss.backward()
    assert loss.item() == pytest.approx(1e4 / 2)
    np.testing.assert_allclose(x.grad.numpy(), [[0.5, -0.5], [0.0, 0.0]], atol=1e-12)


def test_cross_entropy_ignore_index_skips_rows():
    logits = RNG.standard_normal((5, 3))
    targets = np.array([2, -100, 0, -100, 1])
    loss, (g,) = grad_of(lambda x: x.cross_entropy(targets, ignore_index=-100), logits)
    kept = targets != -100
    probs = _softmax(logits[kept])
    expected = -np.log(probs[np.arange(3), targets[kept]]).mean()  # mean over 3 rows, not 5
    assert loss == pytest.approx(expected, rel=1e-12)
    np.testing.assert_array_equal(g[~kept], 0.0)
    np.testing.assert_allclose(g[kept], (probs - np.eye(3)[targets[kept]]) / 3, rtol=1e-12)


def test_cross_entropy_ignore_index_on_3d_logits():
    logits = RNG.standard_normal((2, 3, 4))
    targets = np.array([[1, 0, 0], [3, 0, 2]])
    loss, (g,) = grad_of(lambda x: x.cross_entropy(Tensor(targets), ignore_index=0), logits)
    kept = targets != 0
    rows, cols = logits[kept], targets[kept]
    expected = -np.log(_softmax(rows)[np.arange(3), cols]).mean()
    assert loss == pytest.approx(expected, rel=1e-12)
    assert g.shape == (2, 3, 4)
    np.testing.assert_array_equal(g[~kept], 0.0)


def test_cross_entropy_all_ignored_is_zero_not_nan():
    x = Tensor(RNG.standard_normal((3, 4)), requires_grad=True)
    loss = x.cross_entropy([7, 7, 7], ignore_index=7)
    loss.backward()
    assert loss.item() == 0.0
    np.testing.assert_array_equal(x.grad.numpy(), np.zeros((3, 4)))


# ---- softmax family ------------------------------------------------------------------------


def test_softmax_rows_sum_to_one():
    x = Tensor(RNG.standard_normal((6, 7)) * 50)
    np.testing.assert_allclose(x.softmax().numpy().sum(axis=1), np.ones(6), rtol=1e-12)
    np.testing.assert_allclose(x.softmax(0).numpy().sum(axis=0), np.ones(7), rtol=1e-12)


def test_softmax_huge_logits_are_finite():
    y = Tensor(np.array([[1e4, 1e4, -1e4]], dtype=np.float32)).softmax()
    np.testing.assert_allclose(y.numpy(), [[0.5, 0.5, 0.0]])


def test_softmax_gradient_of_a_sum_is_zero():
    # The outputs always sum to one, so their sum does not move.
    _, (g,) = grad_of(lambda x: x.softmax().sum(), RNG.standard_normal((2, 5)))
    np.testing.assert_allclose(g, 0.0, atol=1e-15)


def test_log_softmax_gradient():
    x = RNG.standard_normal((2, 4))
    up = RNG.standard_normal((2, 4))
    _, (g,) = grad_of(lambda t: t.log_softmax(), x, upstream=up)
    np.testing.assert_allclose(g, up - _softmax(x) * up.sum(1, keepdims=True), rtol=1e-12)


# ---- max -------------------------------------------------------------------------------------


def test_max_ties_split_the_gradient():
    x = np.array([[1.0, 3.0, 3.0], [2.0, 0.0, 2.0], [5.0, 5.0, 5.0]])
    out, (g,) = grad_of(lambda t: t.max(1), x, upstream=np.array([1.0, 4.0, 3.0]))
    np.testing.assert_array_equal(out, [3.0, 2.0, 5.0])
    np.testing.assert_allclose(g, [[0, 0.5, 0.5], [2.0, 0, 2.0], [1.0, 1.0, 1.0]])


def test_max_over_everything_with_ties():
    out, (g,) = grad_of(lambda t: t.max(), [1.0, 4.0, 4.0, 4.0, 4.0])
    assert out == 4.0
    np.testing.assert_allclose(g, [0, 0.25, 0.25, 0.25, 0.25])


def test_max_keepdim_gradient():
    x = np.array([[1.0, 9.0], [7.0, 2.0]])
    out, (g,) = grad_of(lambda t: t.max(0, keepdim=True), x, upstream=np.array([[2.0, 3.0]]))
    assert out.shape == (1, 2)
    np.testing.assert_array_equal(g, [[0.0, 3.0], [2.0, 0.0]])


# ---- indexing --------------------------------------------------------------------------------


def test_getitem_repeated_integer_indices_accumulate():
    x = np.arange(12.0).reshape(3, 4)
    out, (g,) = grad_of(lambda t: t[np.array([0, 2, 0, 0])], x)
    np.testing.assert_array_equal(out, x[[0, 2, 0, 0]])
    np.testing.assert_array_equal(g, [[3.0] * 4, [0.0] * 4, [1.0] * 4])


def test_getitem_with_tensor_and_list_indices():
    x = np.arange(6.0)
    _, (g,) = grad_of(lambda t: t[Tensor([1, 1, 5])], x)
    np.testing.assert_array_equal(g, [0, 2, 0, 0, 0, 1])
    _, (g,) = grad_of(lambda t: t[[4, 4]], x)
    np.testing.assert_array_equal(g, [0, 0, 0, 0, 2, 0])


def test_getitem_single_element_and_slice():
    x = np.arange(12.0).reshape(3, 4)
    out, (g,) = grad_of(lambda t: t[1, 2] * 5, x)
    assert out == 30.0
    expected = np.zeros((3, 4))
    expected[1, 2] = 5.0
    np.testing.assert_array_equal(g, expected)
    _, (g,) = grad_of(lambda t: t[:, 1:3], x, upstream=np.full((3, 2), 2.0))
    np.testing.assert_array_equal(g, np.tile([0.0, 2.0, 2.0, 0.0], (3, 1)))


def test_index_select_accumulates_repeated_rows():
    w = np.arange(8.0).reshape(4, 2)
    idx = np.array([[3, 3], [0, 3]])
    up = np.arange(8.0).reshape(2, 2, 2)
    out, (g,) = grad_of(lambda t: t.index_select(Tensor(idx)), w, upstream=up)
    np.testing.assert_array_equal(out, w[idx])
    expected = np.zeros((4, 2))
    np.add.at(expected, idx.reshape(-1), up.reshape(-1, 2))
    np.testing.assert_array_equal(g, expected)
    np.testing.assert_array_equal(g[3], up[0, 0] + up[0, 1] + up[1, 1])


# ---- joining -------------------------------------------------------------------------------


def test_concat_gradients_are_cut_back():
    a, b, c = np.ones((2, 1)), np.ones((2, 3)), np.ones((2, 2))
    up = np.arange(12.0).reshape(2, 6)
    out, grads = grad_of(lambda x, y, z: minigrad.concat([x, y, z], dim=1), a, b, c, upstream=up)
    np.testing.assert_array_equal(out, np.ones((2, 6)))
    np.testing.assert_array_equal(grads[0], up[:, :1])
    np.testing.assert_array_equal(grads[1], up[:, 1:4])
    np.testing.assert_array_equal(grads[2], up[:, 4:])


def test_concat_along_rows():
    a, b = RNG.standard_normal((1, 3)), RNG.standard_normal((2, 3))
    up = np.arange(9.0).reshape(3, 3)
    out, (ga, gb) = grad_of(lambda x, y: minigrad.concat([x, y]), a, b, upstream=up)
    np.testing.assert_array_equal(out, np.concatenate([a, b]))
    np.testing.assert_array_equal(ga, up[:1])
    np.testing.assert_array_equal(gb, up[1:])


@pytest.mark.parametrize("dim", [0, 1, 2, -1])
def test_stack_gradients(dim):
    a, b = RNG.standard_normal((2, 3)), RNG.standard_normal((2, 3))
    expected = np.stack([a, b], axis=dim)
    up = np.arange(12.0).reshape(expected.shape)
    out, (ga, gb) = grad_of(lambda x, y: minigrad.stack([x, y], dim=dim), a, b, upstream=up)
    np.testing.assert_array_equal(out, expected)
    np.testing.assert_array_equal(ga, np.take(up, 0, axis=dim))
    np.testing.assert_array_equal(gb, np.take(up, 1, axis=dim))


def test_concat_with_a_constant_only_grads_the_leaf():
    x = Tensor([[1.0, 2.0]], requires_grad=True)
    out = minigrad.concat([x, Tensor([[3.0, 4.0]])])
    out.backward(np.array([[1.0, 2.0], [3.0, 4.0]]))
    np.testing.assert_array_equal(x.grad.numpy(), [[1.0, 2.0]])


# ---- powers and reflected operators ---------------------------------------------------------


def test_pow_gradient():
    x = np.array([1.0, 2.0, 3.0])
    out, (g,) = grad_of(lambda t: t**3, x)
    np.testing.assert_array_equal(out, x**3)
    np.testing.assert_allclose(g, 3 * x**2)
    _, (g,) = grad_of(lambda t: t**-1, x)
    np.testing.assert_allclose(g, -1 / x**2)


def test_pow_with_tensor_exponent():
    x, p = np.array([1.5, 2.0]), np.array([2.0, 3.0])
    out, (gx, gp) = grad_of(lambda a, b: a**b, x, p)
    np.testing.assert_allclose(out, x**p)
    np.testing.assert_allclose(gx, p * x ** (p - 1))
    np.testing.assert_allclose(gp, x**p * np.log(x))


def test_rpow():
    x = np.array([0.0, 1.0, 3.0])
    out, (g,) = grad_of(lambda t: 2**t, x)
    np.testing.assert_allclose(out, [1.0, 2.0, 8.0])
    np.testing.assert_allclose(g, 2**x * np.log(2))


def test_rsub():
    x = np.array([1.0, 5.0])
    out, (g,) = grad_of(lambda t: 10 - t, x)
    np.testing.assert_array_equal(out, [9.0, 5.0])
    np.testing.assert_array_equal(g, [-1.0, -1.0])


def test_rtruediv():
    x = np.array([1.0, 2.0, 4.0])
    out, (g,) = grad_of(lambda t: 8 / t, x)
    np.testing.assert_array_equal(out, [8.0, 4.0, 2.0])
    np.testing.assert_allclose(g, -8 / x**2)


def test_radd_and_rmul():
    x = np.array([1.0, 2.0])
    out, (g,) = grad_of(lambda t: 3 + 2 * t, x)
    np.testing.assert_array_equal(out, [5.0, 7.0])
    np.testing.assert_array_equal(g, [2.0, 2.0])


@pytest.mark.parametrize(
    "op, expected",
    [
        (lambda a, t: a + t, [2.0, 3.0, 4.0]),
        (lambda a, t: a - t, [0.0, -1.0, -2.0]),
        (lambda a, t: a * t, [1.0, 2.0, 3.0]),
        (lambda a, t: a / t, [1.0, 0.5, 1 / 3]),
    ],
    ids=["add", "sub", "mul", "div"],
)
def test_numpy_array_on_the_left(op, expected):
    t = Tensor([1.0, 2.0, 3.0], requires_grad=True)
    out = op(np.ones(3), t)
    assert isinstance(out, Tensor)
    assert out.requires_grad
    np.testing.assert_allclose(out.numpy(), expected)
    out.sum().backward()
    assert t.grad.shape == (3,)


def test_numpy_matrix_on_the_left_of_matmul():
    t = Tensor(np.eye(2) * 3, requires_grad=True)
    out = np.array([[1.0, 2.0]]) @ t
    assert isinstance(out, Tensor)
    np.testing.assert_array_equal(out.numpy(), [[3.0, 6.0]])
    out.backward()
    np.testing.assert_array_equal(t.grad.numpy(), [[1.0, 1.0], [2.0, 2.0]])


# ---- matmul with 1-D operands ------------------------------------------------------------------


def test_matmul_vector_matrix():
    v, m = np.array([1.0, 2.0]), np.array([[1.0, 2.0, 3.0], [4.0, 5.0, 6.0]])
    up = np.array([1.0, 0.0, -1.0])
    out, (gv, gm) = grad_of(lambda a, b: a @ b, v, m, upstream=up)
    np.testing.assert_array_equal(out, v @ m)
    np.testing.assert_array_equal(gv, m @ up)
    np.testing.assert_array_equal(gm, np.outer(v, up))


def test_matmul_matrix_vector():
    m, v = np.array([[1.0, 2.0], [3.0, 4.0], [5.0, 6.0]]), np.array([1.0, -1.0])
    up = np.array([1.0, 2.0, 3.0])
    out, (gm, gv) = grad_of(lambda a, b: a @ b, m, v, upstream=up)
    np.testing.assert_array_equal(out, m @ v)
    np.testing.assert_array_equal(gm, np.outer(up, v))
    np.testing.assert_array_equal(gv, m.T @ up)


def test_matmul_vector_vector():
    a, b = np.array([1.0, 2.0, 3.0]), np.array([4.0, 5.0, 6.0])
    out, (ga, gb) = grad_of(lambda x, y: x @ y, a, b, upstream=2.0)
    assert out == 32.0
    np.testing.assert_array_equal(ga, 2 * b)
    np.testing.assert_array_equal(gb, 2 * a)


def test_matmul_batched_vector():
    m, v = RNG.standard_normal((2, 3, 4)), RNG.standard_normal(4)
    up = RNG.standard_normal((2, 3))
    out, (gm, gv) = grad_of(lambda a, b: a @ b, m, v, upstream=up)
    np.testing.assert_allclose(out, m @ v)
    np.testing.assert_allclose(gm, up[..., None] * v)
    np.testing.assert_allclose(gv, np.einsum("ij,ijk->k", up, m))


# ---- elementwise gradients --------------------------------------------------------------------------


@pytest.mark.parametrize(
    "fn, derivative",
    [
        (lambda t: t.exp(), np.exp),
        (lambda t: t.tanh(), lambda x: 1 - np.tanh(x) ** 2),
        (lambda t: t.sigmoid(), lambda x: np.exp(-x) / (1 + np.exp(-x)) ** 2),
        (lambda t: t.relu(), lambda x: (x > 0).astype(float)),
        (lambda t: -t, lambda x: -np.ones_like(x)),
    ],
    ids=["exp", "tanh", "sigmoid", "relu", "neg"],
)
def test_elementwise_derivatives(fn, derivative):
    x = np.array([-2.0, -0.5, 0.5, 1.5])
    up = np.array([1.0, -2.0, 3.0, 0.5])
    _, (g,) = grad_of(fn, x, upstream=up)
    np.testing.assert_allclose(g, up * derivative(x), rtol=1e-12)


def test_log_derivative():
    x = np.array([0.5, 2.0, 4.0])
    _, (g,) = grad_of(lambda t: t.log(), x)
    np.testing.assert_allclose(g, 1 / x)


def test_relu_at_zero_has_zero_gradient():
    _, (g,) = grad_of(lambda t: t.relu(), [0.0, 1.0])
    np.testing.assert_array_equal(g, [0.0, 1.0])


def test_sigmoid_saturates_without_overflow():
    with np.errstate(over="raise"):
        y = Tensor(np.array([-1000.0, 1000.0], dtype=np.float32)).sigmoid()
    np.testing.assert_array_equal(y.numpy(), [0.0, 1.0])


def test_mse_gradients_for_both_sides():
    p, t = np.array([[1.0], [3.0]]), np.array([[0.0], [1.0]])
    out, (gp, gt) = grad_of(lambda a, b: a.mse(b), p, t)
    assert out == pytest.approx((1 + 4) / 2)
    np.testing.assert_allclose(gp, [[1.0], [2.0]])
    np.testing.assert_allclose(gt, [[-1.0], [-2.0]])


def test_transpose_and_reshape_gradients_route_back():
    x = np.arange(24.0).reshape(2, 3, 4)
    up = RNG.standard_normal((4, 2, 3))
    _, (g,) = grad_of(lambda t: t.transpose(2, 0, 1), x, upstream=up)
    np.testing.assert_array_equal(g, up.transpose(1, 2, 0))
    _, (g,) = grad_of(lambda t: t.reshape(6, 4), x, upstream=up.reshape(6, 4))
    np.testing.assert_array_equal(g, up.reshape(6, 4).reshape(2, 3, 4))


def test_expand_gradient_sums_copies():
    x = np.array([1.0, 2.0])
    up = np.array([[1.0, 10.0], [2.0, 20.0], [3.0, 30.0]])
    out, (g,) = grad_of(lambda t: t.expand(0, 3), x, upstream=up)
    np.testing.assert_array_equal(out, np.tile(x, (3, 1)))
    np.testing.assert_array_equal(g, [6.0, 60.0])


@pytest.mark.parametrize("limit", [0, 1 << 22], ids=["bincount", "one-hot product"])
def test_embedding_gradient_both_ways(monkeypatch, limit):
    """Small vocabularies sum rows by a one-hot product, large ones by bincount: same answer."""
    from minigrad import backend

    monkeypatch.setattr(backend, "ONE_HOT_LIMIT", limit)
    rng = np.random.default_rng(3)
    weight = Tensor(rng.standard_normal((7, 4)), requires_grad=True)
    ids = np.array([[1, 6, 1], [0, -1, 3]])  # repeats, and -1 meaning the last row
    upstream = rng.standard_normal((2, 3, 4))
    weight.index_select(ids).backward(upstream)
    expected = np.zeros((7, 4))
    np.add.at(expected, ids.reshape(-1) % 7, upstream.reshape(-1, 4))
    np.testing.assert_allclose(weight.grad.numpy(), expected, rtol=1e-12)


# ---- bugs found by running tinygrad's op tests against PyTorch ---------------------------------
# Each test below failed before the fix it names; expected values are worked out by hand.


def test_transpose_with_negative_axes_backpropagates_to_the_right_elements():
    # (-1, 0, 1) is (2, 0, 1): y[k, i, j] = x[i, j, k], so grad_x[i, j, k] = g[k, i, j].
    x = np.arange(8.0).reshape(2, 2, 2)  # x[i, j, k] = 4i + 2j + k
    up = np.arange(8.0).reshape(2, 2, 2)
    out, (g,) = grad_of(lambda t: t.transpose(-1, 0, 1), x, upstream=up)
    np.testing.assert_array_equal(out, [[[0, 2], [4, 6]], [[1, 3], [5, 7]]])
    np.testing.assert_array_equal(g, [[[0, 4], [1, 5]], [[2, 6], [3, 7]]])


def test_transpose_with_negative_axes_on_a_non_cubic_tensor():
    # Before: the identity was taken for the inverse and the (4, 2, 3) gradient reshaped to (2, 3, 4).
    x = np.arange(24.0).reshape(2, 3, 4)
    up = np.arange(24.0).reshape(4, 2, 3)
    _, (g,) = grad_of(lambda t: t.transpose(-1, 0, -2), x, upstream=up)
    assert g[0, 0, 1] == up[1, 0, 0] == 6.0
    assert g[1, 2, 3] == up[3, 1, 2] == 23.0
    np.testing.assert_array_equal(g, up.transpose(1, 2, 0))


@pytest.mark.parametrize("method", ["sum", "mean", "max"])
@pytest.mark.parametrize("dim", [0, -1])
@pytest.mark.parametrize("keepdim", [False, True])
def test_reductions_of_a_0d_tensor_are_the_value(method, dim, keepdim):
    # Before: dim % ndim divided by zero.
    x = Tensor(np.array(3.5), requires_grad=True)
    out = getattr(x, method)(dim, keepdim=keepdim)
    assert out.shape == () and out.item() == 3.5
    out.backward(np.array(-2.0))
    assert x.grad.shape == () and x.grad.item() == -2.0


def test_max_of_a_0d_tensor_inside_a_graph():
    x = Tensor(np.array(2.0), requires_grad=True)
    ((x * 3).max(0) * x).backward()  # d/dx 3x^2 = 6x
    assert x.grad.item() == 12.0


OUT_OF_RANGE = [
    ("sum", lambda t: t.sum(2), 2),
    ("sum", lambda t: t.sum((0, -3)), -3),
    ("mean", lambda t: t.mean(-3, keepdim=True), -3),
    ("max", lambda t: t.max(2), 2),
    ("softmax", lambda t: t.softmax(2), 2),
    ("log_softmax", lambda t: t.log_softmax(-3), -3),
    ("transpose", lambda t: t.transpose(0, 2), 2),
    ("transpose", lambda t: t.transpose(-3, 0), -3),
    ("index_select", lambda t: t.index_select([0], dim=2), 2),
    ("concat", lambda t: minigrad.concat([t, t], dim=2), 2),
    ("concat", lambda t: minigrad.concat([t, t], dim=-3), -3),
    ("stack", lambda t: minigrad.stack([t, t], dim=3), 3),
    ("stack", lambda t: minigrad.stack([t, t], dim=-4), -4),
    ("expand", lambda t: t.expand(3, 2), 3),
]


@pytest.mark.parametrize("op, call, dim", OUT_OF_RANGE, ids=[f"{o}-{d}" for o, _, d in OUT_OF_RANGE])
def test_dim_out_of_range_names_the_dim_and_ndim(op, call, dim):
    t = Tensor(np.ones((2, 3)), requires_grad=True)
    with pytest.raises(IndexError) as info:
        call(t)
    assert isinstance(info.value, minigrad.ops.DimError)
    assert isinstance(info.value, minigrad.errors.MinigradError)
    message = str(info.value)
    assert message.startswith(f"{op}: dim {dim} is out of range") and "ndim 2" in message


@pytest.mark.parametrize("method", ["sum", "mean", "max"])
def test_dim_out_of_range_is_not_wrapped_silently(method):
    # Before: dim 1 of a 1-D tensor was taken modulo 1, i.e. as dim 0.
    t = Tensor([1.0, 5.0, 3.0])
    with pytest.raises(minigrad.ops.DimError, match=f"{method}: dim 1 is out of range for a tensor of ndim 1"):
        getattr(t, method)(1)
    with pytest.raises(minigrad.ops.DimError, match="dim -2 is out of range"):
        getattr(t, method)(-2)


def test_dims_of_a_0d_tensor_are_0_and_minus_1_only():
    t = Tensor(np.array(1.0))
    with pytest.raises(minigrad.ops.DimError, match=r"sum: dim 1 is out of range for a tensor of ndim 0 \(expected a dim from -1 to 0\)"):
        t.sum(1)
    with pytest.raises(minigrad.ops.DimError, match="softmax: dim -2"):
        t.softmax(-2)


def test_repeated_dims_are_refused():
    with pytest.raises(minigrad.ops.DimError, match=r"sum: dims \(1, -1\) name the same dim twice"):
        Tensor(np.ones((2, 3))).sum((1, -1))
    with pytest.raises(minigrad.ops.DimError, match=r"transpose: axes \(0, -2\) name the same dim twice"):
        Tensor(np.ones((2, 3))).transpose(0, -2)
    with pytest.raises(minigrad.ops.DimError, match="must name each of the tensor's dims once"):
        Tensor(np.ones((2, 3, 4))).transpose(0, 1)


def test_negative_dims_in_range_work_everywhere():
    x = np.arange(6.0).reshape(2, 3)
    t = Tensor(x)
    np.testing.assert_array_equal(t.sum(-2).numpy(), [3.0, 5.0, 7.0])
    np.testing.assert_array_equal(t.mean(-1, keepdim=True).numpy(), [[1.0], [4.0]])
    np.testing.assert_array_equal(t.max(-2).numpy(), [3.0, 4.0, 5.0])
    np.testing.assert_allclose(t.softmax(-2).numpy(), _softmax(x, 0))
    np.testing.assert_allclose(t.log_softmax(-1).numpy(), np.log(_softmax(x, 1)))
    np.testing.assert_array_equal(t.transpose(-1, -2).numpy(), x.T)
    np.testing.assert_array_equal(t.index_select([2, 0], dim=-1).numpy(), [[2.0, 0.0], [5.0, 3.0]])
    np.testing.assert_array_equal(minigrad.concat([t, t], dim=-1).numpy(), np.concatenate([x, x], 1))
    np.testing.assert_array_equal(minigrad.stack([t, t], dim=-1).numpy(), np.stack([x, x], -1))
    np.testing.assert_array_equal(minigrad.stack([t, t], dim=-3).numpy(), np.stack([x, x], 0))
    np.testing.assert_array_equal(t.expand(-1, 2).numpy(), np.stack([x, x], -1))


def test_index_select_along_dim_1_accumulates_repeats():
    w = np.arange(6.0).reshape(2, 3)
    up = np.array([[[1.0, 2.0], [3.0, 4.0]], [[5.0, 6.0], [7.0, 8.0]]])  # (2, 2, 2): rows, then ids (2, 2)
    out, (g,) = grad_of(lambda t: t.index_select(np.array([[2, 0], [2, 2]]), dim=1), w, upstream=up)
    np.testing.assert_array_equal(out, [[[2.0, 0.0], [2.0, 2.0]], [[5.0, 3.0], [5.0, 5.0]]])
    # column 0 was picked once, column 2 three times, column 1 never
    np.testing.assert_array_equal(g, [[2.0, 0.0, 1 + 3 + 4], [6.0, 0.0, 5 + 7 + 8]])


def test_index_select_with_no_ids_has_a_zero_gradient():
    # Before: backward failed to reshape the empty gradient.
    out, (g,) = grad_of(lambda t: t.index_select(np.array([], dtype=np.int64)), np.ones((4, 2)))
    assert out.shape == (0, 2)
    np.testing.assert_array_equal(g, np.zeros((4, 2)))


def test_pow_with_exponent_0_is_1_with_gradient_0_also_at_0():
    # Before: 0 * 0 ** -1 = 0 * inf gave a NaN gradient at x = 0.
    out, (g,) = grad_of(lambda t: t**0, [0.0, 2.0, -3.0], upstream=np.array([1.0, 2.0, 3.0]))
    np.testing.assert_array_equal(out, [1.0, 1.0, 1.0])
    np.testing.assert_array_equal(g, [0.0, 0.0, 0.0])


def test_pow_with_a_tensor_exponent_at_base_0_negative_and_positive():
    # x ** p and its two gradients, worked out by hand:
    #   df/dx = p x^(p-1) (0 where p = 0),  df/dp = x^p ln x (0 where x = 0 and p >= 0)
    x = [0.0, -2.0, 2.0, 0.0, 4.0]
    p = [2.0, 3.0, 0.5, 0.0, -1.0]
    out, (gx, gp) = grad_of(lambda a, b: a**b, x, p)
    np.testing.assert_allclose(out, [0.0, -8.0, 1.4142135623730951, 1.0, 0.25], rtol=1e-15)
    np.testing.assert_allclose(gx, [0.0, 12.0, 0.3535533905932738, 0.0, -0.0625], rtol=1e-15)
    # At -2 the exponent's derivative does not exist in the reals: NaN, as in PyTorch.
    np.testing.assert_allclose(gp, [0.0, np.nan, 0.9802581434685472, 0.0, 0.34657359027997264], rtol=1e-15)


def test_pow_with_a_tensor_exponent_at_infinity():
    out, (gx, gp) = grad_of(lambda a, b: a**b, [np.inf, np.inf], [2.0, -1.0])
    np.testing.assert_array_equal(out, [np.inf, 0.0])
    np.testing.assert_array_equal(gx, [np.inf, 0.0])  # 2 inf^1, and -1 inf^-2 = -0
    np.testing.assert_array_equal(gp, [np.inf, np.nan])  # inf ln inf, and 0 ln inf = 0 inf


def test_scalar_to_a_tensor_power_at_bases_0_and_negative():
    # Before: base ** t was exp(t ln base), NaN for any base <= 0.
    out, (g,) = grad_of(lambda t: 0.0**t, [0.0, 1.0, 2.0])
    np.testing.assert_array_equal(out, [1.0, 0.0, 0.0])
    np.testing.assert_array_equal(g, [0.0, 0.0, 0.0])
    out, (g,) = grad_of(lambda t: (-2.0) ** t, [2.0, 3.0])
    np.testing.assert_array_equal(out, [4.0, -8.0])
    assert np.isnan(g).all()  # ln(-2)
    out, (g,) = grad_of(lambda t: 2.0**t, [0.0, 3.0])
    np.testing.assert_allclose(g, [np.log(2.0), 8 * np.log(2.0)], rtol=1e-15)


def test_pow_base_gradient_is_finite_where_the_derivative_is():
    # Before: x ** p went through exp(p ln x), whose base gradient is NaN at x <= 0.
    out, (gx, _) = grad_of(lambda a, b: a**b, [0.0, -2.0, -0.5], [0.0, 2.0, 3.0])
    np.testing.assert_array_equal(out, [1.0, 4.0, -0.125])
    np.testing.assert_array_equal(gx, [0.0, -4.0, 0.75])


def test_relu_of_minus_infinity_is_0():
    # Before: -inf * (x > 0) = -inf * 0 = NaN.
    out, (g,) = grad_of(lambda t: t.relu(), [-np.inf, np.inf, -1.0], upstream=np.array([1.0, 2.0, 3.0]))
    np.testing.assert_array_equal(out, [0.0, np.inf, 0.0])
    np.testing.assert_array_equal(g, [0.0, 2.0, 0.0])


def test_linear_with_a_row_bias():
    # Before: backward reshaped the (4,) bias gradient into (1, 4) and failed.
    x, w, b = np.ones((5, 3)), np.ones((3, 4)), np.zeros((1, 4))
    up = np.arange(20.0).reshape(5, 4)
    _, (_, _, gb) = grad_of(lambda a, c, d: minigrad.functional.linear(a, c, d), x, w, b, upstream=up)
    np.testing.assert_array_equal(gb, [[40.0, 45.0, 50.0, 55.0]])


def test_cross_entropy_refuses_targets_outside_the_classes():
    # Before: -1 silently meant the last class, and too few targets used only the first rows.
    logits = Tensor(np.zeros((3, 4)), requires_grad=True)
    with pytest.raises(IndexError, match="cross_entropy: target -1 is out of range for 4 classes"):
        logits.cross_entropy([0, -1, 2])
    with pytest.raises(IndexError, match="target 4 is out of range"):
        logits.cross_entropy([0, 4, 2])
    with pytest.raises(ValueError, match=r"3 rows of logits \(3, 4\) but 2 targets \(2,\)"):
        logits.cross_entropy([0, 1])
    # An ignored target may be anything.
    assert logits.cross_entropy([0, -100, 2], ignore_index=-100).item() == pytest.approx(np.log(4.0))


def test_mse_of_nothing_is_nan_not_a_crash():
    # Before: 2 / size raised ZeroDivisionError.
    out, (g, _) = grad_of(lambda p, t: p.mse(t), np.zeros((0, 3)), np.zeros((0, 3)))
    assert np.isnan(out)
    assert g.shape == (0, 3)
    assert Tensor(np.zeros((0, 3))).mse(Tensor(np.zeros((0, 3))), reduction="sum").item() == 0.0


def test_softmax_of_empty_and_0d_tensors():
    assert Tensor(np.zeros((0, 3))).softmax(0).shape == (0, 3)
    out, (g,) = grad_of(lambda t: t.softmax(), np.array(5.0), upstream=np.array(3.0))
    assert out == 1.0 and g == 0.0
    out, (g,) = grad_of(lambda t: t.log_softmax(0), np.array(5.0), upstream=np.array(3.0))
    assert out == 0.0 and g == 0.0
