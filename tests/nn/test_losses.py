"""MSELoss and CrossEntropyLoss against plain numpy."""

import numpy as np
import pytest

from minigrad import Tensor
from minigrad.errors import MinigradError
from minigrad.nn import CrossEntropyLoss, MSELoss


def _pair(shape=(4, 2), seed=0):
    rng = np.random.default_rng(seed)
    return rng.standard_normal(shape), rng.standard_normal(shape)


def test_mse_default_is_the_lessons_sum_over_the_batch_axis():
    p, t = _pair()
    pred = Tensor(p, requires_grad=True)
    loss = MSELoss().forward(pred, Tensor(t))
    np.testing.assert_allclose(loss.data, ((p - t) ** 2).sum(0), rtol=1e-12)
    assert loss.shape == (2,)
    loss.backward(Tensor(np.ones_like(loss.data)))
    np.testing.assert_allclose(pred.grad.data, 2 * (p - t), rtol=1e-12)


@pytest.mark.parametrize("reduction, reduce, scale", [("mean", np.mean, 2 / 8), ("sum", np.sum, 2)])
def test_mse_reductions(reduction, reduce, scale):
    p, t = _pair()
    pred = Tensor(p, requires_grad=True)
    loss = MSELoss(reduction=reduction)(pred, t)
    np.testing.assert_allclose(loss.item(), reduce((p - t) ** 2), rtol=1e-12)
    loss.backward()
    np.testing.assert_allclose(pred.grad.data, scale * (p - t), rtol=1e-12)


def test_mse_integer_targets_keep_float32():
    pred = Tensor(np.full((2, 1), 0.5, np.float32), requires_grad=True)
    loss = MSELoss()(pred, Tensor(np.array([[0], [1]]), autograd=True))
    assert loss.dtype == np.float32
    np.testing.assert_allclose(loss.data, [0.5], rtol=1e-6)


def test_mse_refuses_mismatched_shapes_and_bad_reduction():
    with pytest.raises(MinigradError, match=r"\(4, 1\).*\(4,\)") as info:
        MSELoss()(Tensor(np.zeros((4, 1))), Tensor(np.zeros(4)))
    assert "Reshape the target" in str(info.value)
    with pytest.raises(ValueError, match="reduction"):
        MSELoss(reduction="max")


def _numpy_cross_entropy(logits, targets, ignore=None):
    shifted = logits - logits.max(-1, keepdims=True)
    logp = shifted - np.log(np.exp(shifted).sum(-1, keepdims=True))
    keep = np.ones(len(targets), bool) if ignore is None else targets != ignore
    return -logp[np.arange(len(targets))[keep], targets[keep]].mean()


def test_cross_entropy_value_and_gradient():
    logits = np.random.default_rng(1).standard_normal((5, 4))
    targets = np.array([0, 3, 1, 1, 2])
    x = Tensor(logits, requires_grad=True)
    loss = CrossEntropyLoss()(x, Tensor(targets))
    np.testing.assert_allclose(loss.item(), _numpy_cross_entropy(logits, targets), rtol=1e-12)
    loss.backward()
    softmax = np.exp(logits) / np.exp(logits).sum(1, keepdims=True)
    np.testing.assert_allclose(x.grad.data, (softmax - np.eye(4)[targets]) / 5, rtol=1e-10)


def test_cross_entropy_ignore_index_leaves_rows_out():
    logits = np.random.default_rng(2).standard_normal((6, 3))
    targets = np.array([0, 2, 1, 0, 0, 1])
    x = Tensor(logits, requires_grad=True)
    loss = CrossEntropyLoss(ignore_index=0).forward(x, targets)
    np.testing.assert_allclose(loss.item(), _numpy_cross_entropy(logits, targets, ignore=0), rtol=1e-12)
    loss.backward()
    assert np.all(x.grad.data[targets == 0] == 0)


def test_cross_entropy_takes_float_ids_and_checks_the_count():
    x = Tensor(np.zeros((2, 3)))
    np.testing.assert_allclose(CrossEntropyLoss()(x, Tensor([1, 2], autograd=True)).item(), np.log(3), rtol=1e-6)
    with pytest.raises(ValueError, match="2 rows of logits.*3 targets"):
        CrossEntropyLoss()(x, np.array([0, 1, 2]))
