"""A model class of your own, named by a run file's ``class_path``: trained, saved, resumed,
evaluated and predicted like a built-in one, and each mistake in naming it one clear message."""

import csv
import shutil
import textwrap
from pathlib import Path

import pytest
import yaml

from conftest import invoke, one_line
from minigrad.errors import ConfigError
from minigrad.models import QuestionAnswerer, build_model
from minigrad.tool.config import load_config

EXAMPLES = Path(__file__).resolve().parents[1] / "examples"

# A memory-mode model of its own: one attention read over bags of words, no attend() of its own.
ONE_HOP = '''
from minigrad import Embedding, Module


class OneHop(Module):
    def __init__(self, vocab_size, dim=8, **unused):
        self.words = Embedding(vocab_size, dim, padding_idx=0)

    def forward(self, memories, questions, times, mask):
        table = self.words.table()
        m = table[memories].sum(dim=2)                      # (batch, slots, dim)
        u = table[questions].sum(dim=1)                     # (batch, dim)
        batch, slots, dim = m.shape
        p = (m @ u.reshape(batch, dim, 1)).reshape(batch, slots).softmax(dim=-1)
        o = (p.reshape(batch, 1, slots) @ m).reshape(batch, dim)
        return (u + o) @ table.T
'''


def rows(run_dir):
    with open(run_dir / "metrics.csv", newline="") as file:
        return list(csv.DictReader(file))


def example(tmp_path, **changes):
    """The example's run file and model, copied into ``tmp_path``, small enough for a test."""
    shutil.copy(EXAMPLES / "my_model.py", tmp_path)
    config = yaml.safe_load((EXAMPLES / "my_model.yaml").read_text())
    config["data"].update(train_size=300, test_size=100)
    config["train"].update(epochs=4, out=str(tmp_path / "runs"))
    for section, values in changes.items():
        config[section].update(values)
    path = tmp_path / "my_model.yaml"
    path.write_text(yaml.safe_dump(config, sort_keys=False))
    return path


def test_the_example_trains_predicts_evaluates_and_resumes(tmp_path, monkeypatch):
    result = invoke("train", example(tmp_path), "--threads", "1")
    assert result.exit_code == 0, result.output
    run = tmp_path / "runs" / "my_model"
    losses = [float(r["train_loss"]) for r in rows(run)]
    assert len(losses) == 4 and losses[-1] < 0.8 * losses[0]
    saved = yaml.safe_load((run / "config.yaml").read_text())["model"]
    assert saved == {"type": "class", "class_path": f"{tmp_path / 'my_model.py'}:RecencyBag",
                     "init_args": {"dim": 32, "hidden": 64}}
    monkeypatch.chdir(EXAMPLES)  # the saved class path is absolute: any folder rebuilds the model
    answer = invoke("predict", "--run", run, "--story", "Mary went to the garden. John went to the office.",
                    "--question", "Where is Mary?")
    assert answer.exit_code == 0 and "garden" in answer.output, answer.output
    scored = invoke("evaluate", run)
    assert scored.exit_code == 0 and "qa1" in one_line(scored.output), scored.output
    resumed = invoke("train", "--resume", run, "--epochs", "6")
    assert resumed.exit_code == 0, resumed.output
    assert [int(r["epoch"]) for r in rows(run)] == [1, 2, 3, 4, 5, 6]


def test_a_memory_mode_class_without_attention_answers(tmp_path):
    (tmp_path / "one_hop.py").write_text(ONE_HOP)
    path = tmp_path / "run.yaml"
    path.write_text(yaml.safe_dump({
        "name": "onehop", "data": {"task": 1, "mode": "memory", "train_size": 200, "test_size": 50},
        "model": {"class_path": "one_hop.py:OneHop", "init_args": {"dim": 12}},
        "optimizer": {"name": "adam", "lr": 0.02}, "train": {"epochs": 3, "out": str(tmp_path / "runs")}}))
    assert invoke("train", path).exit_code == 0
    run = tmp_path / "runs" / "onehop"
    assert float(rows(run)[-1]["train_loss"]) < float(rows(run)[0]["train_loss"])
    answer = invoke("predict", "--run", run, "--story", "Mary went to the garden.", "--question", "Where is Mary?")
    assert answer.exit_code == 0 and "attention" not in answer.output and "probability" in answer.output


def test_a_class_from_a_package_takes_its_arguments(tmp_path):
    path = tmp_path / "run.yaml"
    path.write_text(yaml.safe_dump({
        "data": {"task": 1, "mode": "qa"}, "optimizer": {"lr": 0.01},
        "model": {"class_path": "minigrad.models.recurrent:QuestionAnswerer",
                  "init_args": {"embedding_dim": 6, "cell": "gru", "hidden_size": 5}}}))
    config = load_config(path)
    model = build_model(config, 30)
    assert isinstance(model, QuestionAnswerer) and model.output.weight.shape == (10, 30)


def test_minigrad_passes_only_what_the_signature_names(tmp_path):
    (tmp_path / "net.py").write_text(textwrap.dedent('''
        from minigrad import Linear, Module

        class Net(Module):
            def __init__(self, width):
                self.width = width
                self.out = Linear(width, 2)

            def forward(self, stories, questions):
                return self.out(stories)
    '''))
    path = tmp_path / "run.yaml"
    path.write_text(yaml.safe_dump({"data": {"task": 1, "mode": "qa"}, "optimizer": {"lr": 0.01},
                                    "model": {"class_path": "net.py:Net", "init_args": {"width": 3}}}))
    assert build_model(load_config(path), 30).width == 3


# ---- mistakes ----------------------------------------------------------------------------------

FILES = {
    "broken.py": "x = (\n",
    "plain.py": "class NotAModule:\n    pass\n\nvalue = 3\n",
    "fails.py": "raise RuntimeError('no GPU here')\n",
    "no_forward.py": "from minigrad import Module\n\nclass Net(Module):\n    pass\n",
    "notes.txt": "class Net: pass\n",
}


@pytest.mark.parametrize("model, message", [
    ({"class_path": "my_model.py:RecencyBag", "init_args": {"dims": 3}},
     "model.init_args.dims: unknown argument of RecencyBag(vocab_size, mode, dim=32, hidden=64); did you mean 'dim'?"),
    ({"class_path": "my_model.py:RecencyBag", "init_args": {"vocab_size": 3}},
     "model.init_args.vocab_size: minigrad passes vocab_size itself (from the data); leave it out"),
    ({"class_path": "minigrad.models.recurrent:QuestionAnswerer", "init_args": {"cell": "gru"}},
     "model.init_args.embedding_dim: missing; QuestionAnswerer(vocab_size, embedding_dim, cell, hidden_size, "
     "layers=1) requires this argument"),
    ({"class_path": "missing.py:Net"}, "model.class_path: missing.py not found beside the run file ({folder}) "
                                       "or in the current folder"),
    ({"class_path": "broken.py:Net"}, "model.class_path: {folder}/broken.py does not import: SyntaxError: "
                                      "'(' was never closed (line 1)"),
    ({"class_path": "fails.py:Net"}, "model.class_path: {folder}/fails.py does not import: RuntimeError: no GPU here"),
    ({"class_path": "my_model.py:RecencyBg"}, "model.class_path: {folder}/my_model.py has no 'RecencyBg'; did you "
                                              "mean 'RecencyBag'? (its Module classes: RecencyBag)"),
    ({"class_path": "plain.py:NotAModule"}, "model.class_path: {folder}/plain.py:NotAModule is a class that does not "
                                            "derive from minigrad.nn.Module"),
    ({"class_path": "plain.py:value"}, "model.class_path: {folder}/plain.py:value is 3 (int), not a "
                                       "minigrad.nn.Module class"),
    ({"class_path": "nosuchpackage.models:Net"}, "model.class_path: no module named 'nosuchpackage': give "
                                                 "FILE.py:Class"),
    ({"class_path": "my_model.py"}, "model.class_path: 'my_model.py' names no class: give FILE.py:Class"),
    ({"class_path": "no_forward.py:Net"}, "model.class_path: {folder}/no_forward.py:Net defines no forward"),
    ({"class_path": "my_model.py:Module"}, "model.class_path: {folder}/my_model.py:Module defines no forward"),
    ({"class_path": "./notes.txt:Net"}, "model.class_path: {folder}/notes.txt is not a Python file"),
    ({"class_path": "os.path:join"}, "model.class_path: os.path:join is <function join"),
    ({"class_path": "my_model.py:RecencyBag", "args": {}}, "model.args: unknown key"),
])
def test_each_mistake_is_one_message_naming_the_field(tmp_path, model, message):
    path = example(tmp_path, model=model)
    for name, text in FILES.items():
        (tmp_path / name).write_text(text)
    config = yaml.safe_load(path.read_text())
    config["model"] = model
    path.write_text(yaml.safe_dump(config))
    with pytest.raises(ConfigError) as info:
        load_config(path)
    assert message.format(folder=tmp_path) in one_line(str(info.value))
    result = invoke("train", path)
    assert result.exit_code == 2 and "Traceback" not in result.output
    assert message.format(folder=tmp_path) in one_line(result.output)


def test_a_class_that_fails_to_build_says_how(tmp_path):
    result = invoke("train", example(tmp_path, data={"mode": "lm"}))
    assert result.exit_code != 0 and "Traceback" not in result.output
    assert (f"model.class_path: {tmp_path}/my_model.py:RecencyBag could not be built: ValueError: RecencyBag "
            "reads data.mode: qa, not lm") in one_line(result.output)
    assert not (tmp_path / "runs" / "my_model").exists()  # no run folder for a model that was never built


def test_a_forward_that_cannot_take_the_mode_s_batch_is_refused_before_training(tmp_path):
    (tmp_path / "one_hop.py").write_text(ONE_HOP)
    path = example(tmp_path, model={"class_path": "one_hop.py:OneHop", "init_args": {}})
    result = invoke("train", path)
    assert result.exit_code == 2 and "Traceback" not in result.output
    assert (f"model.class_path: {tmp_path}/one_hop.py:OneHop's forward(memories, questions, times, mask) cannot "
            "take the batches of data.mode qa: (stories, questions).") in one_line(result.output)
    assert not (tmp_path / "runs" / "my_model").exists()
