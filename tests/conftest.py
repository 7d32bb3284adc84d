"""Shared fixtures for the command-line and training tests: tiny run files,
trained runs, and a CLI runner that fails on any uncaught exception."""

import shutil

import pytest
import yaml
from typer.testing import CliRunner

from minigrad import backend
from minigrad.tool import cli, training
from minigrad.data.babi import data_dir
from minigrad.tensor import Tensor
from minigrad.tool.session import start_session

# The real allocator setting, for the tests that check it; everywhere else it is replaced.
REAL_KEEP_FREED_MEMORY = backend.keep_freed_memory

# A run small enough to train in a fraction of a second on one core.
TINY_LM = {
    "name": "tiny",
    "data": {"task": 1, "mode": "lm", "batch_size": 20, "train_size": 100, "test_size": 50},
    "model": {"type": "recurrent", "embedding_dim": 8, "cell": "rnn", "hidden_size": 8},
    "optimizer": {"name": "sgd", "lr": 0.1},
    "train": {"epochs": 1, "seed": 0},
}

TINY_QA = {
    "name": "tinyqa",
    "data": {"task": 1, "mode": "qa", "batch_size": 25, "train_size": 100, "test_size": 50},
    "model": {"type": "recurrent", "embedding_dim": 8, "cell": "lstm", "hidden_size": 8},
    "optimizer": {"name": "adam", "lr": 0.01},
    "train": {"epochs": 1, "seed": 0},
}

RUN_FILES = {"config.yaml", "vocab.json", "meta.json", "weights.npz", "checkpoint.npz", "state.json", "metrics.csv"}


def write_config(folder, base=TINY_LM, file_name=None, **sections):
    """Write ``base`` with ``sections`` merged in (one level deep) to a YAML file in ``folder``.

    ``train.out`` defaults to ``folder/runs``, so runs never land in the repository.
    """
    config = {key: dict(value) if isinstance(value, dict) else value for key, value in base.items()}
    config["train"].setdefault("out", str(folder / "runs"))
    for key, value in sections.items():
        if isinstance(value, dict) and isinstance(config.get(key), dict):
            config[key].update(value)
        else:
            config[key] = value
    path = folder / (file_name or f"{config['name']}.yaml")
    path.write_text(yaml.safe_dump(config, sort_keys=False))
    return path


@pytest.fixture
def make_config(tmp_path):
    """``make_config(**sections)``: a tiny run file in this test's folder."""
    return lambda base=TINY_LM, **sections: write_config(tmp_path, base, **sections)


@pytest.fixture(autouse=True)
def allocator_calls(monkeypatch):
    """``minigrad train`` changes glibc's allocator for the whole process; in the test process
    it would change how every later test allocates. Record the calls instead."""
    calls = []
    monkeypatch.setattr(backend, "keep_freed_memory", lambda: calls.append(1) or True)
    return calls


@pytest.fixture(autouse=True)
def wide_console(monkeypatch):
    """Rich wraps at 80 columns; long temporary paths would be split across lines."""
    monkeypatch.setattr(cli.console, "width", 2000)
    monkeypatch.setattr(cli.err_console, "width", 2000)


def invoke(*args):
    """Run ``minigrad ARGS`` in-process. Any exception other than a deliberate exit
    is what a user would see as a traceback, so it fails the test."""
    result = CliRunner().invoke(cli.app, [str(a) for a in args])
    if result.exception is not None and not isinstance(result.exception, SystemExit):
        raise AssertionError(f"uncaught {type(result.exception).__name__}: {result.exception}\n"
                             f"{result.output}") from result.exception
    return result


def one_line(text):
    """Output with runs of whitespace (including line breaks) collapsed to one space."""
    return " ".join(text.split())


def train_run(folder, base=TINY_LM, **sections):
    """Train a run through the library; return its folder."""
    from minigrad.tool.config import load_config

    session = start_session(load_config(write_config(folder, base, **sections)))
    try:
        training.train(session)
    finally:
        session.close()  # let go of the folder, as minigrad train does when it ends
    return session.run_dir


@pytest.fixture(scope="session")
def lm_run(tmp_path_factory):
    """A trained one-epoch language-model run. Shared: tests must not change it."""
    return train_run(tmp_path_factory.mktemp("lm"))


@pytest.fixture(scope="session")
def qa_run(tmp_path_factory):
    """A trained one-epoch question-answering run. Shared: tests must not change it."""
    return train_run(tmp_path_factory.mktemp("qa"), TINY_QA)


@pytest.fixture
def lm_run_copy(lm_run, tmp_path):
    """A private copy of ``lm_run`` that a test may damage."""
    return shutil.copytree(lm_run, tmp_path / "copy" / lm_run.name)


def fail_during(monkeypatch, epoch, batch, make_loss):
    """From training batch ``batch`` of epoch ``epoch`` on, replace the loss with ``make_loss(loss)``.

    Evaluation is left alone, so everything before that batch runs normally.
    """
    real_epoch, real_loss = training.train_epoch, Tensor.cross_entropy
    state = {"epoch": 0, "batch": 0}

    def train_epoch(session, number, on_batch=None):
        state.update(epoch=number, batch=0)
        try:
            return real_epoch(session, number, on_batch)
        finally:
            state["epoch"] = 0  # evaluation after the epoch is untouched

    def cross_entropy(self, *args, **kwargs):
        loss = real_loss(self, *args, **kwargs)
        if state["epoch"] == 0:
            return loss
        state["batch"] += 1
        return make_loss(loss) if (state["epoch"], state["batch"]) >= (epoch, batch) else loss

    monkeypatch.setattr(training, "train_epoch", train_epoch)
    monkeypatch.setattr(Tensor, "cross_entropy", cross_entropy)


def tasks_with_a_broken_one(folder):
    """A data folder (for MINIGRAD_DATA) with tasks 1 and 2, task 2's training file broken at line 2.

    Returns (the folder, the broken file).
    """
    folder.mkdir()
    for file in data_dir().glob("qa[12]_*.txt"):
        shutil.copy(file, folder)
    broken = next(folder.glob("qa2_*_train.txt"))
    broken.write_text("1 Mary moved to the bathroom.\nnot a numbered line\n")
    return folder, broken
