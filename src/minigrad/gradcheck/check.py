"""Checking backprop against finite differences, for a function or a registry case.

``gradcheck(fn, inputs)`` differentiates ``sum(fn(*inputs) * w)`` for a random
``w`` (a non-uniform upstream gradient hides fewer bugs than ones) both ways:
by backprop, and by central differences (f(x + eps) - f(x - eps)) / 2 eps in
float64 for every input element. For big inputs a cheaper mode compares the
directional derivative along a few random unit vectors instead.

``check_case`` runs one ``Case`` of the registry (``registry.all_cases``):
its forward against a numpy reference, then its gradients.
"""

from dataclasses import dataclass

import numpy as np

from ..autograd import no_grad
from ..tensor import Tensor
from .case import Case

FULL_CHECK_LIMIT = 2000  # inputs with more elements get the random-direction check
RANDOM_DIRECTIONS = 8

# An element passes when |backprop - numeric| <= ATOL + RTOL * |numeric|. In
# float64 with eps = 1e-6 the finite differences are good to about 1e-9
# absolute and 1e-6 relative over the whole registry, so these leave a margin of
# ten to twenty while still failing a backward that is off by 0.1%.
ATOL = 1e-7
RTOL = 1e-5


class GradcheckError(AssertionError):
    """Backprop and finite differences disagree."""


@dataclass
class GradcheckResult:
    """How backprop compared with finite differences, over all inputs."""

    ok: bool = True
    max_abs_err: float = 0.0
    max_rel_err: float = 0.0
    message: str = ""
    ops: frozenset = frozenset()  # the Function classes whose backward the check ran

    def __bool__(self):
        return self.ok


def _numeric_gradient(objective, leaf, eps):
    """Central differences of ``objective()`` for every element of ``leaf``."""
    values = leaf.data.reshape(-1)  # a view: editing it moves the leaf
    grad = np.zeros(values.size)
    for i in range(values.size):
        original = values[i]
        values[i] = original + eps
        plus = objective()
        values[i] = original - eps
        minus = objective()
        values[i] = original
        grad[i] = (plus - minus) / (2 * eps)
    return grad.reshape(leaf.data.shape)


def _directional_pairs(objective, leaf, analytic, eps, rng):
    """(analytic, numeric) derivatives along random unit directions."""
    analytic_dirs, numeric_dirs = [], []
    original = leaf.data.copy()
    for _ in range(RANDOM_DIRECTIONS):
        v = rng.standard_normal(original.shape)
        v /= np.linalg.norm(v)
        leaf.data[...] = original + eps * v
        plus = objective()
        leaf.data[...] = original - eps * v
        minus = objective()
        leaf.data[...] = original
        numeric_dirs.append((plus - minus) / (2 * eps))
        analytic_dirs.append(float((analytic * v).sum()))
    return np.array(analytic_dirs), np.array(numeric_dirs)


def _worse(a, b):
    """The larger error, NaN if either is NaN (Python's max would drop a NaN)."""
    return float("nan") if a != a or b != b else max(a, b)


def _compare(name, analytic, numeric, atol, rtol, result, what="element"):
    """Fold one input's comparison into ``result``; name the worst element on failure."""
    err = np.abs(analytic - numeric)
    rel = err / np.maximum(np.maximum(np.abs(analytic), np.abs(numeric)), atol)
    result.max_abs_err = _worse(result.max_abs_err, float(err.max(initial=0)))
    result.max_rel_err = _worse(result.max_rel_err, float(rel.max(initial=0)))
    excess = err - (atol + rtol * np.abs(numeric))
    excess = np.where(np.isnan(excess), np.inf, excess)  # a NaN on either side fails, never passes
    if excess.size and excess.max() > 0 and result.ok:
        worst = np.unravel_index(int(excess.argmax()), excess.shape)
        where = ", ".join(str(int(i)) for i in worst)
        result.ok = False
        result.message = (
            f"gradient of {name} is wrong at {what} [{where}]: "
            f"backprop {analytic[worst]:.6g}, finite differences {numeric[worst]:.6g}"
        )


def graph_ops(output):
    """The Function classes recorded in ``output``'s graph: the ops a backward
    from ``output`` runs, so exactly the ops a gradient check of it covers."""
    classes, seen, todo = set(), set(), [output]
    while todo:
        ctx = todo.pop()._ctx
        if ctx is None or id(ctx) in seen:
            continue
        seen.add(id(ctx))
        classes.add(type(ctx))
        todo.extend(ctx.parents)
    return frozenset(classes)


def check_leaves(compute, leaves, names, eps=1e-6, atol=ATOL, rtol=RTOL, seed=0):
    """Compare backprop with finite differences for each float64 leaf tensor.

    Args:
        compute: recomputes the output Tensor from the leaves' current data.
        leaves: Tensors (float64, requires_grad) to differentiate; their data is
            perturbed in place and restored.
        names: a label per leaf for messages.
    Returns:
        GradcheckResult.
    """
    rng = np.random.default_rng(seed)
    for leaf in leaves:
        leaf.grad = None
    output = compute()
    ops = graph_ops(output)
    upstream = rng.standard_normal(output.shape)
    output.backward(upstream)

    def objective():
        with no_grad():
            return float((compute().data * upstream).sum())

    result = GradcheckResult(ops=ops)
    for leaf, name in zip(leaves, names):
        analytic = np.zeros(leaf.shape) if leaf.grad is None else np.asarray(leaf.grad.data, dtype=np.float64)
        if leaf.data.size <= FULL_CHECK_LIMIT:
            _compare(name, analytic, _numeric_gradient(objective, leaf, eps), atol, rtol, result)
        else:
            pair = _directional_pairs(objective, leaf, analytic, eps, rng)
            _compare(name, *pair, atol, rtol, result, what="random direction")
    return result


def gradcheck(fn, inputs, eps=1e-6, atol=ATOL, rtol=RTOL, seed=0, raise_exception=True):
    """Check ``fn``'s backprop against central finite differences in float64.

    Args:
        fn: takes Tensors, returns a Tensor.
        inputs: arrays, lists or Tensors. Float inputs are checked (as float64);
            integer inputs (indices, targets) are passed through unchecked.
        eps: the finite-difference step.
        atol, rtol: an element passes when |backprop - numeric| <= atol + rtol * |numeric|.
        raise_exception: raise GradcheckError on failure instead of returning.
    Returns:
        GradcheckResult, true when every element passed.
    """
    tensors = []
    for x in inputs:
        array = np.asarray(x.data if isinstance(x, Tensor) else x)
        if array.dtype.kind == "f":
            array = array.astype(np.float64)
        tensors.append(Tensor(array, requires_grad=array.dtype.kind == "f"))
    leaves = [t for t in tensors if t.requires_grad]
    names = [f"input {i}" for i, t in enumerate(tensors) if t.requires_grad]
    result = check_leaves(lambda: fn(*tensors), leaves, names, eps, atol, rtol, seed)
    if raise_exception and not result.ok:
        raise GradcheckError(result.message)
    return result


# ---- running a registry case ----------------------------------------------------------


@dataclass
class CaseResult:
    name: str
    label: str
    shapes: str
    result: GradcheckResult


def _shapes(arrays):
    return " ".join("x".join(map(str, np.shape(a))) or "scalar" for a in arrays)


def _build(case: Case, seed: int):
    """A case's Trial, its inputs as arrays (floats in float64), and those as Tensors."""
    trial = case.setup(np.random.default_rng(seed))
    arrays = [np.asarray(a, dtype=np.float64) if np.asarray(a).dtype.kind == "f" else np.asarray(a) for a in trial.inputs]
    tensors = [Tensor(a, requires_grad=a.dtype.kind == "f") for a in arrays]
    return trial, arrays, tensors


def case_ops(case: Case, seed: int = 0) -> frozenset:
    """The Function classes whose backward ``case`` checks, found by running its
    forward once and reading the graph (no finite differences, so it is quick)."""
    trial, _, tensors = _build(case, seed)
    return graph_ops(trial.fn(*tensors))


def check_case(case: Case, seed: int = 0) -> CaseResult:
    """Run one registry case: the forward against its reference, then the gradients."""
    trial, arrays, tensors = _build(case, seed)
    if trial.reference is not None:
        with no_grad():
            got = np.asarray(trial.fn(*tensors).data)
        expected = trial.reference(*arrays)
        if got.shape != np.shape(expected) or not np.allclose(got, expected, rtol=1e-6, atol=1e-9):
            failed = GradcheckResult(ok=False, message=f"forward of {case.name} differs from its numpy reference")
            return CaseResult(case.name, case.label, _shapes(arrays), failed)
    leaves = [t for t in tensors if t.requires_grad] + list(trial.parameters)
    names = [f"input {i}" for i, t in enumerate(tensors) if t.requires_grad]
    names += [f"parameter {i}" for i in range(len(trial.parameters))]
    result = check_leaves(lambda: trial.fn(*tensors), leaves, names, seed=seed)
    return CaseResult(case.name, case.label, _shapes(arrays), result)
