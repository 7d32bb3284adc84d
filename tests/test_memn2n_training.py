"""Memory networks from run files: the schema and its errors, the training
features they brought (learning-rate schedule, linear start, per-parameter
clipping, a summed loss, a validation split), and a short run of minigrad train."""

import csv
import json
from types import SimpleNamespace

import numpy as np
import pytest

from conftest import TINY_QA, invoke, one_line, write_config
from minigrad import Tensor
from minigrad.models import build_model
from minigrad.tool import cli, training
from minigrad.tool.config import load_config
from minigrad.data.splits import punctuation
from minigrad.errors import ConfigError
from minigrad.models.memory import AdjacentMemN2N, LayerwiseMemN2N, memn2n
from minigrad.optim import clip_each_matrix, clip_grad_norm
from minigrad.tool.session import start_session

TINY_MEMN2N = {
    "name": "tinymem",
    "data": {"task": 1, "mode": "memory", "batch_size": 32, "test_size": 200, "valid_fraction": 0.1},
    "model": {"type": "memn2n", "embedding_dim": 20, "hops": 3, "random_noise": 0.1,
              "linear_start": {"epochs": 5, "lr": 0.005}},
    "loss": {"reduction": "sum"},
    "optimizer": {"name": "sgd", "lr": 0.01, "clip_norm": 40.0, "clip_mode": "per_parameter"},
    "train": {"epochs": 14, "seed": 0},
}


def config_error(tmp_path, base=TINY_MEMN2N, **sections):
    with pytest.raises(ConfigError) as info:
        load_config(write_config(tmp_path, base, **sections))
    return one_line(str(info.value))


def metrics(run_dir):
    with open(run_dir / "metrics.csv", newline="") as f:
        return list(csv.DictReader(f))


# ---- the schema ------------------------------------------------------------------------------


def test_the_shipped_config_has_the_authors_single_task_settings():
    config = load_config("configs/babi_memn2n.yaml")
    model, optimizer = config.model, config.optimizer
    assert (config.data.mode, config.data.batch_size, config.data.valid_fraction) == ("memory", 32, 0.1)
    assert (model.type, model.embedding_dim, model.hops, model.tying) == ("memn2n", 20, 3, "adjacent")
    assert model.position_encoding and model.temporal_encoding and model.random_noise == 0.1
    assert (model.memory_size, model.init_std, model.empty_slots) == (50, 0.1, "attend")
    assert punctuation(config.data) == "strip"
    assert (model.linear_start.epochs, model.linear_start.lr) == (20, 0.005)
    # the authors' code starts the softmax phase at the linear start's rate, not the paper's 0.01, and
    # clips each matrix by its spectral norm (Matlab's norm of a matrix)
    assert (optimizer.name, optimizer.lr, optimizer.clip_norm, optimizer.clip_mode) == ("sgd", 0.005, 40, "per_parameter_spectral")
    assert (optimizer.schedule.every, optimizer.schedule.factor) == (25, 0.5)
    assert config.loss.reduction == "sum" and config.train.epochs == 120
    assert config.data.sampling == "replacement"  # train.m draws each batch with randi


@pytest.mark.parametrize("sampling, examples", [("replacement", 64), ("shuffle", 72)])
def test_an_epoch_drawn_with_replacement_has_n_over_32_full_batches(tmp_path, sampling, examples):
    """train_size 80 leaves 72 after the validation tenth: two batches of 32 draws, or all 72 once."""
    data = dict(TINY_MEMN2N["data"], train_size=80, sampling=sampling)
    session = start_session(load_config(write_config(tmp_path, TINY_MEMN2N, data=data)))
    try:
        assert training.train_epoch(session, 1)[2] == examples
        assert training.n_batches(session.datasets.train, session.config.data) == (2 if examples == 64 else 3)
    finally:
        session.close()


@pytest.mark.parametrize("sections, expected", [
    ({"data": {"mode": "qa"}}, "model.type: memn2n reads data.mode: memory, not 'qa'"),
    ({"model": {"type": "memn2n", "empty_slots": "skip"}},
     "model.empty_slots: expected 'attend' or 'mask', got 'skip'"),
    ({"data": {"mode": "memory", "punctuation": "drop"}}, "data.punctuation: expected 'strip' or 'keep', got 'drop'"),
    ({"train": {"epochs": 5}}, "model.linear_start.epochs: 5 leaves no epoch for the main phase: train.epochs is 5"),
    ({"optimizer": {"name": "sgd", "lr": 0.01, "clip_norm": None}},
     "optimizer.clip_mode: per_parameter clipping needs optimizer.clip_norm"),
    ({"model": {"type": "memn2n", "tying": "adjacnt"}},
     "model.tying: expected 'adjacent' or 'layerwise', got 'adjacnt'; did you mean 'adjacent'?"),
    ({"model": {"type": "memn2n", "hop": 2}}, "model.hop: unknown key; did you mean 'hops'?"),
    ({"model": {"type": "memn2n", "linear_start": {"epochs": 2, "rate": 0.1}}},
     "model.linear_start.rate: unknown key"),
    ({"model": {"type": "memn2n", "random_noise": 1.5}}, "model.random_noise: should be less than 1"),
    ({"model": {"type": "memn2n", "position_encoding": "yes"}}, "model.position_encoding: should be a valid boolean"),
    ({"optimizer": {"name": "sgd", "lr": 0.01, "schedule": {"every": 0}}},
     "optimizer.schedule.every: should be greater than 0"),
    ({"loss": {"reduction": "total"}}, "loss.reduction: expected 'mean' or 'sum', got 'total'"),
    ({"data": {"mode": "memory", "valid_fraction": 1.0}}, "data.valid_fraction: should be less than 1"),
    ({"data": {"mode": "memory", "max_story_len": 10}}, "max_story_len does not apply to mode 'memory'"),
])
def test_contradictions_and_typos_name_the_field(tmp_path, sections, expected):
    assert expected in config_error(tmp_path, **sections)


def test_mode_memory_needs_a_memory_network(tmp_path):
    message = config_error(tmp_path, TINY_QA, data={"mode": "memory"})
    assert "data.mode: memory is read by model.type: memn2n or qrn, not recurrent" in message


def test_a_bad_memn2n_run_file_exits_with_one_message(tmp_path):
    result = invoke("train", write_config(tmp_path, TINY_MEMN2N, data={"mode": "qa"}))
    assert result.exit_code == 2 and "Traceback" not in result.output
    assert "model.type: memn2n reads data.mode: memory" in one_line(result.output)


@pytest.mark.parametrize("tying, kind", [("adjacent", AdjacentMemN2N), ("layerwise", LayerwiseMemN2N)])
def test_build_model_follows_the_model_section(tmp_path, tying, kind):
    config = load_config(write_config(tmp_path, TINY_MEMN2N, model={"tying": tying, "hops": 2,
                                                                   "temporal_encoding": False}))
    model = build_model(config, 30)
    assert isinstance(model, kind) and model.hops == 2 and not model.times


# ---- learning rate and linear start ------------------------------------------------------------


def _rates(**sections):
    spec = {"model": SimpleNamespace(linear_start=None), "optimizer": SimpleNamespace(lr=0.01, schedule=None)}
    for key, value in sections.items():
        setattr(spec[key.split(".")[0]], key.split(".")[1], value)
    config = SimpleNamespace(**spec)
    return [training.learning_rate(config, epoch) for epoch in range(1, 121)]


def test_step_schedule_counts_from_the_end_of_the_linear_start():
    rates = _rates(**{"model.linear_start": SimpleNamespace(epochs=20, lr=0.005),
                      "optimizer.schedule": SimpleNamespace(every=25, factor=0.5)})
    assert set(rates[:20]) == {0.005}  # the linear start's flat rate
    assert set(rates[20:45]) == {0.01} and set(rates[45:70]) == {0.005}
    assert set(rates[70:95]) == {0.0025} and set(rates[95:120]) == {0.00125}


def test_without_linear_start_or_schedule():
    assert set(_rates()) == {0.01}
    rates = _rates(**{"optimizer.schedule": SimpleNamespace(every=10, factor=0.1)})
    assert rates[9] == 0.01 and rates[10] == pytest.approx(0.001) and rates[20] == pytest.approx(1e-4)


def test_training_switches_the_softmax_back_on_after_the_linear_start(tmp_path, monkeypatch):
    config = write_config(tmp_path, TINY_MEMN2N, data={"train_size": 40, "test_size": 20})
    session = start_session(load_config(config))
    seen = []
    real = training.train_epoch

    def spy(session, epoch, on_batch=None):
        seen.append((epoch, session.model.linear_start, session.optimizer.lr))
        return real(session, epoch, on_batch)

    monkeypatch.setattr(training, "train_epoch", spy)
    training.train(session)
    assert seen[:5] == [(e, True, 0.005) for e in range(1, 6)]
    assert seen[5:] == [(e, False, 0.01) for e in range(6, 15)]


def test_a_resumed_run_ends_where_a_straight_run_does(tmp_path):
    """The phase, the rate and the noise on the ages all follow from the epoch number."""
    short = {"data": {"train_size": 64, "test_size": 20, "valid_fraction": 0.0},
             "model": {"linear_start": {"epochs": 2, "lr": 0.005}}, "train": {"epochs": 5},
             "optimizer": {"schedule": {"every": 1, "factor": 0.5}}}
    (tmp_path / "a").mkdir(), (tmp_path / "b").mkdir()
    assert invoke("train", write_config(tmp_path / "a", TINY_MEMN2N, **short), "--epochs", "3").exit_code == 0
    resumed = tmp_path / "a" / "runs" / "tinymem"
    assert invoke("train", "--resume", resumed, "--epochs", "5").exit_code == 0
    assert invoke("train", write_config(tmp_path / "b", TINY_MEMN2N, **short)).exit_code == 0
    straight = tmp_path / "b" / "runs" / "tinymem"
    assert [r["test_loss"] for r in metrics(resumed)] == [r["test_loss"] for r in metrics(straight)]


# ---- clipping and the loss over a batch ----------------------------------------------------------


def _grads(*values):
    params = [Tensor(np.zeros(len(v)), requires_grad=True) for v in values]
    for p, v in zip(params, values):
        p.grad = Tensor(np.array(v, dtype=np.float64))
    return params


def test_per_parameter_clipping_rescales_each_gradient_on_its_own():
    params = _grads([3.0, 4.0], [0.3, 0.4], [6.0, 8.0])  # norms 5, 0.5, 10
    assert clip_grad_norm(params, 2.0, per_parameter=True) == pytest.approx(10.0)
    np.testing.assert_allclose([p.grad.numpy() for p in params], [[1.2, 1.6], [0.3, 0.4], [1.2, 1.6]], rtol=1e-5)


def test_global_clipping_rescales_them_together():
    params = _grads([3.0, 4.0], [0.0, 0.0], [6.0, 8.0])  # joint norm sqrt(125)
    assert clip_grad_norm(params, 5.0) == pytest.approx(np.sqrt(125))
    np.testing.assert_allclose(params[0].grad.numpy(), np.array([3.0, 4.0]) * 5 / np.sqrt(125), rtol=1e-5)


def test_spectral_clipping_measures_a_matrix_by_its_largest_singular_value():
    rotation = np.array([[0.6, -0.8], [0.8, 0.6]])
    matrix = rotation @ np.diag([50.0, 30.0]) @ rotation.T  # singular values 50 and 30; Frobenius 58.3
    param = Tensor(np.zeros((2, 2)), requires_grad=True)
    param.grad = Tensor(matrix.copy())
    assert clip_grad_norm([param], 40.0, per_parameter=True, norm="spectral") == pytest.approx(50.0)
    np.testing.assert_allclose(param.grad.numpy(), matrix * 40 / 50, rtol=1e-5)  # l2 would give 40 / 58.3
    np.testing.assert_allclose(np.linalg.svd(param.grad.numpy(), compute_uv=False), [40.0, 24.0], rtol=1e-5)


def test_spectral_clipping_of_a_vector_is_its_length():
    (param,) = _grads([6.0, 8.0])
    assert clip_grad_norm([param], 5.0, per_parameter=True, norm="spectral") == pytest.approx(10.0)
    np.testing.assert_allclose(param.grad.numpy(), [3.0, 4.0], rtol=1e-5)


def test_a_matrix_kept_as_row_blocks_is_clipped_as_one():
    words, ages = Tensor(np.zeros((1, 2)), requires_grad=True), Tensor(np.zeros((1, 2)), requires_grad=True)
    words.grad, ages.grad = Tensor(np.array([[30.0, 0.0]])), Tensor(np.array([[0.0, 40.0]]))
    # stacked: diag(30, 40), largest singular value 40, Frobenius 50
    assert clip_each_matrix([[words, ages]], 20.0, norm="spectral") == pytest.approx(40.0)
    np.testing.assert_allclose(np.vstack([words.grad.numpy(), ages.grad.numpy()]), [[15, 0], [0, 20]], rtol=1e-5)
    assert clip_each_matrix([[words, ages]], 5.0) == pytest.approx(25.0)  # l2 of the pair
    np.testing.assert_allclose(np.vstack([words.grad.numpy(), ages.grad.numpy()]), [[3, 0], [0, 4]], rtol=1e-5)


def test_the_memory_network_pairs_each_table_with_its_age_vectors():
    model = memn2n(12, hops=2, embedding_dim=4, memory_size=5)
    groups = model.weight_matrices()
    assert [[p.shape for p in g] for g in groups] == [[(12, 4), (5, 4)]] * 3
    assert sum(len(g) for g in groups) == len(model.parameters())
    without_ages = memn2n(12, hops=2, embedding_dim=4, memory_size=5, temporal_encoding=False)
    assert [[p.shape for p in g] for g in without_ages.weight_matrices()] == [[(12, 4)]] * 3


def _one_step(tmp_path, reduction):
    folder = tmp_path / reduction
    folder.mkdir()
    config = write_config(folder, TINY_MEMN2N, loss={"reduction": reduction},
                          data={"train_size": 20, "batch_size": 20, "valid_fraction": 0.0},
                          optimizer={"lr": 1.0, "clip_norm": None, "clip_mode": "global"},
                          model={"random_noise": 0.0})
    session = start_session(load_config(config))
    before = [p.numpy().copy() for p in session.model.parameters()]
    training.train_epoch(session, 6)  # after the linear start: the rate is optimizer.lr
    return [p.numpy() - b for p, b in zip(session.model.parameters(), before)]


def test_a_summed_loss_steps_batch_size_times_as_far(tmp_path):
    mean, summed = _one_step(tmp_path, "mean"), _one_step(tmp_path, "sum")
    assert np.abs(mean[0]).max() > 0
    for m, s in zip(mean, summed):
        np.testing.assert_allclose(s, 20 * m, rtol=1e-3, atol=1e-6)


# ---- the whole thing ----------------------------------------------------------------------------


@pytest.fixture(scope="module")
def trained(tmp_path_factory):
    """(output of minigrad train, run folder) of TINY_MEMN2N. Shared: tests must not change it."""
    folder = tmp_path_factory.mktemp("memn2n")
    with pytest.MonkeyPatch.context() as patch:  # as conftest's wide_console, which is per test
        patch.setattr(cli.console, "width", 2000)
        result = invoke("train", write_config(folder, TINY_MEMN2N))
    return result, folder / "runs" / "tinymem"


def test_minigrad_train_learns_task_1_with_a_validation_split(trained):
    result, run_dir = trained
    assert result.exit_code == 0, result.output
    assert "valid loss" in result.output and "valid acc" in result.output
    rows = metrics(run_dir)
    assert len(rows) == 14 and {"valid_loss", "valid_acc"} <= set(rows[0])
    assert float(rows[0]["test_acc"]) < 0.6  # it starts near chance
    assert float(rows[-1]["test_acc"]) >= 0.95 and float(rows[-1]["valid_acc"]) >= 0.95


def test_training_holds_the_nil_rows_at_zero(trained):
    """Each step moves the nil rows (they have a gradient); training sets them back after it."""
    _, run_dir = trained
    with np.load(run_dir / "weights.npz") as saved:
        tables = [saved[name] for name in saved.files if name.startswith("tables.")]
    assert len(tables) == 4
    assert all((table[0] == 0).all() and np.abs(table[1:]).sum() > 0 for table in tables)


def test_runs_without_a_validation_split_have_no_valid_columns(tmp_path):
    result = invoke("train", write_config(tmp_path, TINY_MEMN2N, data={"valid_fraction": 0.0, "train_size": 64},
                                          train={"epochs": 6}))
    assert result.exit_code == 0, result.output
    assert "valid loss" not in result.output
    assert "valid_loss" not in metrics(tmp_path / "runs" / "tinymem")[0]


# ---- predicting with a memory network ----------------------------------------------------------

STORY = "Mary moved to the bathroom. John went to the hallway. Mary went back to the kitchen."


def test_predict_shows_the_answer_and_where_each_hop_looked(trained):
    result = invoke("predict", "--run", trained[1], "--story", STORY, "--question", "Where is Mary?")
    assert result.exit_code == 0, result.output
    text = one_line(result.output)
    assert text.startswith("answer: kitchen")
    assert "attention over the story" in text and "hop 3" in text
    assert "mary went back to the kitchen ." in text  # as written, though the model reads it without '.'


def test_predict_json_has_one_weight_per_statement_and_hop(trained):
    result = invoke("predict", "--run", trained[1], "--story", STORY, "--question", "Where is John?", "--json")
    assert result.exit_code == 0, result.output
    found = json.loads(result.output)
    assert found["answer"] == "hallway" and found["candidates"][0] == ["hallway", found["p"]]
    assert len(found["attention"]) == 3 and all(len(hop) == 3 for hop in found["attention"])
    # what the statements do not get goes to the empty slots
    assert all(sum(hop) + empty == pytest.approx(1.0, rel=1e-5)
               for hop, empty in zip(found["attention"], found["empty_slots"]))
    assert all(0 <= empty < 1 for empty in found["empty_slots"])
    assert np.argmax(found["attention"][0]) == 1  # the one statement about john


def test_predict_json_for_a_qa_run_has_no_attention(qa_run):
    result = invoke("predict", "--run", qa_run, "--story", STORY, "--question", "Where is Mary?", "--json")
    assert result.exit_code == 0, result.output
    assert set(json.loads(result.output)) == {"answer", "p", "candidates", "weights"}


def test_predict_on_a_memory_run_without_a_question_says_what_to_pass(trained):
    result = invoke("predict", "--run", trained[1], "--context", "mary moved to the")
    assert result.exit_code != 0 and "does not take --context" in one_line(result.output)
