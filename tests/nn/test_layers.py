"""Layers and the Module machinery they rely on."""

import numpy as np
import pytest

import minigrad
from minigrad import Tensor
from minigrad.errors import CheckpointError
from minigrad.gradcheck import check_case
from minigrad.nn import Dropout, Embedding, Linear, Module, Parameter, ReLU, Sequential, Sigmoid, Tanh
from minigrad.gradcheck.layer_cases import CASES


# ---- Module: finding parameters -------------------------------------------------


class Block(Module):
    """Two linears, one of them also kept in a list and a shared parameter."""

    def __init__(self):
        self.first = Linear(2, 3)
        self.extra = [Linear(3, 3, bias=False), self.first]  # self.first listed twice
        self.scale = Parameter(np.ones(3))

    def forward(self, x):
        return self.extra[0](self.first(x)) * self.scale


class Outer(Module):
    def __init__(self):
        self.block = Block()
        self.head = Linear(3, 1)
        self.tied = self.block.scale  # the same Parameter under a second name


def test_parameters_are_found_in_nested_modules_and_lists_once_each():
    model = Outer()
    names = [name for name, _ in model.named_parameters()]
    # Own parameters first; a parameter reachable twice keeps its first name.
    assert names == ["tied", "block.first.weight", "block.first.bias", "block.extra.0.weight",
                     "head.weight", "head.bias"]
    params = model.parameters()
    assert len({id(p) for p in params}) == len(params) == 6
    expected = {id(model.block.first.weight), id(model.block.first.bias), id(model.block.extra[0].weight),
                id(model.block.scale), id(model.head.weight), id(model.head.bias)}
    assert {id(p) for p in params} == expected
    assert model.get_parameters() == params


def test_sequential_parameters_names_and_add():
    model = Sequential([Linear(2, 3), Tanh()])
    model.add(Linear(3, 1))
    assert [name for name, _ in model.named_parameters()] == [
        "layers.0.weight", "layers.0.bias", "layers.2.weight", "layers.2.bias"]
    assert len(model) == 3 and isinstance(model[1], Tanh)
    assert Sequential().layers == [] and Sequential().layers is not Sequential().layers


def test_state_dict_round_trip_and_copies():
    a, b = Sequential([Linear(2, 3), Linear(3, 1)]), Sequential([Linear(2, 3), Linear(3, 1)])
    state = a.state_dict()
    state["layers.0.weight"][0, 0] = 123.0  # a copy: editing it leaves the model alone
    assert a.layers[0].weight.data[0, 0] != 123.0
    b.load_state_dict(a.state_dict())
    x = Tensor(np.random.randn(4, 2))
    np.testing.assert_array_equal(a(x).data, b(x).data)
    assert b.layers[0].weight.dtype == np.float32


def test_load_state_dict_names_missing_and_unexpected_weights():
    model = Sequential([Linear(2, 3)])
    with pytest.raises(CheckpointError, match=r"missing \['layers.0.bias'\].*unexpected \['other'\]"):
        model.load_state_dict({"layers.0.weight": np.zeros((2, 3)), "other": np.zeros(1)})


def test_load_state_dict_names_wrong_shape_and_changes_nothing():
    model = Sequential([Linear(2, 3), Linear(3, 1)])
    before = model.state_dict()
    state = dict(before, **{"layers.0.weight": np.zeros((2, 3)), "layers.1.weight": np.zeros((4, 1))})
    with pytest.raises(CheckpointError, match=r"'layers.1.weight' has shape \(4, 1\).*expects \(3, 1\)"):
        model.load_state_dict(state)
    np.testing.assert_array_equal(model.layers[0].weight.data, before["layers.0.weight"])


def test_train_and_eval_reach_nested_layers():
    drop = Dropout(0.5)
    model = Sequential([Linear(2, 2), Sequential([drop])])
    assert model.eval() is model
    assert not drop.training and not model.layers[0].training
    model.train()
    assert drop.training


def test_calling_a_module_calls_forward():
    layer = Linear(3, 2)
    x = Tensor(np.random.randn(4, 3).astype(np.float32))
    np.testing.assert_array_equal(layer(x).data, layer.forward(x).data)


# ---- individual layers -------------------------------------------------------------


def test_linear_forward_and_lesson_initialisation():
    np.random.seed(1)
    layer = Linear(4, 2)
    np.random.seed(1)
    expected_w = np.random.randn(4, 2) * np.sqrt(2.0 / 4)
    np.testing.assert_allclose(layer.weight.data, expected_w, rtol=1e-6)
    assert layer.weight.dtype == np.float32 and np.all(layer.bias.data == 0)
    layer.bias.data[:] = [1.0, -2.0]
    x = np.random.randn(3, 4).astype(np.float32)
    np.testing.assert_allclose(layer(Tensor(x)).data, x @ layer.weight.data + [1.0, -2.0], rtol=1e-6)


def test_linear_without_bias_has_one_parameter():
    layer = Linear(3, 2, bias=False)
    assert layer.parameters() == [layer.weight]
    x = np.random.randn(5, 3).astype(np.float32)
    np.testing.assert_allclose(layer(x).data, x @ layer.weight.data, rtol=1e-6)


def test_linear_keeps_float32_for_integer_features():
    layer = Linear(2, 3)
    out = layer(Tensor(np.array([[0, 1], [1, 1]]), autograd=True))
    assert out.dtype == np.float32
    np.testing.assert_allclose(out.data[1], layer.weight.data.sum(0), rtol=1e-6)


def test_embedding_lesson_init_keyword_call_and_gradient():
    np.random.seed(3)
    embed = Embedding(vocab_size=5, dim=3)
    np.random.seed(3)
    np.testing.assert_allclose(embed.weight.data, (np.random.rand(5, 3) - 0.5) / 3, rtol=1e-6)
    assert embed.weight.dtype == np.float32
    ids = Tensor(np.array([[1, 2, 1], [4, 2, 2]]), autograd=True)
    out = embed.forward(input=ids)
    assert out.shape == (2, 3, 3)
    np.testing.assert_array_equal(out.data[0, 2], embed.weight.data[1])
    out.sum().backward()
    np.testing.assert_array_equal(embed.weight.grad.data[:, 0], [0, 2, 3, 0, 1])


def test_embedding_accepts_whole_number_floats_and_rejects_fractions():
    embed = Embedding(4, 2)
    out = embed(Tensor([3, 0], autograd=True))  # a Python list with autograd=True is stored as float32
    np.testing.assert_array_equal(out.data, embed.weight.data[[3, 0]])
    with pytest.raises(ValueError, match="integer ids"):
        embed(np.array([0.5, 1.0]))


@pytest.mark.parametrize("layer, fn", [
    (Tanh(), np.tanh), (Sigmoid(), lambda x: 1 / (1 + np.exp(-x))), (ReLU(), lambda x: np.maximum(x, 0)),
])
def test_activations(layer, fn):
    x = np.array([[-2.0, -0.5, 0.0, 0.5, 3.0]])
    np.testing.assert_allclose(layer(Tensor(x)).data, fn(x), rtol=1e-12)


def test_dropout_training_zeroes_about_p_and_rescales():
    np.random.seed(0)
    drop = Dropout(0.25)
    x = Tensor(np.ones((200, 50), np.float32), requires_grad=True)
    y = drop(x)
    kept = y.data != 0
    assert y.dtype == np.float32
    assert abs(kept.mean() - 0.75) < 0.02
    np.testing.assert_allclose(y.data[kept], 1 / 0.75, rtol=1e-6)
    y.sum().backward()
    np.testing.assert_allclose(x.grad.data, y.data, rtol=1e-6)  # gradient flows through the same mask


def test_dropout_eval_is_identity_and_p_is_checked():
    drop = Dropout(0.9).eval()
    x = Tensor(np.random.randn(3, 4))
    assert drop(x) is x
    with pytest.raises(ValueError, match=r"\[0, 1\)"):
        Dropout(1.0)


# ---- the gradcheck registry's layer cases -------------------------------------------


def test_layer_cases_cover_each_layer_and_loss():
    names = {case.name for case in CASES}
    assert names >= {"Linear", "Embedding", "Sequential", "MSELoss", "CrossEntropyLoss", "Dropout"}
    assert all(hasattr(minigrad.nn, name) for name in names)


@pytest.mark.parametrize("case", CASES, ids=lambda c: f"{c.name}: {c.label}")
def test_layer_case_passes_gradcheck(case):
    outcome = check_case(case)
    assert outcome.result.ok, outcome.result.message
    assert outcome.result.max_abs_err < 1e-6
