"""Run folders: everything a training run leaves behind, and reading it back.

A run folder (``runs/<name>/``) holds::

    config.yaml     the resolved run configuration
    vocab.json      the vocabulary, word ids in order
    meta.json       what prediction needs besides: mode, sequence lengths
    weights.npz     the model's weights after the last complete epoch
    checkpoint.npz  what --resume needs, in one file: weights, optimizer
                    buffers (Adam's moments) and the epoch
    state.json      the last complete epoch
    metrics.csv     one row per evaluation
    per_task.csv    runs on several tasks only: each task's errors at the
                    last evaluation (see ``minigrad.tool.per_task``)

``runs/latest`` points at the newest run. Every file is written atomically
(a temporary file renamed over the old one), so an interrupted save never
leaves a broken run.
"""

import csv
import io
import json
import zipfile
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import yaml

from .. import serialization
from ..data.vocab import Vocabulary
from ..errors import CheckpointError
from ..serialization import write_text_atomic
from .folders import LATEST, new_run_dir, point_latest, remove_temporaries, run_folder  # noqa: F401 (runs.*)

METRIC_COLUMNS = ["epoch", "train_loss", "train_acc", "test_loss", "test_acc", "examples_per_s", "elapsed_s"]
# Every row fills these; the test columns are empty on rows where the test split was not scored
# (train.test_every), and validation columns on rows from before a run had them.
FILLED_COLUMNS = ["epoch", "train_loss", "train_acc", "examples_per_s", "elapsed_s"]
CHECKPOINT = "checkpoint.npz"


def save_setup(run_dir, config, vocab, meta):
    """Write what does not change during a run: config, vocabulary, meta."""
    write_text_atomic(run_dir / "config.yaml", yaml.safe_dump(config.model_dump(mode="json"), sort_keys=False))
    vocab.save(run_dir / "vocab.json")
    write_text_atomic(run_dir / "meta.json", json.dumps(meta, indent=2))


def save_checkpoint(run_dir, model, optimizer, epoch, metrics):
    """Save the state after a complete epoch.

    Resuming reads only ``checkpoint.npz``, which holds the weights, the
    optimizer's buffers and the epoch together and is written after the
    weights and metrics: a crash at any moment leaves one consistent epoch to
    resume from, never weights of one epoch with buffers of another. The state
    file goes last, so it never names an epoch that is not fully saved.
    """
    weights = model.state_dict()
    serialization.save(weights, run_dir / "weights.npz")
    write_text_atomic(run_dir / "metrics.csv", _metrics_csv(metrics))
    bundle = {f"model/{name}": value for name, value in weights.items()}
    bundle.update({f"optimizer/{name}": value for name, value in optimizer.state_dict().items()})
    bundle["epoch"] = np.array(epoch)
    serialization.save(bundle, run_dir / CHECKPOINT)
    write_text_atomic(run_dir / "state.json", json.dumps({"epoch": epoch}))


def load_checkpoint(run_dir):
    """(model weights, optimizer buffers, epoch) from a run's ``checkpoint.npz``."""
    file = Path(run_dir) / CHECKPOINT
    if not file.is_file():
        raise CheckpointError(f"run folder {run_dir} has no {CHECKPOINT}, so it cannot be resumed.",
                              hint="Train it again, or predict with it as it is.")
    bundle = _load_arrays(file)
    parts = {"model": {}, "optimizer": {}}
    for name, value in bundle.items():
        kind, _, key = name.partition("/")
        if kind in parts:
            parts[kind][key] = value
    epoch = bundle.get("epoch")
    if epoch is None or epoch.shape != () or epoch.dtype.kind not in "iu" or epoch < 0:
        raise _damaged(file, "it has no valid epoch entry")
    return parts["model"], parts["optimizer"], int(epoch)


def restore_checkpoint(run_dir, model, optimizer):
    """Load a run's checkpoint into ``model`` and ``optimizer``; return the epoch it holds."""
    weights, buffers, epoch = load_checkpoint(run_dir)
    file = Path(run_dir) / CHECKPOINT
    load_weights(model, weights, file)
    try:
        optimizer.load_state_dict(buffers)
    except CheckpointError as exc:
        raise CheckpointError(f"{file}: {exc.message}",
                              hint="It was saved for another model or optimizer: restore this run's own "
                                   "checkpoint, or start a new run.") from None
    return epoch


def load_weights(model, weights, file):
    """``model.load_state_dict(weights)``, naming ``file`` in any error."""
    for name, value in weights.items():
        if value.dtype.kind not in "biuf":
            raise _damaged(file, f"weight {name!r} holds {value.dtype} values, not numbers")
    try:
        model.load_state_dict(weights)
    except CheckpointError as exc:
        raise CheckpointError(f"{file}: {exc.message}", hint=exc.hint) from None


def _metrics_csv(rows):
    """The rows as CSV: the standard columns, then any others the rows carry, in order of appearance."""
    extra = dict.fromkeys(k for row in rows for k in row if k not in METRIC_COLUMNS)
    buffer = io.StringIO()
    writer = csv.DictWriter(buffer, fieldnames=METRIC_COLUMNS + list(extra), lineterminator="\n")
    writer.writeheader()
    for row in rows:
        writer.writerow({k: (f"{v:.6g}" if isinstance(v, float) else v) for k, v in row.items()})
    return buffer.getvalue()


@dataclass
class SavedRun:
    """A run folder read back: enough to predict with it or to resume it."""

    path: Path
    config_dict: dict
    vocab: Vocabulary
    meta: dict
    weights: dict
    epoch: int
    metrics: list


# The files every run has once its first epoch is saved (checkpoint.npz matters only to --resume).
_REQUIRED_FILES = ("config.yaml", "vocab.json", "meta.json", "weights.npz", "state.json", "metrics.csv")
_RESTORE = "Restore the file from a copy of the run, or train the run again."


def load_run(path):
    """Read a run folder, saying exactly what is missing or broken."""
    path = run_folder(path)
    missing = [f for f in _REQUIRED_FILES if not (path / f).is_file()]
    if missing == ["state.json"] and checkpoint_epoch(path):
        missing = []  # killed after the checkpoint was written: the run is complete without it
    if missing:
        raise CheckpointError(f"run folder {path} is incomplete: missing {', '.join(missing)}.",
                              hint="The run may have stopped before its first epoch ended; train it again.")
    return SavedRun(path, read_yaml(path / "config.yaml"), Vocabulary.load(path / "vocab.json"),
                    _read_json(path / "meta.json", _meta_problem), _load_arrays(path / "weights.npz"),
                    saved_epoch(path), read_metrics(path / "metrics.csv"))


def saved_epoch(run_dir):
    """The last complete epoch: state.json's, or the checkpoint's where a kill came before
    state.json caught up with it (predict needs no checkpoint: a damaged one is left to --resume)."""
    state = Path(run_dir) / "state.json"
    if not state.is_file():
        return checkpoint_epoch(run_dir)
    epoch = read_state(state)["epoch"]
    try:
        return max(epoch, checkpoint_epoch(run_dir))
    except CheckpointError:
        return epoch


def checkpoint_epoch(run_dir):
    """The epoch ``checkpoint.npz`` holds (0 without one), read without loading its arrays."""
    file = Path(run_dir) / CHECKPOINT
    if not file.is_file():
        return 0
    try:
        with np.load(file, allow_pickle=False) as archive:
            epoch = archive["epoch"]
    except (OSError, ValueError, KeyError, EOFError, zipfile.BadZipFile) as exc:
        raise _damaged(file, exc) from None
    if epoch.shape != () or epoch.dtype.kind not in "iu" or epoch < 0:
        raise _damaged(file, "it has no valid epoch entry")
    return int(epoch)


def _damaged(file, reason):
    return CheckpointError(f"{file} is damaged ({reason}).", hint=_RESTORE)


def _load_arrays(file):
    """``serialization.load``, with advice that fits a file of a run folder."""
    try:
        return serialization.load(file)
    except CheckpointError as exc:
        raise CheckpointError(exc.message, hint=_RESTORE) from None


def _read_text(file):
    try:
        return file.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        raise _damaged(file, exc) from None


def read_state(file):
    """The ``{"epoch": N, ...}`` of a run's ``state.json``; CheckpointError naming it if damaged."""
    return _read_json(file, _state_problem)


def _read_json(file, problem):
    """The JSON value in ``file``; ``problem(value)`` says what is wrong with it, or None."""
    try:
        data = json.loads(_read_text(file))
    except (ValueError, RecursionError) as exc:
        raise _damaged(file, exc) from None
    reason = problem(data)
    if reason:
        raise _damaged(file, reason)
    return data


def _is_count(value, least=0):
    """A whole number (not a bool, which JSON and Python count as one) of at least ``least``."""
    return isinstance(value, int) and not isinstance(value, bool) and value >= least


def _state_problem(state):
    if not (isinstance(state, dict) and _is_count(state.get("epoch"))):
        return "expected {\"epoch\": N}"
    return None


# The lengths each mode's meta.json records, which prediction pads its input to.
_META_LENGTHS = {"lm": (), "qa": ("story_len", "question_len"), "memory": ("sentence_len",)}


def _meta_problem(meta):
    if not (isinstance(meta, dict) and meta.get("mode") in _META_LENGTHS):
        return "expected the run's mode, 'lm', 'qa' or 'memory'"
    lengths = _META_LENGTHS[meta["mode"]]
    if not all(_is_count(meta.get(k), 1) for k in lengths):
        return f"a {meta['mode']} run needs {' and '.join(lengths)}, positive whole numbers"
    return None


def read_yaml(file):
    """The mapping in a run folder's YAML file; CheckpointError naming the file if damaged."""
    try:
        data = yaml.safe_load(_read_text(file))
    except (yaml.YAMLError, RecursionError) as exc:
        raise _damaged(file, exc) from None
    if not isinstance(data, dict):
        raise _damaged(file, "not a mapping")
    return data


def read_metrics(file):
    """The rows of ``metrics.csv``: the standard columns must all be there, others are kept too."""
    text = _read_text(file)
    if not text.endswith("\n"):  # written whole, one row per line, so a cut file ends mid-row
        raise _damaged(file, "it is empty" if not text else "its last row is cut short")
    try:
        header, *rows = csv.reader(io.StringIO(text))
    except csv.Error as exc:  # e.g. a field longer than the csv module's limit
        raise _damaged(file, exc) from None
    missing = [c for c in METRIC_COLUMNS if c not in header]
    if missing or len(set(header)) != len(header):
        raise _damaged(file, f"its header is not {','.join(METRIC_COLUMNS)}")
    return [_metrics_row(file, number, header, row) for number, row in enumerate(rows, start=2)]


def _metrics_row(file, line, header, row):
    """One row as {column: number}; an extra column may be left empty in rows from before it existed."""
    if len(row) != len(header):
        raise _damaged(file, f"line {line} has {len(row)} values for {len(header)} columns")
    values = {}
    for column, text in zip(header, row):
        if text or column in FILLED_COLUMNS:
            values[column] = _metric_value(file, line, column, text)
    return values


def _metric_value(file, line, column, text):
    try:
        return int(text) if column == "epoch" else float(text)
    except ValueError:
        raise _damaged(file, f"line {line}: {column} is {text!r}, not a number") from None
