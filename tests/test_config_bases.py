"""Run files that build on each other (``base:``), and ``minigrad config show``."""

from pathlib import Path

import pytest
import yaml

from conftest import TINY_LM, invoke, one_line
from minigrad.errors import ConfigError
from minigrad.tool.config import load_config
from minigrad.tool.config.yaml_limits import MAX_BASES

CONFIGS = Path(__file__).resolve().parents[1] / "configs"


def write(folder, name, config):
    path = folder / name
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(yaml.safe_dump(config, sort_keys=False) if isinstance(config, dict) else config)
    return path


@pytest.fixture
def tiny_base(tmp_path):
    return write(tmp_path, "common.yaml", {**TINY_LM, "train": {**TINY_LM["train"], "out": str(tmp_path / "runs")}})


# ---- merging ------------------------------------------------------------------------------


def test_a_file_changes_only_what_it_writes(tmp_path, tiny_base):
    child = write(tmp_path, "child.yaml", {"base": "common.yaml", "model": {"hidden_size": 12},
                                           "optimizer": {"lr": 0.5}})
    config = load_config(child)
    assert config.model.hidden_size == 12 and config.model.embedding_dim == 8  # a mapping merges key by key
    assert config.optimizer.name == "sgd" and config.optimizer.lr == 0.5
    assert config.data.train_size == 100 and config.train.epochs == 1  # sections it leaves out are the base's


def test_lists_and_single_values_replace_the_base_whole(tmp_path):
    layers = [{"type": "Embedding", "dim": 8}, {"type": "Tanh"}, {"type": "Linear", "n_outputs": "vocab"}]
    base = {**TINY_LM, "model": {"type": "sequential", "layers": layers}}
    write(tmp_path, "base.yaml", base)
    child = write(tmp_path, "child.yaml", {"base": "base.yaml", "model": {"layers": [layers[0], layers[2]]}})
    assert [layer.type for layer in load_config(child).model.layers] == ["Embedding", "Linear"]


def test_the_name_is_the_files_own_not_the_bases(tmp_path, tiny_base):
    assert load_config(write(tmp_path, "mine.yaml", {"base": "common.yaml"})).name == "mine"
    assert load_config(write(tmp_path, "named.yaml", {"base": "common.yaml", "name": "other"})).name == "other"


def test_bases_stack_and_paths_are_relative_to_the_file_that_names_them(tmp_path, tiny_base):
    write(tmp_path, "sub/middle.yaml", {"base": "../common.yaml", "optimizer": {"lr": 0.2}, "train": {"seed": 4}})
    top = write(tmp_path, "sub/deeper/top.yaml", {"base": "../middle.yaml", "train": {"seed": 5}})
    config = load_config(top)
    assert (config.optimizer.lr, config.train.seed, config.model.hidden_size) == (0.2, 5, 8)


def test_a_bundled_name_is_a_base(tmp_path):
    child = write(tmp_path, "joint_small.yaml", {"base": "babi_memn2n", "data": {"task": [1, 2]},
                                                 "train": {"epochs": 30}})
    config = load_config(child)
    assert config.data.task == [1, 2] and config.train.epochs == 30
    assert config.model.hops == 3 and config.optimizer.clip_mode == "per_parameter_spectral"
    assert config.name == "joint_small"


def test_the_bundled_joint_file_is_the_single_task_one_with_its_name_and_six_changes():
    single = load_config(CONFIGS / "babi_memn2n.yaml").model_dump(mode="json")
    joint = load_config(CONFIGS / "babi_memn2n_joint.yaml").model_dump(mode="json")
    assert "base" in yaml.safe_load((CONFIGS / "babi_memn2n_joint.yaml").read_text())
    single["name"], single["data"]["task"], single["model"]["embedding_dim"] = "babi_memn2n_joint", "all", 50
    single["model"]["linear_start"]["epochs"], single["optimizer"]["schedule"]["every"] = 30, 15
    single["train"]["epochs"], single["train"]["test_every"] = 90, 10
    assert joint == single


# ---- what goes wrong -----------------------------------------------------------------------


def test_a_mistake_in_a_base_is_reported_in_the_base(tmp_path):
    base = write(tmp_path, "common.yaml", {**TINY_LM, "optimizer": {"name": "sgd", "lr": "fast"}})
    child = write(tmp_path, "child.yaml", {"base": "common.yaml", "model": {"hidden_size": 12}})
    with pytest.raises(ConfigError) as error:
        load_config(child)
    assert error.value.message.startswith(f"{base}: optimizer.lr: ")


def test_a_mistake_in_the_file_is_reported_in_the_file(tmp_path, tiny_base):
    child = write(tmp_path, "child.yaml", {"base": "common.yaml", "model": {"hiden_size": 12}})
    with pytest.raises(ConfigError) as error:
        load_config(child)
    assert error.value.message.startswith(f"{child}: model.hiden_size: unknown key; did you mean 'hidden_size'?")


def test_a_field_no_file_wrote_is_reported_in_the_top_file(tmp_path):
    write(tmp_path, "common.yaml", {key: value for key, value in TINY_LM.items() if key != "optimizer"})
    child = write(tmp_path, "child.yaml", {"base": "common.yaml"})
    with pytest.raises(ConfigError) as error:
        load_config(child)
    assert error.value.message.startswith(f"{child}: optimizer: missing")


def test_a_bad_set_is_reported_in_the_file_given(tmp_path, tiny_base):
    child = write(tmp_path, "child.yaml", {"base": "common.yaml"})
    with pytest.raises(ConfigError) as error:
        load_config(child, settings={"optimizer.lr": "fast"})
    assert error.value.message.startswith(f"{child}: optimizer.lr: ") and "(set by --set)" in error.value.message


def test_a_circle_of_bases_names_every_file_in_it(tmp_path, tiny_base):
    first = write(tmp_path, "first.yaml", {"base": "second.yaml"})
    second = write(tmp_path, "second.yaml", {"base": "first.yaml"})
    with pytest.raises(ConfigError) as error:
        load_config(first)
    assert error.value.message == (f"{first}: base: run files that are each other's base: "
                                   f"{first} -> {second} -> {first}")
    itself = write(tmp_path, "itself.yaml", {"base": "itself.yaml"})
    with pytest.raises(ConfigError, match="each other's base"):
        load_config(itself)


def test_a_missing_base_names_the_file_and_the_field(tmp_path):
    child = write(tmp_path, "child.yaml", {"base": "nowhere.yaml"})
    with pytest.raises(ConfigError) as error:
        load_config(child)
    assert error.value.message == (f"{child}: base: no run file {tmp_path / 'nowhere.yaml'} "
                                   f"and no bundled config named 'nowhere'")
    assert "babi_memn2n" in error.value.hint


@pytest.mark.parametrize("value", [3, "", ["a.yaml"], None])
def test_a_base_that_is_not_a_name(tmp_path, value):
    child = write(tmp_path, "child.yaml", f"base: {yaml.safe_dump(value, default_flow_style=True).strip()}\n"
                                          if value is not None else "base: null\nname: x\n")
    with pytest.raises(ConfigError) as error:
        load_config(child)
    expected = "base: expected the name" if value is not None else "data: missing"
    assert expected in error.value.message


def test_a_mistake_inside_a_base_file_names_that_file(tmp_path):
    base = write(tmp_path, "broken.yaml", "data: [1,\n")
    child = write(tmp_path, "child.yaml", {"base": "broken.yaml"})
    with pytest.raises(ConfigError) as error:
        load_config(child)
    assert error.value.message.startswith(f"{base}:2: not valid YAML")


def test_too_many_bases(tmp_path, tiny_base):
    previous = "common.yaml"
    for number in range(MAX_BASES):
        previous = write(tmp_path, f"level{number}.yaml", {"base": previous}).name
    with pytest.raises(ConfigError, match=f"more than {MAX_BASES} run files stacked"):
        load_config(tmp_path / previous)


# ---- a run folder keeps the whole file -----------------------------------------------------


def test_a_run_does_not_need_its_base_once_trained(tmp_path, tiny_base):
    child = write(tmp_path, "child.yaml", {"base": "common.yaml", "model": {"hidden_size": 6}})
    assert invoke("train", child).exit_code == 0
    run = tmp_path / "runs" / "child"
    saved = yaml.safe_load((run / "config.yaml").read_text())
    assert "base" not in saved and saved["model"]["hidden_size"] == 6 and saved["model"]["embedding_dim"] == 8
    tiny_base.unlink()
    predicted = invoke("predict", "--run", run, "--context", "mary moved to the")
    assert predicted.exit_code == 0, predicted.output
    resumed = invoke("train", "--resume", run, "--epochs", "2")
    assert resumed.exit_code == 0, resumed.output
    assert (run / "state.json").read_text() == '{"epoch": 2}'


# ---- minigrad config show ------------------------------------------------------------------


def test_config_show_prints_the_merged_joint_file():
    result = invoke("config", "show", "babi_memn2n_joint")
    assert result.exit_code == 0, result.output
    shown = yaml.safe_load(result.output)
    assert shown == load_config(CONFIGS / "babi_memn2n_joint.yaml").model_dump(mode="json")
    assert "base" not in shown and shown["name"] == "babi_memn2n_joint"
    assert (shown["data"]["task"], shown["model"]["embedding_dim"], shown["train"]["epochs"]) == ("all", 50, 90)
    assert (shown["model"]["hops"], shown["optimizer"]["clip_norm"], shown["loss"]["reduction"]) == (3, 40.0, "sum")
    assert shown["train"]["checkpoint_every"] == 1  # a default neither file writes


def test_config_show_applies_the_options_and_trains_nothing(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    result = invoke("config", "show", "babi_rnn", "--task", "3", "--epochs", "7", "--set", "optimizer.lr=0.2")
    assert result.exit_code == 0, result.output
    shown = yaml.safe_load(result.output)
    assert (shown["data"]["task"], shown["train"]["epochs"], shown["optimizer"]["lr"]) == (3, 7, 0.2)
    assert list(tmp_path.iterdir()) == []


def test_config_show_refuses_what_train_refuses(tmp_path):
    bad = write(tmp_path, "bad.yaml", {"base": "babi_rnn", "model": {"hidden_size": -1}})
    result = invoke("config", "show", bad)
    assert result.exit_code == 2
    assert f"{bad}: model.hidden_size: " in one_line(result.output)
    assert invoke("config", "show", "babi_rnn", "--set", "data.task=99").exit_code == 2
    assert invoke("config", "show").exit_code == 2
