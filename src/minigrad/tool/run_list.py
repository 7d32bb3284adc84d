"""``minigrad runs``: what the run folders under a directory hold, newest first.

Each run is summed up from its own files: config.yaml (model, task, planned
epochs), state.json (epochs done, and whether training stopped on a
diverging loss) and metrics.csv (best test accuracy, wall time). A folder
whose file cannot be read is still listed, with the file named, so one
damaged run never hides the others.
"""

from dataclasses import dataclass
from pathlib import Path

from ..errors import CheckpointError, MinigradError
from . import lock, runs
from .suite.report import training_seconds

# Any of these files makes a folder a run folder (a run stopped early may lack the others).
_RUN_FILES = ("config.yaml", "state.json", "metrics.csv")


@dataclass
class RunSummary:
    name: str
    model: str = ""
    task: str = ""
    done: int | None = None
    planned: int | None = None
    best_acc: float | None = None
    best_epoch: int | None = None
    wall_s: float | None = None
    status: str = ""
    modified: float = 0.0


def find_runs(root, depth=2):
    """Run folders under ``root``, ``depth`` levels down at most (a suite's runs sit one level below its folder).

    Links are skipped: ``latest`` points at a run that is listed anyway.
    """
    root = Path(root)
    if not root.is_dir():
        raise MinigradError(f"no folder {root} to list runs from.", hint="Train a run first: minigrad train babi_rnn")
    found, level = [], [root]
    for _ in range(depth):
        level = [d for parent in level for d in sorted(parent.iterdir()) if d.is_dir() and not d.is_symlink()]
        found += [d for d in level if any((d / f).is_file() for f in _RUN_FILES)]
    return found


def summarize(folder, root):
    """The summary of one run folder; a file that cannot be read makes its status ``damaged: <file>``."""
    summary = RunSummary(str(folder.relative_to(root)), modified=_modified(folder))
    try:
        _read_config(folder, summary)
        state = _read_state(folder, summary)
        _read_metrics(folder, summary)
    except _Damaged as exc:
        summary.status = f"damaged: {exc.file}"
        return summary
    summary.status = _status(summary, state, folder)
    return summary


class _Damaged(Exception):
    def __init__(self, file):
        self.file = file


def _read(folder, name, reader, *args):
    """``reader(folder / name)``; a missing or unreadable file becomes ``_Damaged(name)``."""
    file = folder / name
    if not file.is_file():
        raise _Damaged(name)
    try:
        return reader(file, *args)
    except CheckpointError:
        raise _Damaged(name) from None


def _read_config(folder, summary):
    config = _read(folder, "config.yaml", runs.read_yaml)
    try:
        model, data, train = config["model"], config["data"], config["train"]
        summary.model = _model_name(model)
        summary.task, summary.planned = str(data.get("task", "")), int(train["epochs"])
    except (KeyError, TypeError, AttributeError, ValueError):
        raise _Damaged("config.yaml") from None


def _model_name(model):
    """``lstm`` for a recurrent model (its cell), ``memn2n adjacent``, ``sequential``."""
    kind = model.get("type", "recurrent")
    detail = {"recurrent": model.get("cell"), "memn2n": model.get("tying")}.get(kind)
    return str(detail) if kind == "recurrent" else " ".join(str(v) for v in (kind, detail) if v)


def _read_state(folder, summary):
    if not (folder / "state.json").exists():
        summary.done = 0  # stopped before its first epoch was saved
        return {}
    state = _read(folder, "state.json", runs.read_state)
    summary.done = state["epoch"]
    return state


def _read_metrics(folder, summary):
    if not (folder / "metrics.csv").exists() and summary.done == 0:
        return
    rows = _read(folder, "metrics.csv", runs.read_metrics)
    if rows:
        best = max((r for r in rows if "test_acc" in r), key=lambda r: r["test_acc"], default=None)
        if best is not None:  # the test split may not have been scored yet (train.test_every)
            summary.best_acc, summary.best_epoch = best["test_acc"], best["epoch"]
        summary.wall_s = training_seconds(rows)


def _status(summary, state, folder):
    if lock.holder(folder) is not None:
        return "running"
    if "diverged" in state:
        where = state["diverged"]
        return f"diverged (epoch {where.get('epoch')})" if isinstance(where, dict) else "diverged"
    return "finished" if summary.done >= summary.planned else "interrupted"


def _modified(folder):
    """When the run last wrote anything: the newest of its files' times."""
    times = [f.stat().st_mtime for f in folder.iterdir() if f.is_file()]
    return max(times, default=folder.stat().st_mtime)


def list_runs(root="runs", depth=2):
    """The summaries of every run under ``root``, newest first."""
    root = Path(root)
    return sorted((summarize(d, root) for d in find_runs(root, depth)), key=lambda s: s.modified, reverse=True)
