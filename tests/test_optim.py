"""SGD, Adam, AdaGrad and gradient clipping, checked against their formulas."""

import numpy as np
import pytest

from minigrad import Adagrad, Adam, SGD, Tensor, clip_grad_norm
from minigrad.backend import check_device, to_device
from minigrad.errors import CheckpointError, DeviceError
from minigrad.nn import Parameter


def _param(values, grad):
    p = Parameter(np.array(values, dtype=np.float32))
    p.grad = Tensor(np.array(grad, dtype=np.float32))
    return p


def test_sgd_is_the_lessons_rule_and_zeroes_gradients():
    p = _param([1.0, -2.0], [0.5, 1.0])
    data = p.data
    SGD([p], 0.1).step()
    np.testing.assert_allclose(p.data, [0.95, -2.1], rtol=1e-6)
    assert p.data is data and p.dtype == np.float32  # in place
    assert p.grad is None


def test_sgd_step_without_zero_keeps_gradients_and_skips_missing_ones():
    p, unused = _param([1.0], [2.0]), Parameter(np.array([5.0], np.float32))
    opt = SGD(parameters=[p, unused], alpha=0.5)
    opt.step(zero=False)
    np.testing.assert_allclose(p.data, [0.0])
    np.testing.assert_allclose(p.grad.data, [2.0])
    np.testing.assert_allclose(unused.data, [5.0])
    opt.zero_grad()
    assert p.grad is None


def test_lr_and_alpha_are_one_setting():
    opt = SGD([], lr=0.3)
    assert opt.alpha == 0.3 and opt.lr == 0.3
    opt.lr = 0.01
    assert opt.alpha == 0.01
    opt.alpha = 0.2
    assert opt.lr == 0.2


def test_a_parameter_listed_twice_is_updated_once():
    p = _param([1.0], [1.0])
    SGD([p, p], alpha=0.5).step()
    np.testing.assert_allclose(p.data, [0.5])


def test_sgd_momentum_and_weight_decay_values():
    p = _param([1.0], [0.5])
    opt = SGD([p], lr=0.1, momentum=0.9, weight_decay=0.1)
    # step 1: g = 0.5 + 0.1 * 1 = 0.6; v = 0.6; p = 1 - 0.06 = 0.94
    opt.step()
    np.testing.assert_allclose(p.data, [0.94], rtol=1e-6)
    # step 2: g = 0.5 + 0.094 = 0.594; v = 0.9 * 0.6 + 0.594 = 1.134; p = 0.94 - 0.1134
    p.grad = Tensor(np.array([0.5], np.float32))
    opt.step()
    np.testing.assert_allclose(p.data, [0.8266], rtol=1e-6)


def _adam_reference(p, grads, lr, b1, b2, eps, wd):
    """Adam by its formula, in float64, one line per symbol."""
    m = v = np.zeros_like(p)
    for t, g in enumerate(grads, start=1):
        g = g + wd * p
        m = b1 * m + (1 - b1) * g
        v = b2 * v + (1 - b2) * g * g
        m_hat, v_hat = m / (1 - b1**t), v / (1 - b2**t)
        p = p - lr * m_hat / (np.sqrt(v_hat) + eps)
    return p


@pytest.mark.parametrize("weight_decay", [0.0, 0.05])
def test_adam_two_steps_match_the_formula(weight_decay):
    start = np.array([0.5, -1.0, 2.0])
    grads = [np.array([0.1, -0.3, 0.02]), np.array([-0.2, 0.4, 0.0])]
    p = Parameter(start.copy())
    opt = Adam([p], lr=0.01, betas=(0.8, 0.9), eps=1e-6, weight_decay=weight_decay)
    for step, g in enumerate(grads, start=1):
        p.grad = Tensor(g)
        opt.step()
        expected = _adam_reference(start, grads[:step], 0.01, 0.8, 0.9, 1e-6, weight_decay)
        np.testing.assert_allclose(p.data, expected, rtol=1e-12)
        if step == 1:
            # Bias correction makes the first step lr * g / (|g| + eps): about lr per coordinate.
            g = grads[0] + weight_decay * start
            np.testing.assert_allclose(p.data, start - 0.01 * g / (np.abs(g) + 1e-6), rtol=1e-12)


def test_adam_keeps_float32_and_minimises_a_quadratic():
    p = Parameter(np.array([3.0, -4.0], np.float32))
    opt = Adam([p], lr=0.1)
    for _ in range(300):
        loss = (p * p).sum()
        loss.backward()
        opt.step()
    assert p.dtype == np.float32
    assert np.abs(p.data).max() < 0.05


def test_adagrad_two_steps_match_a_hand_computed_update():
    # p = 1, grads 0.3 then 0.4, lr 0.5, s from 0.1, weight decay 0.1 (so g = grad + 0.1 p):
    # step 1: g = 0.4, s = 0.1 + 0.16 = 0.26, p = 1 - 0.5 * 0.4 / sqrt(0.26) = 0.6077677
    # step 2: g = 0.4 + 0.0607768 = 0.4607768, s = 0.26 + 0.2123152, p = 0.6077677 - 0.5 * g / sqrt(s) = 0.2725364
    p = _param([1.0], [0.3])
    opt = Adagrad([p], lr=0.5, initial_accumulator=0.1, weight_decay=0.1)
    opt.step()
    np.testing.assert_allclose(p.data, [0.6077677], rtol=1e-6)
    p.grad = Tensor(np.array([0.4], np.float32))
    opt.step()
    np.testing.assert_allclose(p.data, [0.2725364], rtol=1e-5)
    np.testing.assert_allclose(opt.state[id(p)]["sum"], [0.4723151], rtol=1e-5)
    assert p.dtype == np.float32


def test_adagrad_steps_shrink_with_the_gradients_seen():
    p = _param([0.0], [1.0])
    opt = Adagrad([p], lr=1.0)  # s from 0: the first step is lr * sign(g)
    moves = []
    for _ in range(4):
        before = float(p.data[0])
        p.grad = Tensor(np.array([1.0], np.float32))
        opt.step()
        moves.append(before - float(p.data[0]))
    np.testing.assert_allclose(moves, [1 / np.sqrt(n) for n in range(1, 5)], rtol=1e-6)


def test_clip_grad_norm_caps_the_joint_norm_and_returns_it():
    a, b = _param([3.0], [3.0]), _param([0.0, 0.0], [0.0, 4.0])  # joint norm 5
    none = Parameter(np.zeros(2))
    total = clip_grad_norm([a, b, none], max_norm=1.0)
    assert total == pytest.approx(5.0)
    np.testing.assert_allclose(a.grad.data, [0.6], rtol=1e-5)
    np.testing.assert_allclose(b.grad.data, [0.0, 0.8], rtol=1e-5)
    assert clip_grad_norm([a, b], max_norm=10.0) == pytest.approx(1.0, rel=1e-5)
    np.testing.assert_allclose(a.grad.data, [0.6], rtol=1e-5)  # under the cap: unchanged


def _cuda_available():
    try:
        check_device("cuda")
        return True
    except DeviceError:
        return False


@pytest.mark.skipif(not _cuda_available(), reason="needs CuPy and a GPU")
@pytest.mark.parametrize("make", [lambda ps: SGD(ps, lr=0.1, momentum=0.9), lambda ps: Adam(ps, lr=0.01)])
def test_optimizers_update_cupy_arrays_like_numpy(make):
    start, grad = np.array([1.0, -2.0], np.float32), np.array([0.5, 0.25], np.float32)
    results = []
    for device in ("cpu", "cuda"):
        p = Parameter(start.copy())
        p.data = to_device(p.data, device)
        opt = make([p])
        for _ in range(2):
            p.grad = Tensor(grad.copy(), device=device)
            opt.step()
        assert p.device == device and p.dtype == np.float32
        results.append(p.numpy())
    np.testing.assert_allclose(results[0], results[1], rtol=1e-6)


# ---- saving and restoring buffers ------------------------------------------------------------


def _stepped(make, shapes):
    """An optimizer over parameters of ``shapes`` after one step, so every buffer exists."""
    params = [_param(np.ones(shape), np.full(shape, 0.5)) for shape in shapes]
    optimizer = make(params)
    optimizer.step()
    return optimizer


MAKERS = {"sgd": lambda ps: SGD(ps, lr=0.1, momentum=0.9), "adam": lambda ps: Adam(ps, lr=0.1),
          "adagrad": lambda ps: Adagrad(ps, lr=0.1, initial_accumulator=0.1)}


@pytest.mark.parametrize("name", sorted(MAKERS))
def test_restored_buffers_continue_like_the_original(name):
    original = _stepped(MAKERS[name], [(2, 3), (3,)])
    restored = _stepped(MAKERS[name], [(2, 3), (3,)])
    restored.load_state_dict({k: v * 0 + 7 for k, v in restored.state_dict().items()})  # something else first
    restored.load_state_dict(original.state_dict())
    for a, b in zip(original.parameters, restored.parameters):
        a.grad, b.grad = Tensor(np.full(a.shape, 0.25, np.float32)), Tensor(np.full(b.shape, 0.25, np.float32))
    original.step(), restored.step()
    for a, b in zip(original.parameters, restored.parameters):
        np.testing.assert_array_equal(a.data, b.data)
        assert b.data.dtype == np.float32


@pytest.mark.parametrize("name, saved_shapes, words", [
    ("sgd", [(2, 3), (3,), (4,)], "'2.velocity' names no parameter of this model (it has 2)"),
    ("sgd", [(3, 3), (3,)], "'0.velocity' has shape (3, 3), but its parameter has shape (2, 3)"),
    ("adam", [(2, 4), (3,)], "'0.m' has shape (2, 4), but its parameter has shape (2, 3)"),
])
def test_buffers_saved_for_another_model_are_refused(name, saved_shapes, words):
    saved = _stepped(MAKERS[name], saved_shapes).state_dict()
    optimizer = _stepped(MAKERS[name], [(2, 3), (3,)])
    before = optimizer.state_dict()
    with pytest.raises(CheckpointError) as caught:
        optimizer.load_state_dict(saved)
    assert words in caught.value.message
    assert optimizer.state_dict().keys() == before.keys()  # nothing changed
    for key, value in before.items():
        np.testing.assert_array_equal(optimizer.state_dict()[key], value)


@pytest.mark.parametrize("name, buffers, words", [
    ("adam", {"0.velocity": np.zeros((2, 3))}, "not a buffer of Adam, which keeps t, m, v"),
    ("sgd", {"0.m": np.zeros((2, 3))}, "not a buffer of SGD, which keeps velocity"),
    ("adam", {"0.t": np.array(1), "0.m": np.zeros((2, 3))}, "has ['m', 't'], not all of ['m', 't', 'v']"),
    ("adam", {"0.t": np.array(-1), "0.m": np.zeros((2, 3)), "0.v": np.zeros((2, 3))}, "'0.t' is not a step count"),
    ("adam", {"0.t": np.zeros(2, int), "0.m": np.zeros((2, 3)), "0.v": np.zeros((2, 3))}, "not a step count"),
    ("sgd", {"velocity": np.zeros((2, 3))}, "'velocity' names no parameter"),
    ("sgd", {"x.velocity": np.zeros((2, 3))}, "'x.velocity' names no parameter"),
    ("sgd", {"0.velocity": np.array(["a"] * 6).reshape(2, 3)}, "holds <U1 values, not numbers"),
])
def test_malformed_buffers_are_refused(name, buffers, words):
    optimizer = _stepped(MAKERS[name], [(2, 3), (3,)])
    with pytest.raises(CheckpointError) as caught:
        optimizer.load_state_dict(buffers)
    assert words in caught.value.message
