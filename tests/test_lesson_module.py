"""minigrad.lesson: the lesson's names, initialisations, loss and optimizer."""

import numpy as np
import pytest

import minigrad
from minigrad import lesson
from minigrad.gradcheck import all_cases, check_case
from minigrad.nn.layers import LayerError
from minigrad.nn.recurrent import RecurrentLayerError


def _lesson_linear_draws(n_inputs, n_outputs):
    """What the lesson's Linear takes from numpy's generator: W, then an id for W and one for b."""
    weight = np.random.randn(n_inputs, n_outputs) * np.sqrt(2.0 / n_inputs)
    np.random.randint(100), np.random.randint(100)
    return weight


def test_tensor_stores_data_as_numpy_does_and_draws_an_id():
    np.random.seed(3)
    floats, ints, values = lesson.Tensor([0.5, 2.0]), lesson.Tensor([1, 2]), lesson.Tensor([1, 2], autograd=True)
    np.random.seed(3)
    assert [floats.id, ints.id, values.id] == [np.random.randint(100) for _ in range(3)]
    assert floats.dtype == np.float64 and not floats.requires_grad  # minigrad would store float32
    assert ints.dtype.kind == "i"
    assert values.dtype == np.float64 and values.requires_grad
    assert lesson.Tensor(np.arange(3.0, dtype=np.float32), id=7).id == 7


def test_layers_draw_the_lessons_weights_in_the_lessons_order():
    np.random.seed(0)
    embed = lesson.Embedding(vocab_size=5, dim=3)
    cell = lesson.RNNCell(n_inputs=3, n_hidden=4, n_output=5)
    after = np.random.rand()
    np.random.seed(0)
    table = (np.random.rand(5, 3) - 0.5) / 3
    np.random.randint(100)
    w_ih, w_hh, w_ho = _lesson_linear_draws(3, 4), _lesson_linear_draws(4, 4), _lesson_linear_draws(4, 5)
    np.testing.assert_array_equal(embed.weight.data, table)
    for layer, weight in zip((cell.w_ih, cell.w_hh, cell.w_ho), (w_ih, w_hh, w_ho)):
        np.testing.assert_array_equal(layer.weight.data, weight)
        assert layer.weight.dtype == layer.bias.dtype == np.float64
        assert not layer.bias.data.any()
    assert np.random.rand() == after  # the generator is where the lesson leaves it


def test_lstm_cell_has_zero_biases_and_a_pair_of_zero_states():
    cell = lesson.LSTMCell(3, 4, 2)
    assert not cell.w_gates.bias.data.any() and cell.w_gates.weight.dtype == np.float64
    h, c = cell.init_hidden(batch_size=5)
    assert h.shape == c.shape == (5, 4) and not h.data.any() and not c.data.any()


def test_rnn_cell_init_hidden_is_the_lessons_zero_tensor():
    hidden = lesson.RNNCell(3, 4, 2, activation="tanh").init_hidden(batch_size=6)
    assert isinstance(hidden, lesson.Tensor) and hidden.requires_grad
    assert hidden.shape == (6, 4) and not hidden.data.any()


def test_rnn_cell_rejects_an_unknown_activation():
    with pytest.raises(RecurrentLayerError, match="unknown activation 'relu'"):
        lesson.RNNCell(3, 4, 2, activation="relu")


def _logits_and_targets():
    rng = np.random.default_rng(0)
    return rng.standard_normal((5, 4)), np.array([0, 3, 1, 1, 2])


def test_cross_entropy_reports_the_mean_and_backpropagates_the_sum():
    logits, targets = _logits_and_targets()
    ours, true = minigrad.Tensor(logits, requires_grad=True), minigrad.Tensor(logits, requires_grad=True)
    loss = lesson.CrossEntropyLoss().forward(ours, minigrad.Tensor(targets))
    mean = minigrad.CrossEntropyLoss()(true, targets)
    loss.backward()
    mean.backward()
    assert loss.item() == pytest.approx(mean.item(), rel=1e-14)
    softmax = np.exp(logits) / np.exp(logits).sum(axis=1, keepdims=True)
    np.testing.assert_allclose(ours.grad.data, softmax - np.eye(4)[targets], rtol=1e-12)
    np.testing.assert_allclose(ours.grad.data, len(targets) * true.grad.data, rtol=1e-12)


def test_cross_entropy_op_reports_the_sum_on_request():
    logits, targets = _logits_and_targets()
    x = minigrad.Tensor(logits)
    summed = lesson.LessonCrossEntropy.apply(x, targets=targets, report="sum")
    mean = lesson.LessonCrossEntropy.apply(x, targets=targets)
    assert summed.item() == pytest.approx(len(targets) * mean.item(), rel=1e-14)


def test_a_mean_gradient_fails_the_lesson_cross_entropy_case(monkeypatch):
    case = next(c for c in all_cases() if c.name == "lesson_cross_entropy")
    assert check_case(case).result.ok
    summed_backward = lesson.LessonCrossEntropy.backward
    monkeypatch.setattr(lesson.LessonCrossEntropy, "backward",
                        lambda self, gy: (summed_backward(self, gy)[0] / len(self.saved[1]),))
    assert not check_case(case).result.ok


def test_cross_entropy_names_mismatched_targets():
    with pytest.raises(LayerError, match=r"3 rows of logits \(3, 4\) but 2 targets"):
        lesson.CrossEntropyLoss().forward(minigrad.Tensor(np.zeros((3, 4))), np.array([0, 1]))


def test_sgd_steps_by_alpha_and_zeroes_gradients_in_place():
    w = lesson.Tensor([[1.0, 2.0]], autograd=True)
    optimizer = lesson.SGD(parameters=[w], alpha=0.5)
    (w * minigrad.Tensor([[3.0, -4.0]])).sum().backward()
    optimizer.step(zero=False)
    np.testing.assert_array_equal(w.data, [[-0.5, 4.0]])
    np.testing.assert_array_equal(w.grad.data, [[3.0, -4.0]])
    optimizer.step()
    np.testing.assert_array_equal(w.data, [[-2.0, 6.0]])
    np.testing.assert_array_equal(w.grad.data, [[0.0, 0.0]])  # zeroed, still there, as in the lesson


class _Scale(lesson.Layer):
    """A layer written the lesson's way: its weight listed in ``self.parameters``."""

    def __init__(self, n):
        super().__init__()
        self.weight = lesson.Tensor(np.ones(n), autograd=True)
        self.parameters.append(self.weight)

    def forward(self, input):
        return input * self.weight


def test_a_lesson_style_layer_trains_inside_sequential():
    np.random.seed(0)
    scale, linear = _Scale(2), lesson.Linear(2, 1)
    model = lesson.Sequential([scale, linear])
    assert model.get_parameters() == [scale.weight, linear.weight, linear.bias]
    x, y = lesson.Tensor([[1.0, 2.0]]), lesson.Tensor([[3.0]])
    optimizer = lesson.SGD(model.get_parameters(), alpha=0.05)
    losses = []
    for _ in range(20):
        loss = lesson.MSELoss().forward(model.forward(x), y)
        loss.backward()
        optimizer.step()
        losses.append(loss.item())
    assert losses[-1] < 0.01 * losses[0]
    assert not np.allclose(scale.weight.data, 1.0)  # the listed weight learned too
