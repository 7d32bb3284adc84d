"""The ``minigrad`` command: train from a run file, bad run files, gradcheck, --help."""

import csv
import json
import math
import os
import subprocess
import sys
from pathlib import Path

import pytest
import yaml

from conftest import REAL_KEEP_FREED_MEMORY, RUN_FILES, TINY_LM, invoke, one_line, write_config
from minigrad import backend, serialization


CONFIGS = Path(__file__).resolve().parents[1] / "configs"


def read_metrics(run_dir):
    with open(run_dir / "metrics.csv", newline="") as f:
        return list(csv.reader(f))


# ---- train -----------------------------------------------------------------------------


def test_train_one_epoch_writes_a_complete_run(make_config, tmp_path):
    result = invoke("train", make_config())
    assert result.exit_code == 0, result.output
    run_dir = tmp_path / "runs" / "tiny"
    assert {p.name for p in run_dir.iterdir()} == RUN_FILES
    assert f"run folder: {run_dir}" in one_line(result.output)
    assert f"minigrad predict --run {run_dir}" in one_line(result.output)

    header, *rows = read_metrics(run_dir)
    assert header[:5] == ["epoch", "train_loss", "train_acc", "test_loss", "test_acc"]
    assert len(rows) == 1 and rows[0][0] == "1"
    values = dict(zip(header, map(float, rows[0])))
    for name in ("train_acc", "test_acc"):
        assert 0.0 <= values[name] <= 1.0
    for name in ("train_loss", "test_loss"):
        # untrained, a word costs about log(vocabulary size) = log(21) = 3.04
        assert 0.5 < values[name] < 5.0
    assert (run_dir / "state.json").read_text() == '{"epoch": 1}'


def test_latest_points_at_the_run(make_config, tmp_path):
    invoke("train", make_config())
    latest = tmp_path / "runs" / "latest"
    assert latest.is_symlink() and os.readlink(latest) == "tiny"  # relative: the folder can move
    assert latest.resolve() == (tmp_path / "runs" / "tiny").resolve()


def test_second_run_gets_a_new_folder(make_config, tmp_path):
    path = make_config()
    assert invoke("train", path).exit_code == 0
    first = tmp_path / "runs" / "tiny"
    before = {name: (first / name).read_bytes() for name in RUN_FILES}

    result = invoke("train", path, "--seed", "1")
    assert result.exit_code == 0, result.output
    second = tmp_path / "runs" / "tiny-2"
    assert {p.name for p in second.iterdir()} == RUN_FILES
    assert {name: (first / name).read_bytes() for name in RUN_FILES} == before
    assert (second / "weights.npz").read_bytes() != before["weights.npz"]  # seed 1 trained it, not seed 0
    assert os.readlink(tmp_path / "runs" / "latest") == "tiny-2"


def test_command_line_options_override_the_file(make_config, tmp_path):
    out = tmp_path / "elsewhere"
    result = invoke("train", make_config(), "--epochs", "2", "--seed", "3", "--out", out, "--task", "qa1")
    assert result.exit_code == 0, result.output
    config = (out / "tiny" / "config.yaml").read_text()
    assert "epochs: 2" in config and "seed: 3" in config and "task: qa1" in config
    assert [row[0] for row in read_metrics(out / "tiny")[1:]] == ["1", "2"]


def test_train_lets_the_allocator_keep_freed_memory(make_config, allocator_calls):
    assert invoke("train", make_config()).exit_code == 0
    assert allocator_calls == [1]


@pytest.mark.skipif(not sys.platform.startswith("linux") or os.confstr("CS_GNU_LIBC_VERSION") is None,
                    reason="mallopt is glibc's")
def test_keep_freed_memory_takes_effect_on_glibc():
    """In a child process: the setting lasts as long as the process, so it must not reach the tests'."""
    done = subprocess.run([sys.executable, "-c", "from minigrad import backend; print(backend.keep_freed_memory())"],
                          capture_output=True, text=True, timeout=60)
    assert done.returncode == 0, done.stderr
    assert done.stdout.strip() == "True"


def test_keep_freed_memory_does_nothing_without_glibc(monkeypatch):
    def no_libc(name):
        raise OSError(f"{name}: cannot open shared object file")

    monkeypatch.setattr(backend.ctypes, "CDLL", no_libc)
    assert REAL_KEEP_FREED_MEMORY() is False


def test_train_without_a_config_says_what_to_give():
    result = invoke("train")
    assert result.exit_code == 2
    assert "give a config file or --resume RUN" in one_line(result.output)


def test_resume_refuses_options_it_cannot_honour(tmp_path, make_config):
    run_dir = tmp_path / "runs" / "tiny"
    assert invoke("train", make_config()).exit_code == 0
    result = invoke("train", "--resume", run_dir, "--seed", "5")
    assert result.exit_code == 2
    assert "--seed cannot change a run being resumed" in one_line(result.output)


# ---- bad run files ---------------------------------------------------------------------

BAD_SEQUENTIAL = {"type": "sequential", "layers": [{"type": "Embedding", "dim": 8}, {"type": "Conv", "size": 3}]}

# (what is wrong, the run file's changed sections, extra options, words the message must hold);
# a section given here replaces the tiny config's section of that name.
BAD_CONFIGS = [
    ("layer type", {"model": BAD_SEQUENTIAL}, [], ["model.layers[1].type", "unknown layer type 'Conv'"]),
    ("value type", {"model": {**TINY_LM["model"], "hidden_size": "big"}}, [],
     ["model.hidden_size", "integer", "'big'"]),
    ("key typo", {"optimizer": {"name": "sgd", "lrr": 0.1}}, [], ["optimizer.lrr", "unknown key", "did you mean 'lr'"]),
    ("negative lr", {"optimizer": {"name": "sgd", "lr": -0.1}}, [], ["optimizer.lr", "greater than 0", "-0.1"]),
    ("device", {"device": "tpu"}, [], ["device", "'tpu'", "'cpu' or 'cuda'"]),
    ("device option", {}, ["--device", "tpu"], ["device", "'tpu'", "set by --device"]),
    ("gpu", {}, ["--device", "gpu"], ["device: expected 'cpu' or 'cuda', got 'gpu'; did you mean 'cuda'?"]),
    ("gpu in the file", {"device": "GPU"}, [], ["device: expected 'cpu' or 'cuda', got 'GPU'; did you mean 'cuda'?"]),
    ("task", {"data": {**TINY_LM["data"], "task": 99}}, [],
     ["data.task", "unknown task '99'", "1-20", "a list of those, or all (every task)"]),
    ("epochs option", {}, ["--epochs", "0"], ["train.epochs", "greater than 0", "set by --epochs"]),
]


@pytest.mark.parametrize("sections, options, words", [case[1:] for case in BAD_CONFIGS],
                         ids=[case[0] for case in BAD_CONFIGS])
def test_bad_config_is_one_message_and_exit_2(tmp_path, sections, options, words):
    path = write_config(tmp_path, {**TINY_LM, **sections})
    result = invoke("train", path, *options)
    assert result.exit_code == 2, result.output
    text = one_line(result.output)
    assert text.startswith(f"error: {path}: ")
    for word in words:
        assert word in text
    assert "Traceback" not in result.output and len(result.output.splitlines()) <= 3
    assert not (tmp_path / "runs").exists()  # nothing was started


@pytest.mark.parametrize("text, words", [
    ("", ["the file is empty"]),
    ("   \n# only a comment\n", ["the file is empty"]),
    ("data: [1, 2\nmodel: {}\n", ["not valid YAML"]),
    ("just some text\n", ["expected a mapping of sections", "got text"]),
    ("name: a\nname: b\n", ["'name' appears twice"]),
], ids=["empty", "comment only", "broken YAML", "plain text", "duplicate key"])
def test_unreadable_config_is_one_message_and_exit_2(tmp_path, text, words):
    path = tmp_path / "run.yaml"
    path.write_text(text)
    result = invoke("train", path)
    assert result.exit_code == 2, result.output
    assert str(path) in result.output
    for word in words:
        assert word in one_line(result.output)
    assert "Traceback" not in result.output


def test_missing_config_file(tmp_path):
    path = tmp_path / "nowhere.yaml"
    result = invoke("train", path)
    assert result.exit_code == 2
    assert f"config file not found: {path}" in one_line(result.output)
    assert "configs/babi_rnn.yaml" in result.output  # the hint shows what a path looks like


def test_cuda_without_cupy_says_to_install_the_extra(make_config, monkeypatch, tmp_path):
    monkeypatch.setitem(sys.modules, "cupy", None)  # makes `import cupy` fail, GPU machine or not
    monkeypatch.setattr(backend, "_cupy", None)
    result = invoke("train", make_config(), "--device", "cuda")
    assert result.exit_code != 0
    text = one_line(result.output)
    assert "device 'cuda' needs CuPy" in text and "pip install 'minigrad[cuda]'" in text
    assert not (tmp_path / "runs").exists()


def test_real_process_shows_no_traceback(tmp_path):
    """CliRunner catches exceptions itself; a real process shows what a user sees."""
    path = write_config(tmp_path, {**TINY_LM, "optimizer": {"name": "sgd", "lrr": 0.1}})
    done = subprocess.run([sys.executable, "-m", "minigrad", "train", str(path)],
                          capture_output=True, text=True, timeout=60)
    assert done.returncode == 2
    assert "Traceback" not in done.stderr and "did you mean 'lr'" in done.stderr
    assert done.stdout == ""


# ---- --set ------------------------------------------------------------------------------

SEQUENTIAL_LM = {**TINY_LM, "name": "seq", "model": {"type": "sequential", "layers": [
    {"type": "Embedding", "dim": 8}, {"type": "Linear", "n_outputs": 16}, {"type": "Tanh"},
    {"type": "Linear", "n_outputs": "vocab"}]}}


def saved_config(run_dir):
    return yaml.safe_load((run_dir / "config.yaml").read_text())


def test_set_changes_fields_with_yaml_types(make_config, tmp_path):
    result = invoke("train", make_config(), "--set", "optimizer.lr=0.01", "--set", "data.batch_size=50",
                    "--set", "optimizer.clip_norm=1e-1", "--set", "model.cell=gru", "--set", "train.epochs=2")
    assert result.exit_code == 0, result.output
    config = saved_config(tmp_path / "runs" / "tiny")
    assert config["optimizer"]["lr"] == 0.01 and isinstance(config["optimizer"]["lr"], float)
    assert config["optimizer"]["clip_norm"] == 0.1  # 1e-1 is a number, as in a run file
    assert config["data"]["batch_size"] == 50 and isinstance(config["data"]["batch_size"], int)
    assert config["model"]["cell"] == "gru" and config["train"]["epochs"] == 2
    assert "epoch 2/2  train loss" in result.output  # a line per epoch when the output is not a terminal


def test_set_reaches_into_lists_and_comes_after_the_other_options(make_config, tmp_path):
    path = make_config(SEQUENTIAL_LM)
    result = invoke("train", path, "--set", "model.layers[0].dim=4", "--set", "model.layers[1].n_outputs=6",
                    "--epochs", "3", "--set", "train.epochs=1")
    assert result.exit_code == 0, result.output
    run_dir = tmp_path / "runs" / "seq"
    layers = saved_config(run_dir)["model"]["layers"]
    assert layers[0] == {"type": "Embedding", "dim": 4} and layers[1]["n_outputs"] == 6
    shapes = sorted(w.shape for w in serialization.load(run_dir / "weights.npz").values())
    vocab = len(json.loads((run_dir / "vocab.json").read_text())["words"])
    assert shapes == sorted([(vocab, 4), (4, 6), (6,), (6, vocab), (vocab,)])
    assert len(read_metrics(run_dir)) == 2  # header and one epoch: --set train.epochs=1 won


def test_set_null_clears_an_optional_field(make_config, tmp_path):
    path = make_config(optimizer={"name": "sgd", "lr": 0.1, "clip_norm": 1.0})
    assert invoke("train", path, "--set", "optimizer.clip_norm=null").exit_code == 0
    assert saved_config(tmp_path / "runs" / "tiny")["optimizer"]["clip_norm"] is None


BAD_SETTINGS = [
    ("unknown key", TINY_LM, "optimizer.lrr=0.1", ["optimizer.lrr: unknown key; did you mean 'lr'?", "(set by --set)"]),
    ("wrong type", TINY_LM, "data.batch_size=ten", ["data.batch_size", "integer", "'ten'", "(set by --set)"]),
    ("bad choice", TINY_LM, "loss.name=mse", ["loss.name: expected 'cross_entropy', got 'mse'", "(set by --set)"]),
    ("unknown section", TINY_LM, "trian.epochs=2", ["trian: unknown key; did you mean 'train'?"]),
    ("not a section", TINY_LM, "name.first=a", ["name: must be a mapping to set name.first"]),
    ("not set", TINY_LM, "model.layers[0].dim=4",
     ["model.layers: is not set, so model.layers[0].dim has no item [0] to set", "does not add one"]),
    ("not a list", {**TINY_LM, "model": {**TINY_LM["model"], "layers": 2}}, "model.layers[0].dim=4",
     ["model.layers: is 2, not a list, so model.layers[0].dim has no item [0] to set",
      "such as the layers of a model of type: sequential", "--set model.layers=VALUE"]),
    ("index past the end", SEQUENTIAL_LM, "model.layers[4].dim=4",
     ["model.layers: has 4 items, so model.layers[4].dim names none of them"]),
    ("layer field", SEQUENTIAL_LM, "model.layers[1].n_output=4",
     ["model.layers[1].n_output: unknown key; did you mean 'n_outputs'?", "(set by --set)"]),
]


@pytest.mark.parametrize("base, setting, words", [case[1:] for case in BAD_SETTINGS],
                         ids=[case[0] for case in BAD_SETTINGS])
def test_bad_set_names_the_field_like_the_file_does(tmp_path, base, setting, words):
    path = write_config(tmp_path, base)
    result = invoke("train", path, "--set", setting)
    assert result.exit_code == 2, result.output
    text = one_line(result.output)
    assert text.startswith(f"error: {path}: ")
    for word in words:
        assert word in text
    assert not (tmp_path / "runs").exists()


@pytest.mark.parametrize("setting, words", [
    ("optimizer.lr", ["--set 'optimizer.lr': expected PATH=VALUE", "e.g. --set optimizer.lr=0.01"]),
    ("=0.1", ["--set '=0.1': the field path before '=' is empty"]),
    ("optimizer..lr=1", ["--set 'optimizer..lr=1': 'optimizer..lr' is not a field path", "[N]"]),
    ("model.layers[x].dim=1", ["is not a field path"]),
    ("optimizer.lr=[0.1", ["--set 'optimizer.lr=[0.1': the value is not valid YAML"]),
], ids=["no equals", "empty path", "empty name", "bad index", "bad value"])
def test_malformed_set_is_one_message_naming_the_option(make_config, tmp_path, setting, words):
    result = invoke("train", make_config(), "--set", setting)
    assert result.exit_code == 2, result.output
    text = one_line(result.output)
    assert text.startswith("error: --set ")
    for word in words:
        assert word in text
    assert "Traceback" not in result.output and not (tmp_path / "runs").exists()


def test_resume_refuses_set(tmp_path, make_config):
    assert invoke("train", make_config()).exit_code == 0
    result = invoke("train", "--resume", tmp_path / "runs" / "tiny", "--epochs", "2", "--set", "optimizer.lr=1")
    assert result.exit_code == 2
    assert "--set cannot change a run being resumed" in one_line(result.output)


# ---- bundled configs -----------------------------------------------------------------------


def test_configs_lists_the_bundled_run_files():
    result = invoke("configs")
    assert result.exit_code == 0, result.output
    lines = result.output.splitlines()
    shipped = sorted(p.stem for p in CONFIGS.glob("*.yaml"))
    listed = [line.split()[0] for line in lines[:len(shipped)]]
    assert listed == shipped
    rnn = next(line for line in lines if line.startswith("babi_rnn "))
    assert "an embedding and a plain RNN cell learn to predict the next word" in rnn  # its leading comment
    assert "minigrad train NAME" in one_line(result.output)


def test_train_a_bundled_config_by_name_from_an_empty_folder(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    result = invoke("train", "babi_rnn", "--set", "train.epochs=1", "--set", "data.train_size=200")
    assert result.exit_code == 0, result.output
    run_dir = tmp_path / "runs" / "babi_rnn"
    assert {p.name for p in run_dir.iterdir()} == RUN_FILES
    assert saved_config(run_dir)["model"]["hidden_size"] == 16  # the bundled file's model
    result = invoke("predict", "--context", "mary moved to the")
    assert result.exit_code == 0, result.output
    assert "next word:" in result.output


def test_a_file_wins_over_a_bundled_name(tmp_path, monkeypatch):
    write_config(tmp_path, file_name="babi_rnn.yaml")  # the tiny run, named tiny
    monkeypatch.chdir(tmp_path)
    assert invoke("train", "babi_rnn.yaml").exit_code == 0
    assert (tmp_path / "runs" / "tiny").is_dir() and not (tmp_path / "runs" / "babi_rnn").exists()


def test_unknown_config_name_lists_the_bundled_ones(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    result = invoke("train", "babi_rn")
    assert result.exit_code == 2
    text = one_line(result.output)
    assert "no config file or bundled config named 'babi_rn'; did you mean 'babi_rnn'?" in text
    assert ", ".join(sorted(p.stem for p in CONFIGS.glob("*.yaml"))) in text and "minigrad configs" in text
    assert not (tmp_path / "runs").exists()


# ---- gradcheck and --help ----------------------------------------------------------------


def test_python_m_minigrad_help_lists_the_commands():
    done = subprocess.run([sys.executable, "-m", "minigrad", "--help"], capture_output=True, text=True, timeout=60)
    assert done.returncode == 0, done.stderr
    for command in ("train", "predict", "gradcheck", "configs"):
        assert command in done.stdout


def test_gradcheck_one_op():
    result = invoke("gradcheck", "--op", "tanh")
    assert result.exit_code == 0, result.output
    assert "1 passed, 0 failed" in result.output and "pass" in result.output


def test_gradcheck_unknown_op_lists_the_names():
    result = invoke("gradcheck", "--op", "nope")
    assert result.exit_code == 1
    text = one_line(result.output)
    assert "no gradcheck case for 'nope'." in text and "did you mean" not in text
    assert "minigrad gradcheck without --op checks all" in text and "tanh" in text and "LSTMCell" in text
    assert "Traceback" not in result.output


@pytest.mark.parametrize("typed, offered", [("tahn", "'tanh'"), ("sigmod", "'sigmoid'"),
                                            ("Linaer", "'Linear' or 'linear'")])
def test_gradcheck_misspelt_op_offers_the_close_names(typed, offered):
    result = invoke("gradcheck", "--op", typed)
    assert result.exit_code == 1 and "Traceback" not in result.output
    assert one_line(result.output).startswith(f"error: no gradcheck case for '{typed}'; did you mean {offered}? "
                                              f"minigrad gradcheck without --op checks all ")


def test_gradcheck_failure_exits_1(monkeypatch):
    """A wrong backward must turn into a failed row and exit code 1."""
    from minigrad.ops import elementwise

    monkeypatch.setattr(elementwise.Tanh, "backward", lambda self, gy: (2 * gy,))
    result = invoke("gradcheck", "--op", "tanh")
    assert result.exit_code == 1
    assert "0 passed, 1 failed" in result.output and "FAIL" in result.output


def test_metrics_are_finite_numbers(make_config, tmp_path):
    invoke("train", make_config(train={"epochs": 2}))
    header, *rows = read_metrics(tmp_path / "runs" / "tiny")
    assert len(rows) == 2
    assert all(math.isfinite(float(v)) for row in rows for v in row)
    assert header == ["epoch", "train_loss", "train_acc", "test_loss", "test_acc", "examples_per_s", "elapsed_s"]


def test_files_are_readable_like_any_new_file(make_config, tmp_path):
    """Every run file gets the same permissions as the weights (not mkstemp's owner-only 0600)."""
    invoke("train", make_config())
    run_dir = tmp_path / "runs" / "tiny"
    modes = {name: (run_dir / name).stat().st_mode & 0o777 for name in RUN_FILES}
    umask = os.umask(0)  # reading the umask means setting it: put it straight back
    os.umask(umask)
    assert set(modes.values()) == {0o666 & ~umask}, modes  # what open() gives a new file



def test_messages_are_not_read_as_markup(tmp_path):
    """A folder such as ``[old]`` in a path must be printed, not taken for a rich style tag."""
    path = tmp_path / "[old]" / "run.yaml"
    result = invoke("train", path)
    assert result.exit_code == 2
    assert f"config file not found: {path}" in one_line(result.output)


@pytest.mark.parametrize("task", ["21", "qa21", "0", "foo"])
def test_an_unknown_task_option_names_the_option_and_every_form(make_config, tmp_path, task):
    result = invoke("train", make_config(), "--task", task)
    assert result.exit_code == 2 and "Traceback" not in result.output
    text = one_line(result.output)
    assert text.startswith(f"error: --task '{task}': unknown task; the bAbI tasks are 1-20.")
    assert "a number 1-20, a name qa1-qa20, all (one model for every task), or the path of a '*_train.txt'" in text
    assert "set by" not in text and not (tmp_path / "runs").exists()


@pytest.mark.parametrize("task, listed", [("1,2", "1, 2"), ("1 2", "1, 2"), ("qa1, qa3", "1, 3"), ("2-4", "2, 3, 4")])
def test_several_tasks_in_the_task_option_show_the_list_that_works(make_config, tmp_path, task, listed):
    path = make_config()
    result = invoke("train", path, "--task", task)
    assert result.exit_code == 2 and "Traceback" not in result.output
    text = one_line(result.output)
    assert text.startswith(f"error: --task '{task}': --task takes one task, not a list.")
    assert f"One model on several tasks: minigrad train {path} --set 'data.task=[{listed}]'" in text
    assert not (tmp_path / "runs").exists()
    assert invoke("train", path, "--set", f"data.task=[{listed}]").exit_code == 0  # the command given works


def test_task_all_is_a_task_of_train_not_of_evaluate():
    from minigrad.tool.config import task_option

    assert task_option.check_task_option("all") is None
    with pytest.raises(task_option.ConfigError, match="without --task: every task the run trained on"):
        task_option.check_task_option("all", command="evaluate")


def test_every_wrong_setting_is_named_on_its_own_line(make_config, tmp_path):
    path = make_config()
    result = invoke("train", path, "--set", "optimizer.lr=abc", "--set", "data.batch_size=-3")
    assert result.exit_code == 2 and "Traceback" not in result.output
    assert result.output.splitlines()[:2] == [
        f"error: {path}: data.batch_size: should be greater than 0, got -3 (set by --set)",
        "  and optimizer.lr: should be a valid number, got 'abc' (set by --set)"]
    assert "more problem" not in result.output and not (tmp_path / "runs").exists()
