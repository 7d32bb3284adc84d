"""Tensor construction, dtype rules, description and devices."""

import importlib.util
import subprocess
import sys

import numpy as np
import pytest

import minigrad
from minigrad import Tensor, errors

HAS_CUPY = importlib.util.find_spec("cupy") is not None


# ---- dtype rules ---------------------------------------------------------------


@pytest.mark.parametrize("data", [1.5, [1.0, 2.0], [[0.5], [1.5]]])
def test_python_floats_become_float32(data):
    t = Tensor(data)
    assert t.dtype == np.float32
    np.testing.assert_array_equal(t.numpy(), np.asarray(data, dtype=np.float32))


def test_float64_array_stays_float64():
    array = np.array([0.1, 0.2, 0.3])
    t = Tensor(array, requires_grad=True)
    assert t.dtype == np.float64
    assert t.requires_grad
    np.testing.assert_array_equal(t.numpy(), array)  # no float32 rounding happened


def test_float32_array_stays_float32():
    assert Tensor(np.ones(3, dtype=np.float32)).dtype == np.float32


def test_explicit_dtype_wins():
    t = Tensor([1, 2, 3], dtype=np.float64)
    assert t.dtype == np.float64
    assert Tensor(np.ones(2), dtype=np.float32).dtype == np.float32


@pytest.mark.parametrize("data", [[1, 2, 3], np.array([1, 2, 3]), 7])
def test_int_data_stays_int(data):
    t = Tensor(data)
    assert np.issubdtype(t.dtype, np.integer)
    assert not t.requires_grad


def test_int_array_never_requires_grad():
    # Indices and targets: asking for a gradient is ignored rather than an error,
    # as in the lesson, where integer inputs were created with autograd=True.
    t = Tensor(np.array([[0, 1], [1, 0]]), autograd=True)
    assert np.issubdtype(t.dtype, np.integer)
    assert t.requires_grad is False


def test_int_array_gets_no_grad_after_backward():
    x = Tensor(np.array([1, 2, 3]), requires_grad=True)
    w = Tensor([1.0, 1.0, 1.0], requires_grad=True)
    (x * w).sum().backward()
    assert x.grad is None
    np.testing.assert_array_equal(w.grad.numpy(), [1.0, 2.0, 3.0])


def test_python_int_list_with_requires_grad_becomes_float32():
    t = Tensor([1, 2, 3], autograd=True)
    assert t.dtype == np.float32
    assert t.requires_grad
    t2 = Tensor([1, 2, 3], requires_grad=True)
    assert t2.dtype == np.float32 and t2.requires_grad


def test_autograd_is_an_alias_of_requires_grad():
    assert Tensor([1.0], autograd=True).requires_grad
    assert not Tensor([1.0], autograd=False).requires_grad
    assert not Tensor([1.0]).requires_grad


@pytest.mark.parametrize(
    "make",
    [
        lambda t: t + Tensor([1, 2, 3]),
        lambda t: Tensor([1, 2, 3]) + t,
        lambda t: t - np.array([1, 2, 3]),
        lambda t: np.array([1, 2, 3]) * t,
        lambda t: t / 2,
        lambda t: 3 - t,
        lambda t: t * 2,
    ],
    ids=["t+int", "int+t", "t-intarray", "intarray*t", "t/2", "3-t", "t*2"],
)
def test_mixed_int_and_float_operands_keep_float32(make):
    t = Tensor([1.0, 2.0, 3.0], requires_grad=True)
    out = make(t)
    assert out.dtype == np.float32
    assert out.requires_grad


def test_int_operands_combine_as_int():
    out = Tensor([1, 2]) + Tensor([3, 4])
    assert np.issubdtype(out.dtype, np.integer)
    np.testing.assert_array_equal(out.numpy(), [4, 6])
    assert not out.requires_grad


# Integer tensors meeting floats: PyTorch's results, which the bug report found
# truncated to integers before (Tensor([1, 2, 3]) * 0.5 was [0, 1, 1]).
INT_WITH_FLOAT = [
    ("t * 0.5", lambda t: t * 0.5, [0.5, 1.0, 1.5]),
    ("0.5 * t", lambda t: 0.5 * t, [0.5, 1.0, 1.5]),
    ("t + 1.5", lambda t: t + 1.5, [2.5, 3.5, 4.5]),
    ("1.5 + t", lambda t: 1.5 + t, [2.5, 3.5, 4.5]),
    ("t - 0.5", lambda t: t - 0.5, [0.5, 1.5, 2.5]),
    ("0.5 - t", lambda t: 0.5 - t, [-0.5, -1.5, -2.5]),
    ("t / 2", lambda t: t / 2, [0.5, 1.0, 1.5]),
    ("3 / t", lambda t: 3 / t, [3.0, 1.5, 1.0]),
    ("t / t", lambda t: t / Tensor([2, 4, 4]), [0.5, 0.5, 0.75]),
    ("t ** 0.5", lambda t: t**0.5, [1.0, 2**0.5, 3**0.5]),
    ("0.5 ** t", lambda t: 0.5**t, [0.5, 0.25, 0.125]),
    ("t.exp()", lambda t: t.exp(), np.exp([1.0, 2.0, 3.0])),
    ("t.mean()", lambda t: t.mean(), 2.0),
]


@pytest.mark.parametrize("expr, fn, expected", INT_WITH_FLOAT, ids=[c[0] for c in INT_WITH_FLOAT])
def test_int_tensor_with_floats_gives_float32(expr, fn, expected):
    out = fn(Tensor([1, 2, 3]))
    assert out.dtype == np.float32, expr
    np.testing.assert_allclose(out.numpy(), expected, rtol=1e-7)


PROMOTED = [  # each of these came out in another dtype (and for bools, other values) before
    ("2 ** int", lambda: 2 ** Tensor([2, 3]), np.int64, [4, 8]),
    ("bool + int", lambda: Tensor(np.array([True, False])) + 1, np.int64, [2, 1]),
    ("bool * 0.5", lambda: Tensor(np.array([True, False])) * 0.5, np.float32, [0.5, 0.0]),
    ("int32 + 0-d int64", lambda: Tensor(np.array([1, 2], np.int32)) + Tensor(np.array(3)), np.int32, [4, 5]),
    ("float32 + 0-d float64", lambda: Tensor(np.ones(2, np.float32)) + Tensor(np.array(0.5)), np.float32,
     [1.5, 1.5]),
]
UNCHANGED = [  # right before, and still
    ("int + int", lambda: Tensor([1, 2]) + 3, np.int64, [4, 5]),
    ("int ** int", lambda: Tensor([2, 3]) ** 2, np.int64, [4, 9]),
    ("int32 + int64", lambda: Tensor(np.array([1, 2], np.int32)) + Tensor(np.array([3, 4])), np.int64, [4, 6]),
    ("int64 * float32", lambda: Tensor(np.array([1, 2])) * Tensor(np.array([0.5, 0.5], np.float32)),
     np.float32, [0.5, 1.0]),
    ("int64 + 0-d float64", lambda: Tensor(np.array([1, 2])) + Tensor(np.array(0.5)), np.float64, [1.5, 2.5]),
    ("float32 + float64", lambda: Tensor(np.ones(2, np.float32)) + Tensor(np.array([0.5, 0.5])), np.float64,
     [1.5, 1.5]),
]


@pytest.mark.parametrize("expr, fn, dtype, expected", PROMOTED, ids=[c[0] for c in PROMOTED])
def test_mixed_operands_follow_pytorch_promotion(expr, fn, dtype, expected):
    out = fn()
    assert out.dtype == dtype, expr
    np.testing.assert_array_equal(out.numpy(), expected)


@pytest.mark.parametrize("expr, fn, dtype, expected", UNCHANGED, ids=[c[0] for c in UNCHANGED])
def test_promotion_that_was_already_right_stays_right(expr, fn, dtype, expected):
    out = fn()
    assert out.dtype == dtype, expr
    np.testing.assert_array_equal(out.numpy(), expected)


def test_a_cast_operand_keeps_its_gradient():
    # float32 beside a 0-d float64 parameter stays float32, and the 0-d one still gets its gradient.
    x = Tensor(np.array([1.0, 2.0], np.float32), requires_grad=True)
    s = Tensor(np.array(3.0), requires_grad=True)
    out = x * s
    assert out.dtype == np.float32
    out.backward(np.array([1.0, 10.0], np.float32))
    assert s.grad.dtype == np.float64 and s.grad.item() == 21.0
    np.testing.assert_array_equal(x.grad.numpy(), [3.0, 30.0])


@pytest.mark.parametrize(
    "fn", [lambda t: t - True, lambda t: True - t, lambda t: t - Tensor(np.array([True, False, True]))],
    ids=["t - True", "True - t", "t - bool tensor"],
)
def test_subtracting_bools_is_refused(fn):
    with pytest.raises(TypeError, match="not defined for bool"):
        fn(Tensor([1.0, 2.0, 3.0]))


def test_concat_and_stack_promote_mixed_dtypes():
    a = Tensor(np.array([[1, 2]]))
    b = Tensor(np.array([[0.5, 1.5]], np.float32), requires_grad=True)
    joined = minigrad.concat([a, b])
    assert joined.dtype == np.float32
    np.testing.assert_array_equal(joined.numpy(), [[1.0, 2.0], [0.5, 1.5]])
    stacked = minigrad.stack([b, Tensor(np.array([[2.0, 3.0]]))])
    assert stacked.dtype == np.float64
    stacked.backward(np.array([[[1.0, 2.0]], [[3.0, 4.0]]]))
    assert b.grad.dtype == np.float32
    np.testing.assert_array_equal(b.grad.numpy(), [[1.0, 2.0]])


# ---- description and conversion --------------------------------------------------


def test_description():
    t = Tensor(np.zeros((2, 3, 4)), requires_grad=True)
    assert t.shape == (2, 3, 4)
    assert t.ndim == 3
    assert t.size == 24
    assert len(t) == 2
    assert t.dtype == np.float64
    assert t.device == "cpu"
    assert t.requires_grad is True
    assert t.is_leaf
    assert t.grad is None


def test_numpy_returns_the_values():
    t = Tensor([[1.0, 2.0], [3.0, 4.0]])
    out = t.numpy()
    assert isinstance(out, np.ndarray)
    np.testing.assert_array_equal(out, [[1.0, 2.0], [3.0, 4.0]])
    assert t.tolist() == [[1.0, 2.0], [3.0, 4.0]]
    np.testing.assert_array_equal(np.asarray(t), out)


def test_item():
    assert Tensor([2.5]).item() == 2.5
    assert isinstance(Tensor(3.0).item(), float)
    with pytest.raises(ValueError):
        Tensor([1.0, 2.0]).item()


def test_reduced_to_one_value_still_converts():
    # numpy reductions over all axes return scalars; a Tensor must still print and convert.
    s = Tensor([1.0, 2.0, 3.5]).sum()
    assert s.item() == 6.5
    assert isinstance(s.numpy(), np.ndarray) and s.numpy().shape == ()
    assert "6.5" in repr(s) and str(s) == "6.5"
    dot = Tensor([1.0, 2.0]) @ Tensor([3.0, 4.0])
    assert dot.numpy() == 11.0


def test_detach_cuts_the_graph():
    x = Tensor([1.0, 2.0], requires_grad=True)
    y = x * 3
    d = y.detach()
    assert not d.requires_grad
    assert d._ctx is None
    np.testing.assert_array_equal(d.numpy(), [3.0, 6.0])
    assert y.requires_grad and y._ctx is not None  # the original is untouched


def test_to_cpu_is_a_no_op():
    t = Tensor([1.0, 2.0], requires_grad=True)
    moved = t.to("cpu")
    assert moved is t
    assert Tensor([1.0], device="cpu").device == "cpu"


def test_astype_keeps_requires_grad():
    t = Tensor([1.0, 2.0], requires_grad=True).astype(np.float64)
    assert t.dtype == np.float64 and t.requires_grad


def test_astype_is_differentiable():
    # Before: astype made a new leaf, and the original never saw a gradient.
    x = Tensor([1.0, 2.0], requires_grad=True)
    (x.astype(np.float64) * 3).sum().backward()
    assert x.grad.dtype == np.float32
    np.testing.assert_array_equal(x.grad.numpy(), [3.0, 3.0])
    assert not x.astype(np.int64).requires_grad


def test_repr_mentions_requires_grad():
    assert "requires_grad=True" in repr(Tensor([1.0], requires_grad=True))
    assert "requires_grad" not in repr(Tensor([1.0]))


def test_tensor_from_tensor_copies_values_not_graph():
    x = Tensor([1.0, 2.0], requires_grad=True)
    y = Tensor(x * 2)
    assert not y.requires_grad and y._ctx is None
    np.testing.assert_array_equal(y.numpy(), [2.0, 4.0])


# ---- devices -----------------------------------------------------------------------


def test_importing_minigrad_does_not_import_cupy():
    # A fresh interpreter, since this test process may have imported anything.
    code = "import sys, minigrad; print('cupy' in sys.modules)"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "False"


def test_cupy_not_imported_in_this_process_by_cpu_work():
    Tensor([1.0, 2.0], requires_grad=True).sum().backward()
    if not HAS_CUPY:
        assert "cupy" not in sys.modules


@pytest.mark.skipif(HAS_CUPY, reason="CuPy is installed here")
def test_to_cuda_without_cupy_says_how_to_install():
    t = Tensor([1.0, 2.0])
    with pytest.raises(errors.DeviceError) as info:
        t.to("cuda")
    assert "pip install 'minigrad[cuda]'" in str(info.value)
    assert isinstance(info.value, errors.MinigradError)
    assert info.value.hint  # the fix is a separate hint, printed by the CLI


@pytest.mark.skipif(HAS_CUPY, reason="CuPy is installed here")
def test_tensor_on_cuda_without_cupy_raises():
    with pytest.raises(errors.DeviceError, match=r"minigrad\[cuda\]"):
        Tensor([1.0, 2.0], device="cuda")


@pytest.mark.parametrize("device", ["tpu", "gpu", "CUDA", ""])
def test_unknown_device_is_rejected(device):
    with pytest.raises(errors.DeviceError, match="unknown device"):
        Tensor([1.0], device=device)
    with pytest.raises(errors.DeviceError, match="unknown device"):
        Tensor([1.0]).to(device)


def test_version_is_exported():
    assert isinstance(minigrad.__version__, str)
