"""gradcheck itself, and every case of the registry through it."""

import re

import numpy as np
import pytest

from minigrad import Tensor, ops
from minigrad.gradcheck import (
    FULL_CHECK_LIMIT,
    GradcheckError,
    check_case,
    gradcheck,
)
from minigrad.gradcheck import all_cases as registry

MESSAGE = re.compile(
    r"gradient of (?P<name>[\w ]+) is wrong at (?P<what>element|random direction) \[(?P<where>[\d, ]+)\]: "
    r"backprop (?P<backprop>\S+), finite differences (?P<numeric>\S+)"
)


def _doubled_tanh_backward(self, gy):
    """A wrong Tanh backward: twice the true derivative."""
    return (2 * gy * (1 - self.y * self.y),)


def _parse(message):
    match = MESSAGE.fullmatch(message)
    assert match, message
    return match


# ---- gradcheck on functions -------------------------------------------------------------


@pytest.mark.parametrize(
    "fn, inputs",
    [
        (lambda a, b: a * b + a.tanh(), [[[1.0, 2.0]], [[0.5], [-1.5]]]),
        (lambda a: (a @ a.T).sigmoid().sum(), [np.arange(6.0).reshape(2, 3) / 6]),
        (lambda x, t: x.cross_entropy(t), [np.linspace(-1, 1, 12).reshape(4, 3), np.array([0, 2, 1, 1])]),
        (lambda a: a.log().mean(0), [np.linspace(0.5, 3, 8).reshape(4, 2)]),
    ],
    ids=["mul-tanh broadcast", "matmul-sigmoid", "cross_entropy int targets", "log-mean"],
)
def test_gradcheck_passes_on_correct_functions(fn, inputs):
    result = gradcheck(fn, inputs)
    assert result.ok and bool(result)
    assert result.message == ""
    assert result.max_abs_err < 1e-6


def test_gradcheck_accepts_float32_tensors_and_restores_them():
    x = Tensor(np.array([[0.3, -0.7]], dtype=np.float32), requires_grad=True)
    before = x.numpy().copy()
    assert gradcheck(lambda a: a.tanh() * a, [x])
    np.testing.assert_array_equal(x.numpy(), before)
    assert x.grad is None  # the check works on its own float64 copies


def test_wrong_backward_raises_naming_input_and_element(monkeypatch):
    monkeypatch.setattr(ops.Tanh, "backward", _doubled_tanh_backward)
    a = np.ones((2, 2))
    b = np.array([[1.0, -0.5], [0.01, 2.0]])  # the element nearest 0 has the largest derivative
    with pytest.raises(GradcheckError) as info:
        gradcheck(lambda x, y: (x * 2 + y.tanh()).sum(), [a, b])
    assert isinstance(info.value, AssertionError)  # a failed check reads as a failed test
    match = _parse(str(info.value))
    assert match["name"] == "input 1"  # input 0 only goes through Mul, which is right
    assert match["what"] == "element" and match["where"] == "1, 0"
    backprop, numeric = float(match["backprop"]), float(match["numeric"])
    assert backprop == pytest.approx(2 * numeric, rel=1e-4)


def test_wrong_backward_without_raising_returns_failure(monkeypatch):
    monkeypatch.setattr(ops.Tanh, "backward", _doubled_tanh_backward)
    result = gradcheck(lambda x: x.tanh(), [np.array([0.1, 0.2, 0.3])], raise_exception=False)
    assert not result.ok and not bool(result)
    assert result.max_rel_err == pytest.approx(0.5, rel=1e-4)  # |2g - g| / |2g|
    assert _parse(result.message)["name"] == "input 0"


def test_wrong_backward_found_with_upstream_that_is_not_uniform(monkeypatch):
    # A backward that ignores the incoming gradient is right only for ones; the
    # check's random upstream gradient catches it.
    monkeypatch.setattr(ops.Exp, "backward", lambda self, gy: (self.y,))
    result = gradcheck(lambda x: x.exp(), [np.array([0.1, 0.2, 0.3])], raise_exception=False)
    assert not result.ok


# ---- the random-direction mode ---------------------------------------------------------------


def _big_input():
    side = int(np.sqrt(FULL_CHECK_LIMIT)) + 5
    array = np.random.default_rng(0).standard_normal((side, side))
    assert array.size > FULL_CHECK_LIMIT
    return array


def test_random_direction_mode_passes_on_correct_function():
    big = _big_input()
    small = np.random.default_rng(1).standard_normal(big.shape[1])
    result = gradcheck(lambda a, b: (a * b).tanh(), [big, small])
    assert result.ok
    assert result.max_abs_err < 1e-6


def test_random_direction_mode_catches_wrong_backward(monkeypatch):
    monkeypatch.setattr(ops.Tanh, "backward", _doubled_tanh_backward)
    result = gradcheck(lambda a: a.tanh(), [_big_input()], raise_exception=False)
    assert not result.ok
    match = _parse(result.message)
    assert match["name"] == "input 0" and match["what"] == "random direction"
    assert float(match["backprop"]) == pytest.approx(2 * float(match["numeric"]), rel=1e-4)


def test_small_input_beside_big_one_is_checked_elementwise(monkeypatch):
    monkeypatch.setattr(ops.Tanh, "backward", _doubled_tanh_backward)
    big = _big_input()
    with pytest.raises(GradcheckError, match=r"input 1 is wrong at element \[\d+\]"):
        gradcheck(lambda a, b: a * 1.5 + b.tanh(), [big, np.linspace(-1, 1, big.shape[1])])


# ---- the registry -------------------------------------------------------------------------------

CASES = registry()


def test_every_public_op_has_a_case():
    covered = {case.name for case in CASES}
    missing = [name for name in ops.PUBLIC_OPS if name not in covered]
    assert not missing, f"ops without a gradcheck case: {missing}"


def test_case_ids_are_unique():
    ids = [f"{case.name}-{case.label}" for case in CASES]
    assert len(ids) == len(set(ids))


@pytest.mark.parametrize("case", CASES, ids=[f"{case.name}-{case.label}" for case in CASES])
def test_registry_case(case):
    outcome = check_case(case)
    assert outcome.result.ok, outcome.result.message
    assert outcome.name == case.name and outcome.label == case.label


def _case(name):
    return next(case for case in CASES if case.name == name)


def test_wrong_backward_fails_its_registry_case(monkeypatch):
    case = _case("tanh")
    assert check_case(case).result.ok
    monkeypatch.setattr(ops.Tanh, "backward", _doubled_tanh_backward)
    outcome = check_case(case)
    assert not outcome.result.ok
    assert _parse(outcome.result.message)["name"] == "input 0"


def test_wrong_forward_fails_its_registry_case(monkeypatch):
    case = _case("exp")
    monkeypatch.setattr(ops.Exp, "forward", lambda self, x: np.exp(x) + 1e-3)
    outcome = check_case(case)
    assert not outcome.result.ok
    assert "forward of exp differs from its numpy reference" in outcome.result.message


def test_check_case_reports_shapes():
    case = next(c for c in CASES if c.name == "add" and c.label == "(3,1)+(1,4)")
    assert check_case(case).shapes == "3x1 1x4"
