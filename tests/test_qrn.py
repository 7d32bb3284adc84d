"""Query-reduction networks: the closed form against the recurrence run step by step,
empty memory slots, log(1 - z) at z = 1, the run file's section and its builder,
and a short run of minigrad train, predict and evaluate."""

import csv
import json

import numpy as np
import pytest

from conftest import invoke, one_line, train_run, write_config
from minigrad import Tensor
from minigrad.errors import ConfigError
from minigrad.models import QRN, build_model
from minigrad.models.qrn import position_weights
from minigrad.tool import training
from minigrad.tool.config import load_config
from minigrad.tool.session import start_session
from minigrad.tool.suite.baselines import default_columns

TINY_QRN = {
    "name": "tinyqrn",
    "data": {"task": 1, "mode": "memory", "batch_size": 32, "test_size": 100, "valid_fraction": 0.1},
    "model": {"type": "qrn", "embedding_dim": 20},
    "optimizer": {"name": "adagrad", "lr": 0.5, "initial_accumulator": 0.1, "weight_decay": 0.001},
    "train": {"epochs": 6, "seed": 0},
}

CONFIGS = [dict(layers=2), dict(layers=2, gate="vector"), dict(layers=2, reset_gate=False),
           dict(layers=3, bidirectional=False), dict(layers=3, gate="vector", reset_gate=False), dict(layers=1)]


def _model(dtype=np.float64, seed=0, **options):
    np.random.seed(seed)
    model = QRN(11, embedding_dim=5, memory_size=8, update_bias=-0.5, **options)
    for p in model.parameters():
        p.data = (np.random.randn(*p.shape) * 0.6).astype(dtype)
    return model


def _stories(slots=6, counts=(6, 3, 1, 0), seed=1):
    """Memories (batch, slots, 4) with ``counts`` statements each (the rest empty), and questions."""
    rng = np.random.default_rng(seed)
    memories = rng.integers(1, 11, (len(counts), slots, 4))
    memories[:, :, 3] = 0  # a padded last word
    for row, count in enumerate(counts):
        memories[row, count:] = 0
    return memories, rng.integers(1, 11, (len(counts), 4))


def _step_by_step(model, memories, questions):
    """The model's answer scores by the recurrence itself, one example and one statement at a time."""
    def sigmoid(v):
        return 1 / (1 + np.exp(-v))

    table = model.embedding.weight.data.copy()
    table[0] = 0
    pe = position_weights(memories.shape[-1], model.dim)
    w, out = model.width, []
    for story, question in zip(memories, questions):
        count = int(story.any(axis=-1).sum())
        xs = [(table[s] * pe).sum(axis=0) for s in story[:count]]
        qs = [(table[question] * pe).sum(axis=0)] * count
        h = np.zeros(model.dim)
        for k in range(model.layers):
            last = k == model.layers - 1
            steps = []
            for x, q in zip(xs, qs):
                g = sigmoid((x * q) @ model.gate_weight.data + model.gate_bias.data)
                z = sigmoid((x * q) @ model.gate_weight.data[:, :w] + model.gate_bias.data[:w] + model.update_bias)
                cand = np.tanh(x @ model.candidate_x.data + q @ model.candidate_q.data + model.candidate_bias.data)
                reset = (g[w:2 * w], g[-w:]) if model.reset_gate and not last else (1.0, 1.0)
                steps.append((z, cand, reset))
            h, forwards = np.zeros(model.dim), []
            for z, cand, reset in steps:
                h = z * reset[0] * cand + (1 - z) * h
                forwards.append(h)
            if last or not model.bidirectional:
                qs = forwards
                continue
            h, backwards = np.zeros(model.dim), []
            for z, cand, reset in reversed(steps):
                h = z * reset[1] * cand + (1 - z) * h
                backwards.insert(0, h)
            qs = [f + b for f, b in zip(forwards, backwards)]
        out.append((qs[-1] if qs else np.zeros(model.dim)) @ model.answer.data)
    return np.array(out)


@pytest.mark.parametrize("options", CONFIGS, ids=[str(c) for c in CONFIGS])
def test_the_closed_form_is_the_recurrence_step_by_step(options):
    model = _model(**options)
    memories, questions = _stories()
    got = model(memories, questions, None, memories.any(axis=-1)).data
    np.testing.assert_allclose(got, _step_by_step(model, memories, questions), rtol=1e-10, atol=1e-10)


@pytest.mark.parametrize("options", CONFIGS, ids=[str(c) for c in CONFIGS])
@pytest.mark.parametrize("dtype, tolerance", [(np.float64, 1e-12), (np.float32, 1e-5)])
def test_empty_slots_change_neither_the_answer_nor_the_gradients(options, dtype, tolerance):
    model = _model(dtype, **options)
    memories, questions = _stories(slots=6)
    padded = np.concatenate([memories, np.zeros((4, 5, 4), memories.dtype)], axis=1)  # 5 more empty slots
    results = []
    for m in (memories, padded):
        scores = model(m, questions, None, m.any(axis=-1))
        (scores * Tensor(np.linspace(-1, 1, scores.size).reshape(scores.shape).astype(dtype))).sum().backward()
        results.append((scores.data, [p.grad.data.copy() for p in model.parameters()]))
        model.zero_grad()
    np.testing.assert_allclose(results[0][0], results[1][0], rtol=tolerance, atol=tolerance)
    for short, long in zip(results[0][1], results[1][1]):
        np.testing.assert_allclose(short, long, rtol=tolerance, atol=tolerance)
    # A story with no statements answers from h = 0: scores of exactly 0.
    assert not results[0][0][3].any()


def test_an_update_gate_of_exactly_one_stays_finite():
    model = _model(np.float32)
    model.gate_weight.data[:, 0] = 1e4  # z rounds to 1 in float32 wherever x * q sums above 0
    memories, questions = _stories()
    scores = model(memories, questions, None, memories.any(axis=-1))
    gates = model.attend(memories, questions)[1]
    assert (gates[0].data == 1).any()  # the case the floor inside log(1 - z) is for
    scores.sum().backward()
    assert np.isfinite(scores.data).all()
    assert all(np.isfinite(p.grad.data).all() for p in model.parameters())


def test_attend_gives_each_layers_update_gates_zero_at_empty_slots():
    model = _model(layers=3, gate="vector")
    memories, questions = _stories()
    scores, gates = model.attend(memories, questions)
    assert scores.shape == (4, 11) and len(gates) == 3
    mask = memories.any(axis=-1)
    for z in gates:
        assert z.shape == (4, 6) and (z.data[~mask] == 0).all() and (z.data[mask] > 0).all()


def test_unknown_gate_is_refused():
    with pytest.raises(ValueError, match="gate must be 'scalar' or 'vector'"):
        QRN(5, gate="matrix")


# ---- the run file ------------------------------------------------------------------------------


def test_the_shipped_config_is_the_papers_2r_model():
    config = load_config("configs/babi_qrn.yaml")
    model, optimizer, train = config.model, config.optimizer, config.train
    assert (config.data.mode, config.data.batch_size, config.data.valid_fraction) == ("memory", 32, 0.1)
    assert (model.type, model.embedding_dim, model.layers, model.gate, model.memory_size) == ("qrn", 50, 2, "scalar", 50)
    assert model.reset_gate and model.bidirectional and model.update_bias == -2.5
    assert (optimizer.name, optimizer.lr, optimizer.initial_accumulator, optimizer.weight_decay) == \
        ("adagrad", 0.5, 0.1, 0.001)
    assert model.init == "authors" and model.init_std is None
    assert (train.epochs, train.early_stopping) == (150, None)  # the code's: no early stopping
    assert (optimizer.schedule.every, optimizer.schedule.factor) == (100, 0.5)
    assert default_columns(model)[0] == "qrn"  # a suite of it shows the paper's figures first


def test_the_section_has_defaults_and_init_std_follows_the_width(tmp_path):
    config = load_config(write_config(tmp_path, TINY_QRN))
    spec = config.model
    assert (spec.layers, spec.reset_gate, spec.bidirectional, spec.gate) == (2, True, True, "scalar")
    assert (spec.init, spec.init_std) == ("authors", None)
    model = build_model(config, 30)
    assert isinstance(model, QRN) and model.dim == 20 and model.answer.shape == (20, 30)
    # The authors' draws: A and the gates U(-sqrt 3, sqrt 3), W_h and W_y U(-sqrt(3/n), sqrt(3/n)).
    table, gates = model.embedding.weight.data, model.gate_weight.data
    assert not table[0].any() and table[1:].std() == pytest.approx(1.0, rel=0.1)
    assert np.abs(table).max() <= 3 ** 0.5 and np.abs(gates).max() <= 3 ** 0.5 and gates.std() > 0.8
    assert np.abs(model.answer.data).max() <= (3 / 20) ** 0.5
    assert np.abs(model.candidate_x.data).max() <= (3 / 40) ** 0.5
    assert model.answer.data.std() == pytest.approx(20 ** -0.5, rel=0.1)
    assert model.gate_weight.shape == (20, 3)  # z, r forwards, r backwards
    vector = build_model(load_config(write_config(tmp_path, TINY_QRN, model={
        "type": "qrn", "embedding_dim": 20, "gate": "vector", "bidirectional": False, "init": "paper"})), 30)
    assert vector.gate_weight.shape == (20, 40)  # z and one reset gate, each one per dim
    assert vector.embedding.weight.data[1:].std() == pytest.approx(20 ** -0.5, rel=0.1)  # null: 1/sqrt(d)
    assert np.abs(vector.gate_weight.data).max() <= (6 / 21) ** 0.5  # Glorot over (20, 1) blocks
    paper = build_model(load_config(write_config(tmp_path, TINY_QRN, model={
        "type": "qrn", "embedding_dim": 20, "init": "paper", "init_std": 0.5})), 30)
    assert paper.answer.data.std() == pytest.approx(0.5, rel=0.1)
    single = build_model(load_config(write_config(tmp_path, TINY_QRN, model={"type": "qrn", "layers": 1})), 30)
    assert single.gate_weight.shape == (20, 1)  # one layer is the last: no reset gate


@pytest.mark.parametrize("sections, expected", [
    ({"data": {"mode": "qa"}}, "model.type: qrn reads data.mode: memory, not 'qa'"),
    ({"model": {"type": "qrn", "gate": "scaler"}}, "model.gate: expected 'scalar' or 'vector', got 'scaler'"),
    ({"model": {"type": "qrn", "layers": 0}}, "model.layers: should be greater than 0"),
    ({"model": {"type": "qrn", "layers": 65}}, "model.layers: 65 is over the limit of 64"),
    ({"model": {"type": "qrn", "reset_gate": "yes"}}, "model.reset_gate: should be a valid boolean"),
    ({"model": {"type": "qrn", "update_bias": float("nan")}}, "model.update_bias"),
    ({"model": {"type": "qrn", "hops": 2}}, "model.hops: unknown key"),
    ({"model": {"type": "qrn", "init": "glorot"}}, "model.init: expected 'authors' or 'paper', got 'glorot'"),
    ({"model": {"type": "qrn", "init_std": 0.1}}, "model.init_std: init_std is for init: paper; init: authors"),
    ({"optimizer": {"name": "adgrad", "lr": 0.1}}, "optimizer.name"),
    ({"optimizer": {"name": "sgd", "lr": 0.1, "initial_accumulator": 0.1}},
     "initial_accumulator applies to adagrad only, not sgd"),
])
def test_mistakes_name_the_field(tmp_path, sections, expected):
    with pytest.raises(ConfigError) as info:
        load_config(write_config(tmp_path, TINY_QRN, **sections))
    assert expected in one_line(str(info.value))


# ---- training ------------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def trained(tmp_path_factory):
    return train_run(tmp_path_factory.mktemp("qrn"), TINY_QRN)


def test_a_short_run_learns(trained):
    with open(trained / "metrics.csv", newline="") as f:
        rows = list(csv.DictReader(f))
    losses = [float(row["train_loss"]) for row in rows]
    assert len(rows) == 6 and losses[-1] < 0.5 * losses[0]
    assert float(rows[-1]["valid_acc"]) > 0.5  # a sixth of the answers is chance on task 1
    assert json.loads((trained / "best.json").read_text())["epoch"] >= 1


def test_predict_answers_and_shows_each_layers_update_gates(trained):
    story = "Mary moved to the bathroom. John went to the hallway. Mary travelled to the office."
    result = invoke("predict", "--run", trained, "--story", story, "--question", "Where is Mary?", "--json")
    assert result.exit_code == 0, result.output
    found = json.loads(result.output)
    assert len(found["attention"]) == 2 and all(len(layer) == 3 for layer in found["attention"])
    assert found["empty_slots"] == [0.0, 0.0]


def test_evaluate_scores_the_test_split(trained):
    result = invoke("evaluate", trained)
    assert result.exit_code == 0, result.output
    assert "│ qa1  │      100 │" in result.output  # the task and its 100 test questions


@pytest.mark.parametrize("drop_last, train_size, examples", [(True, 80, 64), (False, 80, 72), (True, 20, 18)])
def test_drop_last_skips_the_short_batch_unless_there_is_no_full_one(tmp_path, drop_last, train_size, examples):
    """A tenth of train_size is held out: 80 leave 72, two full batches and 8 more; 20 leave 18."""
    config = write_config(tmp_path, TINY_QRN, data={
        "task": 1, "mode": "memory", "batch_size": 32, "train_size": train_size, "test_size": 20,
        "drop_last": drop_last})
    session = start_session(load_config(config))
    try:
        assert training.train_epoch(session, 1)[2] == examples
    finally:
        session.close()
