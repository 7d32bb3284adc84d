"""gradcheck itself, and every case of the registry through it."""

import importlib
import pkgutil
import re

import numpy as np
import pytest

import minigrad
from minigrad import Tensor, ops
from minigrad.autograd import Function
from minigrad.gradcheck import (
    FULL_CHECK_LIMIT,
    GradcheckError,
    case_ops,
    check_case,
    check_leaves,
    gradcheck,
)
from minigrad.models.cases import all_cases as registry  # the framework's cases, then the models'

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


def test_nan_gradient_fails(monkeypatch):
    # Before: NaN - numeric is NaN, and NaN > tolerance is False, so a NaN gradient passed.
    monkeypatch.setattr(ops.Exp, "backward", lambda self, gy: (gy * np.nan,))
    result = gradcheck(lambda x: x.exp(), [np.array([0.1, 0.2])], raise_exception=False)
    assert not result.ok
    assert _parse(result.message)["backprop"] == "nan"
    assert np.isnan(result.max_abs_err)


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


def _minigrad_functions():
    """Every Function subclass defined in the minigrad package, after importing
    all of its modules: private engine stand-ins (``_Released``), abstract
    bases without a forward, and classes defined elsewhere (tests) left out."""
    for module in pkgutil.walk_packages(minigrad.__path__, "minigrad."):
        if not module.name.endswith("__main__"):
            importlib.import_module(module.name)
    found, todo = set(), [Function]
    while todo:
        cls = todo.pop()
        todo.extend(cls.__subclasses__())
        if (cls is not Function and cls.__module__.startswith("minigrad.") and not cls.__name__.startswith("_")
                and cls.forward is not Function.forward):
            found.add(cls)
    return found


def _uncovered(cases):
    covered = set().union(*(case_ops(case) for case in cases))
    return sorted(f"{cls.__module__}.{cls.__qualname__}" for cls in _minigrad_functions() - covered)


def test_every_op_has_a_case():
    # Which ops a case covers is read from its graph (the Function classes whose
    # backward its check runs), so it cannot go stale the way a list of names can.
    missing = _uncovered(CASES)
    assert not missing, f"Function classes no gradcheck case runs the backward of: {missing}"


def test_an_op_without_a_case_is_caught():
    class Doubled(Function):
        def forward(self, x):
            return 2 * x

        def backward(self, gy):
            return (2 * gy,)

    Doubled.__module__ = "minigrad.ops.new_module"  # as if someone added it to the package
    assert _uncovered(CASES) == ["minigrad.ops.new_module.test_an_op_without_a_case_is_caught.<locals>.Doubled"]
    # Classes defined in tests themselves are not ops of the package.
    Doubled.__module__ = __name__
    assert _uncovered(CASES) == []


def test_case_ops_reads_the_ops_from_the_graph():
    by_label = {f"{case.name}-{case.label}": case for case in CASES}
    assert case_ops(by_label["tanh-(3,4)"]) == {ops.Tanh}
    assert case_ops(by_label["linear-(5,3)x(3,4)+(4,)"]) == {ops.Linear}
    assert case_ops(by_label["cast-float64 -> longdouble -> float64, 0-d into (3,)"]) == {ops.Cast, ops.Mul}


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


# ---- how tight the default tolerances are ----------------------------------------------------


def _scaled_by(op, factor, monkeypatch):
    """Make ``op``'s backward return every gradient multiplied by ``factor``."""
    original = op.backward

    def scaled(self, gy):
        return tuple(None if g is None else g * factor for g in original(self, gy))

    monkeypatch.setattr(op, "backward", scaled)


SLIGHTLY_WRONG = [
    (ops.Tanh, "tanh", "(3,4)"),
    (ops.MatMul, "matmul", "(2,3,4)@(4,5)"),
    (ops.Sum, "sum", "dim=1 keepdim=False"),
    (ops.Softmax, "softmax", "dim=-1"),
    (ops.PowTensor, "pow", "tensor**tensor, (3,1)**(1,4)"),
    (ops.LSTMLayer, "lstm_layer", "T=4 B=2 H=3"),
]


@pytest.mark.parametrize("op, name, label", SLIGHTLY_WRONG, ids=[n for _, n, _ in SLIGHTLY_WRONG])
def test_a_backward_off_by_a_tenth_of_a_percent_fails(op, name, label, monkeypatch):
    case = next(c for c in CASES if c.name == name and c.label == label)
    assert check_case(case).result.ok
    _scaled_by(op, 1.001, monkeypatch)
    outcome = check_case(case)
    assert not outcome.result.ok, f"a gradient 0.1% too large passed: {outcome.result.max_rel_err:.2g}"
    match = _parse(outcome.result.message)
    assert float(match["backprop"]) == pytest.approx(1.001 * float(match["numeric"]), rel=1e-4)


def test_the_old_tolerances_let_a_tenth_of_a_percent_through(monkeypatch):
    # What the tightening bought: with atol=1e-5, rtol=1e-3 the same error passed.
    _scaled_by(ops.Tanh, 1.001, monkeypatch)
    x = Tensor(np.linspace(-1, 1, 6), requires_grad=True)
    assert check_leaves(lambda: x.tanh(), [x], ["x"], atol=1e-5, rtol=1e-3).ok
    assert not check_leaves(lambda: x.tanh(), [x], ["x"]).ok
