"""Run files: the shipped ones load, and every kind of mistake gets one clear message."""

from pathlib import Path

import pytest

from minigrad.tool.config import (LinearLayer, RecurrentModel, RunConfig, SequentialModel, load_config)
from minigrad.errors import ConfigError
from minigrad.tool.config.overrides import parse_settings, steps

CONFIGS = Path(__file__).resolve().parents[1] / "configs"

GOOD = """\
name: tiny
data: {task: 1, mode: lm, batch_size: 10}
model: {type: recurrent, embedding_dim: 8, cell: rnn, hidden_size: 8}
optimizer: {name: sgd, lr: 0.1}
"""

SEQUENTIAL = """\
data: {task: qa1}
optimizer: {lr: 1e-2}
model:
  layers:
    - {type: Embedding, dim: 8}
    - {type: Linear, n_outputs: 16}
    - {type: Tanh}
    - {type: Dropout, p: 0.1}
    - {type: Linear, n_outputs: vocab}
"""


def write(tmp_path, text, name="run.yaml"):
    path = tmp_path / name
    path.write_text(text)
    return path


def test_shipped_lm_config():
    config = load_config(CONFIGS / "babi_rnn.yaml")
    assert isinstance(config, RunConfig)
    assert (config.data.task, config.data.mode, config.data.batch_size) == (1, "lm", 100)
    assert config.model == RecurrentModel(embedding_dim=16, cell="rnn", hidden_size=16, layers=1)
    assert (config.optimizer.name, config.optimizer.lr) == ("sgd", 0.05)
    assert config.loss.ignore_index == 0 and config.device == "cpu"


def test_shipped_qa_config():
    config = load_config(CONFIGS / "babi_lstm_qa.yaml")
    assert (config.data.mode, config.data.batch_size, config.train.epochs) == ("qa", 64, 40)
    assert config.model == RecurrentModel(embedding_dim=50, cell="lstm", hidden_size=100, layers=1)
    assert config.optimizer.name == "adam"
    assert config.optimizer.lr == pytest.approx(1e-3)  # written 1e-3: read as a number


def test_defaults_and_name_from_file(tmp_path):
    config = load_config(write(tmp_path, GOOD.replace("name: tiny\n", ""), "my_run.yaml"))
    assert config.name == "my_run"
    assert (config.train.epochs, config.train.seed, config.train.out) == (10, 0, "runs")
    assert config.loss.name == "cross_entropy" and config.optimizer.clip_norm is None


def test_sequential_model(tmp_path):
    model = load_config(write(tmp_path, SEQUENTIAL)).model
    assert isinstance(model, SequentialModel)
    assert [layer.type for layer in model.layers] == ["Embedding", "Linear", "Tanh", "Dropout", "Linear"]
    assert model.layers[4] == LinearLayer(type="Linear", n_outputs="vocab")


def test_overrides(tmp_path):
    path = write(tmp_path, GOOD)
    config = load_config(path, {"task": "qa2", "epochs": 3, "device": "cuda", "seed": 9,
                                "out": "elsewhere", "data.batch_size": 7, "train": None})
    assert (config.data.task, config.train.epochs, config.device) == ("qa2", 3, "cuda")
    assert (config.train.seed, config.train.out, config.data.batch_size) == (9, "elsewhere", 7)


def test_settings_are_read_as_yaml_and_override_the_options(tmp_path):
    path = write(tmp_path, SEQUENTIAL)
    settings = parse_settings(["optimizer.lr=1e-3", "data.batch_size=64", "model.layers[3].p=0.25",
                               "train.max_loss_ratio=null", "data.task=qa2", "train.epochs=4"])
    config = load_config(path, {"epochs": 3}, settings=settings)
    assert config.optimizer.lr == pytest.approx(1e-3) and config.data.batch_size == 64
    assert config.model.layers[3].p == 0.25 and config.train.max_loss_ratio is None
    assert config.data.task == "qa2" and config.train.epochs == 4


def test_setting_paths():
    assert steps("model.layers[0].dim") == ["model", "layers", 0, "dim"]
    assert steps("a[1][2].b") == ["a", 1, 2, "b"]
    assert parse_settings(["a.b=1", "a.b=2", "c= text "]) == {"a.b": 2, "c": "text"}


def test_a_bad_setting_names_the_field_and_says_where_it_came_from(tmp_path):
    path = write(tmp_path, GOOD)
    with pytest.raises(ConfigError) as info:
        load_config(path, settings={"optimizer.momentum": -1})
    assert info.value.message.startswith(f"{path}: optimizer.momentum: should be greater than or equal to 0")
    assert info.value.message.endswith("(set by --set)")


def test_max_loss_ratio_defaults_to_ten_and_must_exceed_one(tmp_path):
    assert load_config(write(tmp_path, GOOD)).train.max_loss_ratio == 10
    assert load_config(write(tmp_path, GOOD + "train: {max_loss_ratio: 50}\n")).train.max_loss_ratio == 50
    with pytest.raises(ConfigError, match="train.max_loss_ratio: should be greater than 1, got 0.5"):
        load_config(write(tmp_path, GOOD + "train: {max_loss_ratio: 0.5}\n"))


def test_bad_override_says_so(tmp_path):
    path = write(tmp_path, GOOD)
    with pytest.raises(ConfigError) as info:
        load_config(path, {"epochs": 0})
    assert str(path) in info.value.message and "train.epochs" in info.value.message
    assert "override" in info.value.message


BAD = {
    "unknown layer type": (
        SEQUENTIAL.replace("{type: Tanh}", "{type: Tahn}"),
        ["model.layers[2].type", "'Tahn'", "did you mean 'Tanh'"]),
    "layer without type": (
        SEQUENTIAL.replace("{type: Tanh}", "{size: 3}"), ["model.layers[2].type", "missing"]),
    "layer typo": (
        SEQUENTIAL.replace("n_outputs: 16", "n_output: 16"),
        ["model.layers[1].n_output", "did you mean 'n_outputs'"]),
    "wrong type": (
        GOOD.replace("batch_size: 10", "batch_size: ten"), ["data.batch_size", "integer", "'ten'"]),
    "float for int": (GOOD.replace("batch_size: 10", "batch_size: 10.5"), ["data.batch_size"]),
    "typo in a key": (
        GOOD.replace("lr: 0.1", "lrr: 0.1"), ["optimizer.lrr", "unknown key", "did you mean 'lr'"]),
    "typo in a section": (
        GOOD.replace("optimizer:", "optimiser:"), ["optimiser", "did you mean 'optimizer'"]),
    "negative lr": (GOOD.replace("lr: 0.1", "lr: -0.1"), ["optimizer.lr", "greater than 0", "-0.1"]),
    "negative momentum": (
        GOOD.replace("lr: 0.1", "lr: 0.1, momentum: -1"), ["optimizer.momentum", "greater than or equal"]),
    "unknown device": (GOOD + "device: cdua\n", ["device", "'cpu' or 'cuda'", "did you mean 'cuda'"]),
    "unknown cell": (GOOD.replace("cell: rnn", "cell: lstn"), ["model.cell", "did you mean 'lstm'"]),
    "unknown task": (GOOD.replace("task: 1", "task: 42"), ["data.task", "unknown task", "qa1-qa20"]),
    "missing task file": (GOOD.replace("task: 1", "task: nowhere/x_train.txt"), ["data.task", "not found"]),
    "missing field": (GOOD.replace(" hidden_size: 8", ""), ["model.hidden_size", "required"]),
    "wrong option for mode": (
        GOOD.replace("mode: lm", "mode: qa, max_len: 5"), ["data", "max_len does not apply"]),
    "section not a mapping": (GOOD + "train: 5\n", ["train", "mapping"]),
    "bad name": (GOOD.replace("name: tiny", "name: a/b"), ["name", "folder"]),
    "zero epochs": (GOOD + "train: {epochs: 0}\n", ["train.epochs", "greater than 0"]),
    "loss that does not fit word targets": (
        GOOD + "loss: {name: mse}\n", ["loss.name: expected 'cross_entropy', got 'mse'"]),
}


@pytest.mark.parametrize("text, expected", BAD.values(), ids=list(BAD))
def test_bad_config_names_file_and_field(tmp_path, text, expected):
    path = write(tmp_path, text)
    with pytest.raises(ConfigError) as info:
        load_config(path)
    message = str(info.value)
    assert message.startswith(f"{path}: ")
    for part in expected:
        assert part in message
    assert info.value.exit_code == 2
    assert "\n" not in info.value.message  # one line; the hint comes after it


def test_missing_file(tmp_path):
    with pytest.raises(ConfigError, match="not found: .*nope.yaml"):
        load_config(tmp_path / "nope.yaml")


def test_empty_file(tmp_path):
    path = write(tmp_path, "\n# nothing here\n")
    with pytest.raises(ConfigError, match="the file is empty"):
        load_config(path)


def test_not_yaml_names_the_line(tmp_path):
    path = write(tmp_path, GOOD.replace("batch_size: 10}", "batch_size: [10}"))
    with pytest.raises(ConfigError) as info:
        load_config(path)
    assert info.value.message.startswith(f"{path}:2: not valid YAML")


def test_repeated_key_names_the_line(tmp_path):
    path = write(tmp_path, GOOD + "name: again\n")
    with pytest.raises(ConfigError, match=f"{path}:5: .*'name' appears twice"):
        load_config(path)


def test_top_level_must_be_a_mapping(tmp_path):
    path = write(tmp_path, "- data\n- model\n")
    with pytest.raises(ConfigError, match="mapping of sections .* got a list"):
        load_config(path)


def test_every_problem_is_described_on_a_line_of_its_own(tmp_path):
    path = write(tmp_path, GOOD.replace("lr: 0.1", "lr: -1").replace("batch_size: 10", "batch_size: 0"))
    with pytest.raises(ConfigError) as info:
        load_config(path)
    assert info.value.message.splitlines() == [f"{path}: data.batch_size: should be greater than 0, got 0",
                                               "  and optimizer.lr: should be greater than 0, got -1"]


def test_problems_past_ten_are_counted_and_each_hint_says_where(tmp_path):
    keys = "".join(f"  extra{i}: 1\n" for i in range(12))
    path = write(tmp_path, GOOD.replace("name: tiny", "name: tiny\ntrain:\n" + keys + "  epochs: 0"))
    with pytest.raises(ConfigError) as info:
        load_config(path)
    lines = info.value.message.splitlines()
    assert len(lines) == 11 and lines[-1] == "  and 3 more problems"  # 12 unknown keys and train.epochs
    assert lines[0] == f"{path}: train.extra0: unknown key" and lines[9] == "  and train.extra9: unknown key"
    assert info.value.hint.startswith("Valid keys in train: epochs, seed,")


def test_the_set_examples_of_the_readme_and_help_work_on_bundled_files():
    from minigrad.tool.config.bundled import configs, find_config

    rnn = load_config(find_config("babi_rnn"), settings=parse_settings(["model.hidden_size=64"]))
    assert rnn.model.hidden_size == 64
    for bundled in configs():  # the --help example: fields every run file has
        config = load_config(bundled.path, settings=parse_settings(["optimizer.lr=0.01", "data.batch_size=50"]))
        assert (config.optimizer.lr, config.data.batch_size) == (0.01, 50)
