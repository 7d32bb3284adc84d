"""Sweep every op's argument space against PyTorch (CPU) as the oracle.

A developer's tool, not a test: it needs PyTorch (``.venv/bin/pip install
torch==2.13.0``), which minigrad itself never imports. For each op it walks
the arguments that tend to hide bugs: negative and out-of-range dims, 0-d and
empty tensors, keepdim, every broadcast pattern of the binary ops, mixed
dtypes (bool/int/float32/float64 tensors, 0-d tensors and Python scalars on
either side), and the special values of ``**`` (bases 0, negative, inf).

Each check runs the same inputs through minigrad and PyTorch and compares:

- the forward: shape, dtype and values (NaN matches NaN, inf matches inf);
- the gradient of every float input, backpropagating the same non-uniform
  upstream gradient through both (ones would hide a backward that ignores it);
- rejection: where PyTorch raises, minigrad must raise too; where the input
  is a dim out of range, minigrad's message must name the dim and the
  tensor's ndim.

A few things minigrad deliberately accepts where PyTorch raises (the mean and
softmax of an integer tensor, a matrix product of mixed dtypes) are checked
against PyTorch run on the promoted inputs instead; see ``extension`` below.
Left out on purpose: cross-entropy over no counted rows, which is 0 in
minigrad (a padded batch should not turn the loss into NaN) and NaN in
PyTorch, and class-probability targets, which minigrad's cross-entropy does
not take.

    .venv/bin/python scripts/op_sweep.py            # summary table; exit 1 on any mismatch
    .venv/bin/python scripts/op_sweep.py -v         # every mismatch, not only the first 40
    .venv/bin/python scripts/op_sweep.py --op pow   # one op
"""

import argparse
import itertools
import sys
import warnings
from collections import defaultdict

import numpy as np

try:
    import torch
    import torch.nn.functional as F
except ImportError:
    sys.exit("op_sweep.py needs PyTorch: .venv/bin/pip install torch==2.13.0 (a CPU build)")

import minigrad
from minigrad import Tensor
from minigrad.ops.recurrent import GRUHidden, LSTMCellState, LSTMHidden, RNNStep
from minigrad.ops.sequence import LSTMLayer, RNNLayer

torch.set_num_threads(1)
warnings.filterwarnings("ignore")  # numpy's divide-by-zero and torch's broadcast notes are expected here

TOLERANCE = {  # (rtol, atol) by the dtype compared
    np.dtype(np.float64): (1e-9, 1e-12),
    np.dtype(np.float32): (2e-5, 1e-6),
}


class Raises:
    """An argument that marks a check whose input must be rejected."""


def _torch_dtype_to_numpy(dtype):
    return torch.empty(0, dtype=dtype).numpy().dtype


class Sweep:
    def __init__(self, only=None):
        self.only = only
        self.counts = defaultdict(lambda: [0, 0])  # op -> [checks, mismatches]
        self.mismatches = []
        self.rng = np.random.default_rng(0)

    # ---- one check ---------------------------------------------------------------------------

    def check(self, op, label, mg_fn, th_fn, args, *, dim_error=None, extension=None, grad=True):
        """Run ``mg_fn`` and ``th_fn`` on ``args`` and compare everything.

        ``args`` are numpy arrays (each becomes a Tensor on both sides, float
        ones with requires_grad) or anything else (passed through unchanged,
        e.g. Python scalars). ``dim_error=(dim, ndim)`` says PyTorch must
        reject the call for that dim and minigrad's message must name both.
        ``extension(*torch_args)``, for a call PyTorch rejects but minigrad
        deliberately accepts, computes the expected result in PyTorch.
        """
        if self.only and op != self.only:
            return
        self.counts[op][0] += 1
        problem = self._compare(mg_fn, th_fn, args, dim_error, extension, grad)
        if problem:
            self.counts[op][1] += 1
            self.mismatches.append((op, label, problem))

    def _compare(self, mg_fn, th_fn, args, dim_error, extension, grad):
        th_args = [self._torch_arg(a, grad) for a in args]
        try:
            expected = th_fn(*th_args)
            torch_error = None
        except Exception as exc:  # PyTorch raises RuntimeError, IndexError, TypeError, ValueError...
            expected, torch_error = None, exc
        if torch_error is not None and extension is not None:
            th_args = [self._torch_arg(a, grad) for a in args]
            expected, torch_error = extension(*th_args), None
        mg_args = [self._minigrad_arg(a, grad) for a in args]
        try:
            with np.errstate(all="ignore"):
                got = mg_fn(*mg_args)
            mg_error = None
        except Exception as exc:
            got, mg_error = None, exc
        if torch_error is not None:
            if mg_error is None:
                return f"PyTorch rejects ({_first_line(torch_error)}) but minigrad returned shape {got.shape}"
            if dim_error is not None:
                dim, ndim = dim_error
                message = str(mg_error)
                if f"dim {dim}" not in message or f"ndim {ndim}" not in message:
                    return (f"error does not name dim {dim} and ndim {ndim}: "
                            f"{type(mg_error).__name__}: {_first_line(mg_error)}")
            return None
        if dim_error is not None:
            return f"expected PyTorch to reject dim {dim_error[0]}, but it accepted it"
        if mg_error is not None:
            return f"minigrad raised {type(mg_error).__name__}: {_first_line(mg_error)}"
        problem = _same_array("forward", got.numpy(), expected.detach().numpy())
        if problem or not grad:
            return problem
        return self._compare_gradients(got, expected, mg_args, th_args, th_fn, args)

    def _compare_gradients(self, got, expected, mg_args, th_args, th_fn, args):
        th_leaves = [t for t in th_args if isinstance(t, torch.Tensor) and t.requires_grad]
        mg_leaves = [t for t in mg_args if isinstance(t, Tensor) and t.requires_grad]
        if not th_leaves or not expected.requires_grad:
            if got.requires_grad:
                return "minigrad's output requires grad, PyTorch's does not"
            return None
        upstream = self.rng.standard_normal(expected.shape).astype(_torch_dtype_to_numpy(expected.dtype))
        try:
            expected.backward(torch.from_numpy(upstream.copy()))
        except RuntimeError:
            # PyTorch's backward of a few mixed-dtype ops fails (float - bool tensor); run it again
            # with the non-float operands cast to the output's dtype, which changes no value.
            th_args = [self._torch_arg(a.astype(upstream.dtype) if isinstance(a, np.ndarray) and a.dtype.kind != "f"
                                       else float(a) if isinstance(a, bool) else a, grad=True) for a in args]
            th_args = [t.detach() if isinstance(a, np.ndarray) and a.dtype.kind != "f" else t
                       for t, a in zip(th_args, args)]
            th_fn(*th_args).backward(torch.from_numpy(upstream.copy()))
            th_leaves = [t for t in th_args if isinstance(t, torch.Tensor) and t.requires_grad]
        try:
            with np.errstate(all="ignore"):
                got.backward(upstream.copy())
        except Exception as exc:
            return f"minigrad's backward raised {type(exc).__name__}: {_first_line(exc)}"
        for i, (mg, th) in enumerate(zip(mg_leaves, th_leaves)):
            want = th.grad.numpy() if th.grad is not None else np.zeros(th.shape, _torch_dtype_to_numpy(th.dtype))
            have = mg.grad.numpy() if mg.grad is not None else np.zeros(mg.shape, mg.dtype)
            problem = _same_array(f"gradient of input {i}", have, want)
            if problem:
                return problem
        return None

    @staticmethod
    def _torch_arg(a, grad):
        if isinstance(a, np.ndarray):
            t = torch.from_numpy(a.copy())
            if grad and a.dtype.kind == "f":
                t.requires_grad_()
            return t
        if isinstance(a, list) and a and all(isinstance(x, np.ndarray) for x in a):
            return [Sweep._torch_arg(x, grad) for x in a]
        return a

    @staticmethod
    def _minigrad_arg(a, grad):
        if isinstance(a, np.ndarray):
            return Tensor(a.copy(), requires_grad=grad and a.dtype.kind == "f")
        if isinstance(a, list) and a and all(isinstance(x, np.ndarray) for x in a):
            return [Sweep._minigrad_arg(x, grad) for x in a]
        return a

    # ---- report -----------------------------------------------------------------------------------

    def report(self, verbose):
        total = sum(c for c, _ in self.counts.values())
        bad = sum(m for _, m in self.counts.values())
        width = max(len(op) for op in self.counts) if self.counts else 2
        print(f"{'op':<{width}}  {'checks':>6}  {'mismatches':>10}")
        for op, (checks, mismatches) in self.counts.items():
            print(f"{op:<{width}}  {checks:>6}  {mismatches:>10}")
        print(f"{'total':<{width}}  {total:>6}  {bad:>10}")
        shown = self.mismatches if verbose else self.mismatches[:40]
        if shown:
            print("\nmismatches:")
            for op, label, problem in shown:
                print(f"  {op} [{label}]: {problem}")
            if len(shown) < len(self.mismatches):
                print(f"  ... and {len(self.mismatches) - len(shown)} more (-v lists all)")
        return bad


def _first_line(exc):
    return str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__


def _same_array(what, have, want):
    have, want = np.asarray(have), np.asarray(want)
    if have.shape != want.shape:
        return f"{what}: shape {have.shape}, PyTorch {want.shape}"
    if have.dtype != want.dtype:
        return f"{what}: dtype {have.dtype}, PyTorch {want.dtype}"
    if have.dtype.kind in "biu":
        ok = np.array_equal(have, want)
    else:
        rtol, atol = TOLERANCE.get(have.dtype, (1e-3, 1e-3))
        ok = np.allclose(have, want, rtol=rtol, atol=atol, equal_nan=True)
    if ok:
        return None
    h, w = have.astype(np.float64).ravel(), want.astype(np.float64).ravel()
    differs = ~((h == w) | (np.isnan(h) & np.isnan(w)) | np.isclose(h, w, rtol=1e-5, atol=1e-7))
    i = int(np.argmax(differs)) if differs.any() else 0
    return f"{what} differs at flat index {i}: minigrad {h[i]!r}, PyTorch {w[i]!r}"


# ---- inputs ---------------------------------------------------------------------------------------

RNG = np.random.default_rng(1)


def _array(values, dtype):
    return np.asarray(np.asarray(values).astype(dtype))  # 0-d stays an array, not a numpy scalar


def normal(shape, dtype=np.float64):
    return _array(RNG.standard_normal(shape), dtype)


def positive(shape, dtype=np.float64):
    return _array(RNG.uniform(0.5, 2.0, shape), dtype)


def away_from_zero(shape, dtype=np.float64):
    return _array(RNG.choice([-1.0, 1.0], shape) * RNG.uniform(0.3, 2.0, shape), dtype)


def distinct(shape, dtype=np.float64):
    """Values with no ties, so max has one winner per slice."""
    n = int(np.prod(shape))
    return _array((RNG.permutation(n) + RNG.uniform(0.1, 0.9, n) - n / 2).reshape(shape), dtype)


def valued(kind, shape):
    """A tensor of ``kind`` (a dtype name) with values every op accepts."""
    if kind == "bool":
        return _array(RNG.integers(0, 2, shape), bool)
    if kind in ("int64", "int32"):
        return _array(RNG.integers(1, 4, shape), kind)
    return positive(shape, kind)


def broadcastable(*shapes):
    try:
        np.broadcast_shapes(*shapes)
        return True
    except ValueError:
        return False


def _shape_label(shape):
    return "x".join(map(str, shape)) if shape else "0-d"


SHAPES = [(), (1,), (3,), (1, 3), (2, 1), (2, 3), (4, 1, 3), (4, 2, 3), (0,), (2, 0), (1, 0)]
SMALL_SHAPES = [(), (3,), (2, 3), (2, 3, 4), (0,), (2, 0)]


# ---- the sweeps -------------------------------------------------------------------------------------

BINARY = {
    "add": (lambda a, b: a + b, normal, normal),
    "sub": (lambda a, b: a - b, normal, normal),
    "mul": (lambda a, b: a * b, normal, normal),
    "div": (lambda a, b: a / b, normal, away_from_zero),
    "pow": (lambda a, b: a**b, positive, normal),
}


def sweep_broadcasting(s):
    """Every pair of SHAPES through each binary op: broadcast or rejected."""
    for name, (fn, left, right) in BINARY.items():
        for sa, sb in itertools.product(SHAPES, SHAPES):
            s.check(name, f"{_shape_label(sa)} with {_shape_label(sb)}", fn, fn, [left(sa), right(sb)])
    for sa, sb in itertools.product(SHAPES, SHAPES):
        s.check("mse", f"{_shape_label(sa)} with {_shape_label(sb)}", lambda p, t: p.mse(t),
                lambda p, t: F.mse_loss(p, t) if broadcastable(p.shape, t.shape) else p - t,
                [normal(sa), normal(sb)])


def _operand(kind, shape):
    """An operand of the dtype grid: a numpy array, or a Python scalar."""
    if kind == "py_bool":
        return True
    if kind == "py_int":
        return 2
    if kind == "py_float":
        return 0.5
    return valued(kind, shape)


def sweep_dtypes(s):
    """Mixed operand types on both sides of each binary op, dimensioned and 0-d."""
    tensors = ["bool", "int32", "int64", "float32", "float64"]
    scalars = ["py_bool", "py_int", "py_float"]
    kinds = [(k, (3,)) for k in tensors] + [(k, ()) for k in tensors] + [(k, None) for k in scalars]
    for name, (fn, _, _) in BINARY.items():
        for (ka, sa), (kb, sb) in itertools.product(kinds, kinds):
            if sa is None and sb is None:
                continue  # two Python scalars never meet a Tensor
            label = f"{ka}{'' if sa is None else ' ' + _shape_label(sa)} with {kb}{'' if sb is None else ' ' + _shape_label(sb)}"
            s.check(name, label, fn, fn, [_operand(ka, sa), _operand(kb, sb)])
    # Integer tensors with Python numbers, the cases of the bug report.
    ints = np.array([1, 2, 3])
    for label, fn in [("t * 0.5", lambda t: t * 0.5), ("t + 1.5", lambda t: t + 1.5), ("t / 2", lambda t: t / 2),
                      ("0.5 - t", lambda t: 0.5 - t), ("t - 1", lambda t: t - 1), ("2 / t", lambda t: 2 / t),
                      ("t ** 0.5", lambda t: t**0.5), ("t ** 2", lambda t: t**2), ("2 ** t", lambda t: 2**t),
                      ("0.5 ** t", lambda t: 0.5**t), ("t ** -1", lambda t: t**-1)]:
        s.check("int-scalar", label, fn, fn, [ints])


def sweep_matmul(s):
    pairs = [((3,), (3,)), ((2, 3), (3,)), ((3,), (3, 4)), ((2, 3), (3, 4)), ((5, 2, 3), (3, 4)),
             ((2, 3), (5, 3, 4)), ((5, 2, 3), (5, 3, 4)), ((5, 1, 2, 3), (4, 3, 2)), ((3,), (5, 3, 4)),
             ((5, 2, 3), (3,)), ((0, 3), (3, 4)), ((2, 0), (0, 4)), ((2, 3), (4, 2)), ((3,), (4,)),
             ((), (3,)), ((2, 3), ()), ((5, 2, 3), (4, 3, 2))]
    fn = lambda a, b: a @ b  # noqa: E731
    for sa, sb in pairs:
        s.check("matmul", f"{_shape_label(sa)} @ {_shape_label(sb)}", fn, fn, [normal(sa), normal(sb)])
    promoted = lambda a, b: torch.matmul(*[x.to(torch.result_type(a, b)) for x in (a, b)])  # noqa: E731
    for ka, kb in itertools.product(["int64", "float32", "float64"], repeat=2):
        s.check("matmul", f"{ka} @ {kb}", fn, fn, [valued(ka, (2, 3)), valued(kb, (3, 2))], extension=promoted)
    for x_shape, b_shape in [((5, 3), (4,)), ((2, 5, 3), (4,)), ((5, 3), (1, 4)), ((5, 3), (5, 4)), ((3,), (4,)),
                             ((0, 3), (4,)), ((5, 3), None)]:
        def mg(x, w, b=None):
            return minigrad.functional.linear(x, w, b)

        def th(x, w, b=None):
            return x @ w + (0 if b is None else b)

        arrays = [normal(x_shape), normal((3, 4))] + ([] if b_shape is None else [normal(b_shape)])
        s.check("linear", f"x {_shape_label(x_shape)} bias {b_shape}", mg, th, arrays)


UNARY = {
    "neg": (lambda t: -t, lambda t: -t, normal),
    "exp": (lambda t: t.exp(), torch.exp, normal),
    "log": (lambda t: t.log(), torch.log, positive),
    "tanh": (lambda t: t.tanh(), torch.tanh, normal),
    "sigmoid": (lambda t: t.sigmoid(), torch.sigmoid, normal),
    "relu": (lambda t: t.relu(), torch.relu, away_from_zero),
}


def sweep_unary(s):
    for name, (mg, th, make) in UNARY.items():
        for shape in SMALL_SHAPES:
            for dtype in (np.float64, np.float32):
                s.check(name, f"{_shape_label(shape)} {np.dtype(dtype)}", mg, th, [make(shape, dtype)])
        for kind in ("int64", "bool"):
            s.check(name, f"(3,) {kind}", mg, th, [valued(kind, (3,))])
    special = np.array([0.0, -0.0, -1.0, np.inf, -np.inf, np.nan, 1e4, -1e4])
    for name, (mg, th, _) in UNARY.items():
        s.check(name, "0, -0, -1, +-inf, nan, +-1e4", mg, th, [special.copy()])


def _dims(ndim):
    """Every dim from one below the valid range to one above it."""
    low, high = (-1, 0) if ndim == 0 else (-ndim, ndim - 1)
    return list(range(low - 1, high + 2)), (low, high)


def sweep_reductions(s):
    for name in ("sum", "mean", "max"):
        th_reduce = {"sum": torch.sum, "mean": torch.mean, "max": torch.amax}[name]
        make = distinct if name == "max" else normal

        def mg(x, dim, keepdim, name=name):
            return getattr(x, name)(dim, keepdim=keepdim)

        def th(x, dim, keepdim, reduce=th_reduce):
            if dim is None:
                dim = tuple(range(x.ndim))  # PyTorch's spelling of "all dims" that takes keepdim
            return reduce(x, dim=dim, keepdim=keepdim)

        for shape in [(), (3,), (2, 3), (2, 3, 4), (0,), (2, 0), (0, 3)]:
            dims, (low, high) = _dims(len(shape))
            choices = [None] + dims + ([(0, -1), (-1, 0), (0, 0), (1, -1)] if len(shape) >= 2 else [])
            for dim, keepdim in itertools.product(choices, (False, True)):
                out_of_range = isinstance(dim, int) and not low <= dim <= high
                s.check(name, f"{_shape_label(shape)} dim={dim} keepdim={keepdim}",
                        lambda x, d=dim, k=keepdim: mg(x, d, k), lambda x, d=dim, k=keepdim: th(x, d, k),
                        [make(shape) if 0 not in shape else np.zeros(shape)],
                        dim_error=(dim, len(shape)) if out_of_range else None)
        for kind in ("float32", "int64", "int32", "bool"):
            extension = None
            if name == "mean" and kind in ("int64", "int32", "bool"):
                extension = lambda x: x.to(torch.float32).mean(dim=1)  # noqa: E731
            s.check(name, f"(2,3) {kind} dim=1", lambda x: mg(x, 1, False), lambda x: th(x, 1, False),
                    [valued(kind, (2, 3)) if name != "max" else distinct((2, 3)).astype(kind)], extension=extension)


def sweep_softmax(s):
    for name, th_fn in (("softmax", F.softmax), ("log_softmax", F.log_softmax)):
        for shape in [(), (3,), (2, 3), (2, 3, 4), (0, 3), (2, 0)]:
            dims, (low, high) = _dims(len(shape))
            for dim in dims:
                s.check(name, f"{_shape_label(shape)} dim={dim}", lambda x, d=dim: getattr(x, name)(d),
                        lambda x, d=dim: th_fn(x, dim=d), [normal(shape)],
                        dim_error=None if low <= dim <= high else (dim, len(shape)))
        s.check(name, "float32 (2,3)", lambda x: getattr(x, name)(-1), lambda x: th_fn(x, dim=-1),
                [normal((2, 3), np.float32)])
        s.check(name, "large logits", lambda x: getattr(x, name)(-1), lambda x: th_fn(x, dim=-1),
                [np.array([[1e4, 0.0, -1e4], [3e4, 3e4 + 2, 1e4]])])
        s.check(name, "int64 (2,3)", lambda x: getattr(x, name)(-1), lambda x: th_fn(x, dim=-1),
                [valued("int64", (2, 3))], extension=lambda x, f=th_fn: f(x.to(torch.float32), dim=-1))


def sweep_transpose(s):
    for shape in [(2, 3, 4), (2, 2, 2), (3, 5), (4,), ()]:
        n = len(shape)
        for perm in itertools.permutations(range(n)):
            for signs in itertools.product((False, True), repeat=n):
                axes = tuple(a - n if negative else a for a, negative in zip(perm, signs))
                s.check("transpose", f"{_shape_label(shape)} axes={axes}", lambda x, a=axes: x.transpose(*a),
                        lambda x, a=axes: x.permute(a), [normal(shape)])
        s.check("transpose", f"{_shape_label(shape)} reversed", lambda x: x.transpose(),
                lambda x: x.permute(tuple(reversed(range(x.ndim)))), [normal(shape)])
        if n:
            for axes in [tuple(range(n - 1)), tuple(range(n)) + (0,), (0,) * n]:
                if not axes or axes == tuple(range(n)):
                    continue  # no axes means "reverse them"; (0,) on 1-D is a valid permutation
                s.check("transpose", f"{_shape_label(shape)} bad axes={axes}", lambda x, a=axes: x.transpose(*a),
                        lambda x, a=axes: x.permute(*a), [normal(shape)])
            for bad in (n, -n - 1):
                axes = (bad,) + tuple(range(1, n))
                s.check("transpose", f"{_shape_label(shape)} axes={axes}", lambda x, a=axes: x.transpose(*a),
                        lambda x, a=axes: x.permute(*a), [normal(shape)], dim_error=(bad, n))
    s.check("transpose", ".T of (3,5)", lambda x: x.T, lambda x: x.T, [normal((3, 5))])


def sweep_shapes(s):
    for shape, new in [((2, 3, 4), (6, 4)), ((2, 3, 4), (6, -1)), ((2, 3, 4), (-1,)), ((), (1,)), ((1,), ()),
                       ((0, 3), (3, 0)), ((0, 3), (0, -1)), ((2, 3), (5,)), ((2, 3), (-1, -1)), ((3,), (1, 3, 1))]:
        s.check("reshape", f"{_shape_label(shape)} -> {new}", lambda x, n=new: x.reshape(*n) if n else x.reshape(()),
                lambda x, n=new: x.reshape(n), [normal(shape)])
    for shape in [(4,), (3, 4), ()]:
        n = len(shape)
        for dim in range(-n - 2, n + 2):
            ok = -n - 1 <= dim <= n
            s.check("expand", f"{_shape_label(shape)} dim={dim} copies=3", lambda x, d=dim: x.expand(d, 3),
                    lambda x, d=dim: _torch_expand(x, d, 3), [normal(shape)],
                    dim_error=None if ok else (dim, n))
    for shape, target in [((3, 1), (2, 3, 4)), ((), (2, 3)), ((3,), (2, 3)), ((1,), (0,)), ((3,), (2, 4)),
                          ((2, 3), (3,))]:
        s.check("broadcast_to", f"{_shape_label(shape)} -> {target}", lambda x, t=target: x.broadcast_to(*t),
                lambda x, t=target: x.broadcast_to(t), [normal(shape)])


def _torch_expand(x, dim, copies):
    y = x.unsqueeze(dim)
    shape = list(y.shape)
    shape[dim] = copies
    return y.expand(shape)


def sweep_indexing(s):
    x = normal((3, 4))
    rows = np.array([0, 2, 0, 0])
    indices = [
        ("1", 1), ("-1", -1), ("1:", slice(1, None)), ("::2", slice(None, None, 2)), ("2:2", slice(2, 2)),
        ("1, 2", (1, 2)), ("-1, -2", (-1, -2)), (":, 1:3", (slice(None), slice(1, 3))),
        ("None", None), ("..., None", (Ellipsis, None)), ("..., -1", (Ellipsis, -1)),
        ("[0,2,0,0]", rows), ("[-1,-1]", np.array([-1, -1])), ("1, [0,0,3]", (1, np.array([0, 0, 3]))),
        ("bool mask", np.array([True, False, True])), ("empty int array", np.array([], dtype=np.int64)),
        ("3 (out of range)", 3), ("-4 (out of range)", -4), ("0, 4 (out of range)", (0, 4)),
        ("[0,5] (out of range)", np.array([0, 5])), ("1, 2, 3 (too many)", (1, 2, 3)),
    ]
    for label, index in indices:
        s.check("getitem", f"(3,4)[{label}]", lambda t, i=index: t[i],
                lambda t, i=index: t[_torch_index(i)], [x.copy()])
    s.check("getitem", "0-d[()]", lambda t: t[()], lambda t: t[()], [normal(())])
    s.check("getitem", "0-d[None]", lambda t: t[None], lambda t: t[None], [normal(())])

    weight = normal((5, 3))
    for label, idx in [("(4,)", np.array([1, 3, 3, 0])), ("(2,3)", np.array([[1, 2, 3], [2, 3, 4]])),
                       ("0-d", np.array(2)), ("empty", np.array([], dtype=np.int64)), ("negative", np.array([-1, 0])),
                       ("out of range", np.array([0, 5])), ("float ids", np.array([0.0, 1.0]))]:
        s.check("index_select", f"(5,3) rows {label}", lambda w, i=idx: w.index_select(i),
                lambda w, i=idx: w[_torch_index(i)], [weight.copy()], grad=True)
    for shape in [(5, 3), (2, 5, 3), (4,)]:
        n = len(shape)
        for dim in range(-n - 1, n + 1):
            ok = -n <= dim < n
            idx = np.array([1, 0, 1])
            s.check("index_select", f"{_shape_label(shape)} dim={dim}", lambda w, d=dim, i=idx: w.index_select(i, dim=d),
                    lambda w, d=dim, i=idx: torch.index_select(w, d, torch.from_numpy(i)), [normal(shape)],
                    dim_error=None if ok else (dim, n))
    s.check("index_select", "0-d weight", lambda w: w.index_select(np.array([0])),
            lambda w: w[torch.tensor([0])], [normal(())])


def _torch_index(index):
    if isinstance(index, np.ndarray):
        return torch.from_numpy(index)
    if isinstance(index, tuple):
        return tuple(_torch_index(i) for i in index)
    return index


def sweep_joining(s):
    for name, mg_join, th_join in (("concat", minigrad.concat, torch.cat), ("stack", minigrad.stack, torch.stack)):
        extra = 1 if name == "stack" else 0
        for shapes in ([(2, 3), (2, 3)], [(2, 3), (2, 3), (2, 3)], [(3,), (3,)], [(0, 3), (0, 3)], [(2, 3)]):
            n = len(shapes[0])
            for dim in range(-n - extra - 1, n + extra + 1):
                ok = -n - extra <= dim < n + extra
                s.check(name, f"{' '.join(map(_shape_label, shapes))} dim={dim}",
                        lambda *xs, d=dim, j=mg_join: j(list(xs), dim=d), lambda *xs, d=dim, j=th_join: j(list(xs), dim=d),
                        [normal(sh) for sh in shapes], dim_error=None if ok else (dim, n))
        for label, shapes, dim in [("(2,3) (4,3) dim=0", [(2, 3), (4, 3)], 0), ("(2,3) (2,1) dim=-1", [(2, 3), (2, 1)], -1),
                                   ("(2,3) (0,3) dim=0", [(2, 3), (0, 3)], 0), ("(2,3) (3,2) dim=0", [(2, 3), (3, 2)], 0),
                                   ("(2,3) (2,3,1) dim=0", [(2, 3), (2, 3, 1)], 0), ("0-d 0-d dim=0", [(), ()], 0),
                                   ("0-d 0-d dim=-1", [(), ()], -1)]:
            s.check(name, label, lambda *xs, d=dim, j=mg_join: j(list(xs), dim=d),
                    lambda *xs, d=dim, j=th_join: j(list(xs), dim=d), [normal(sh) for sh in shapes])
        s.check(name, "no tensors", lambda: mg_join([], dim=0), lambda: th_join([], dim=0), [])
        for ka, kb in [("float32", "float64"), ("int64", "float32"), ("float64", "int64"), ("int64", "int32")]:
            s.check(name, f"{ka} and {kb}", lambda a, b, j=mg_join: j([a, b], dim=0),
                    lambda a, b, j=th_join: j([a, b], dim=0), [valued(ka, (2, 3)), valued(kb, (2, 3))])


def sweep_pow(s):
    """The special values of x ** p: bases 0, negative, +-inf; exponents 0, fractional, negative."""
    # -0.0 and -inf are left to integer exponents: at them x ** 0.5 and x ** -0.5 follow sqrt's
    # sign rules in both numpy and PyTorch when the exponent is a number, and pow's when it is a
    # tensor, and the two libraries make that switch in different places.
    bases = np.array([0.0, -2.0, -0.5, 0.5, 2.0, np.inf])
    signed = np.array([-0.0, -np.inf, -3.0])
    for p in (0, 1, 2, 3, -1, -2):
        s.check("pow", f"-0.0, -inf ** {p}", lambda t, p=p: t**p, lambda t, p=p: t**p, [signed.copy()])
        s.check("pow", f"-0.0, -inf ** 0-d tensor {p}.0", lambda t, e: t**e, lambda t, e: t**e,
                [signed.copy(), np.array(float(p))])
    exponents = np.array([0.0, 1.0, 2.0, 3.0, 0.5, -1.0, -2.0, -0.5, 2.5])
    for p in exponents:
        p = float(p)
        s.check("pow", f"special bases ** {p}", lambda t, p=p: t**p, lambda t, p=p: t**p, [bases.copy()])
        if p.is_integer():
            s.check("pow", f"special bases ** int {int(p)}", lambda t, p=int(p): t**p, lambda t, p=int(p): t**p,
                    [bases.copy()])
        s.check("pow", f"special bases ** 0-d tensor {p}", lambda t, e: t**e, lambda t, e: t**e,
                [bases.copy(), np.array(p)])
    b, e = np.meshgrid(bases, exponents)
    s.check("pow", "special bases ** tensor exponents (grid)", lambda x, y: x**y, lambda x, y: x**y, [b.ravel(), e.ravel()])
    for base in (0.0, 2.0, -2.0, 0.5, 1.0, np.inf):
        s.check("pow", f"{base} ** tensor exponents", lambda t, c=base: c**t, lambda t, c=base: c**t, [exponents.copy()])
    s.check("pow", "0-d tensor ** 0-d tensor at base 0", lambda x, y: x**y, lambda x, y: x**y,
            [np.array(0.0), np.array(0.0)])
    for p in (0, 0.0):
        s.check("pow", f"0 ** {p!r} (0-d)", lambda t, p=p: t**p, lambda t, p=p: t**p, [np.array(0.0)])


def sweep_losses(s):
    for shape, targets, ignore in [((6, 5), [0, 3, 4, 1, 1, 2], None), ((2, 3, 5), [[1, 0, 4], [3, 3, 2]], None),
                                   ((6, 4), [0, 1, 2, 0, 3, 1], 0), ((5,), 3, None), ((6, 5), [0, 3, 5, 1, 1, 2], None),
                                   ((6, 5), [0, 3, -1, 1, 1, 2], None), ((6, 5), [0, 3, 4], None),
                                   ((3, 5), [[0, 3, 4]], None)]:
        t = np.array(targets)
        th_ignore = -100 if ignore is None else ignore

        def mg(x, t=t, ignore=ignore):
            return x.cross_entropy(t, ignore_index=ignore)

        def th(x, t=t, ignore=th_ignore):
            targets = torch.from_numpy(t)
            if targets.numel() * x.shape[-1] != x.numel():
                raise ValueError("one target per row of logits")
            return F.cross_entropy(x.reshape(-1, x.shape[-1]), targets.reshape(-1), ignore_index=ignore)

        s.check("cross_entropy", f"{_shape_label(shape)} targets {t.tolist()} ignore={ignore}", mg, th, [normal(shape)])
    s.check("cross_entropy", "float32", lambda x: x.cross_entropy(np.array([1, 0])),
            lambda x: F.cross_entropy(x, torch.tensor([1, 0])), [normal((2, 3), np.float32)])
    for reduction in ("mean", "sum"):
        for sp, st in [((4, 3), (4, 3)), ((4, 1), (4, 1)), ((), ()), ((0, 3), (0, 3))]:
            s.check("mse", f"{reduction} {_shape_label(sp)}", lambda p, t, r=reduction: p.mse(t, reduction=r),
                    lambda p, t, r=reduction: F.mse_loss(p, t, reduction=r), [normal(sp), normal(st)])
        s.check("mse", f"{reduction} float32 pred, int64 target", lambda p, t, r=reduction: p.mse(t, reduction=r),
                lambda p, t, r=reduction: F.mse_loss(p, t.to(p.dtype), reduction=r),
                [normal((4, 3), np.float32), valued("int64", (4, 3))])


# ---- the fused recurrent ops, against the same arithmetic written in PyTorch ------------------------


def _t_lstm_layer(xz, w, h, c):
    hs = []
    for x in xz:
        i, f, g, o = torch.chunk(x + h @ w, 4, dim=-1)
        c = torch.sigmoid(f) * c + torch.sigmoid(i) * torch.tanh(g)
        h = torch.sigmoid(o) * torch.tanh(c)
        hs.append(h)
    return torch.cat([torch.stack(hs), c[None]])


def _t_rnn_layer(xz, w, h, act):
    hs = []
    for x in xz:
        h = act(x + h @ w)
        hs.append(h)
    return torch.stack(hs)


def _t_gru(a, b, h):
    k = h.shape[-1]
    ru = torch.sigmoid(a[..., : 2 * k] + b[..., : 2 * k])
    r, u = ru[..., :k], ru[..., k:]
    n = torch.tanh(a[..., 2 * k:] + r * b[..., 2 * k:])
    return n + u * (h - n)


def sweep_recurrent(s):
    H, B = 3, 2
    for dtype in (np.float64, np.float32):
        d = np.dtype(dtype).name
        for steps in (1, 4):
            s.check("lstm_layer", f"T={steps} {d}", lambda *a: LSTMLayer.apply(*a), _t_lstm_layer,
                    [normal((steps, B, 4 * H), dtype), normal((H, 4 * H), dtype), normal((B, H), dtype),
                     normal((B, H), dtype)])
            for act, th_act in (("tanh", torch.tanh), ("sigmoid", torch.sigmoid)):
                s.check("rnn_layer", f"T={steps} {act} {d}", lambda *a, act=act: RNNLayer.apply(*a, activation=act),
                        lambda *a, f=th_act: _t_rnn_layer(*a, f),
                        [normal((steps, B, H), dtype), normal((H, H), dtype), normal((B, H), dtype)])
        for act, th_act in (("tanh", torch.tanh), ("sigmoid", torch.sigmoid)):
            s.check("rnn_step", f"{act} {d}", lambda *a, act=act: RNNStep.apply(*a, activation=act),
                    lambda x, h, wi, bi, wh, bh, f=th_act: f(x @ wi + bi + h @ wh + bh),
                    [normal((B, 4), dtype), normal((B, H), dtype), normal((4, H), dtype), normal((H,), dtype),
                     normal((H, H), dtype), normal((H,), dtype)])
        s.check("lstm_cell_state", d, lambda z, c: LSTMCellState.apply(z, c),
                lambda z, c: torch.sigmoid(z[:, H:2 * H]) * c + torch.sigmoid(z[:, :H]) * torch.tanh(z[:, 2 * H:3 * H]),
                [normal((B, 4 * H), dtype), normal((B, H), dtype)])
        s.check("lstm_hidden", d, lambda z, c: LSTMHidden.apply(z, c),
                lambda z, c: torch.sigmoid(z[:, 3 * H:]) * torch.tanh(c), [normal((B, 4 * H), dtype), normal((B, H), dtype)])
        s.check("gru_hidden", d, lambda a, b, h: GRUHidden.apply(a, b, h), _t_gru,
                [normal((B, 3 * H), dtype), normal((B, 3 * H), dtype), normal((B, H), dtype)])


SWEEPS = [sweep_broadcasting, sweep_dtypes, sweep_pow, sweep_matmul, sweep_unary, sweep_reductions, sweep_softmax,
          sweep_transpose, sweep_shapes, sweep_indexing, sweep_joining, sweep_losses, sweep_recurrent]


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("-v", "--verbose", action="store_true", help="list every mismatch")
    parser.add_argument("--op", help="sweep only this op (as named in the table)")
    args = parser.parse_args(argv)
    sweep = Sweep(only=args.op)
    for run in SWEEPS:
        run(sweep)
    bad = sweep.report(args.verbose)
    return 1 if bad else 0


if __name__ == "__main__":
    sys.exit(main())
