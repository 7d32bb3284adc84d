"""Run folders: everything a training run leaves behind, and reading it back.

A run folder (``runs/<name>/``) holds::

    config.yaml     the resolved run configuration
    vocab.json      the vocabulary, word ids in order
    meta.json       what prediction needs besides: mode, sequence lengths
    weights.npz     the model's weights after the last complete epoch
    checkpoint.npz  what --resume needs, in one file: weights, optimizer
                    buffers (Adam's moments) and the epoch
    state.json      the last complete epoch (and whether early stopping ended the run)
    best.npz        runs with a validation split: the weights of the best epoch
    best.json       that epoch and its scores (see ``minigrad.tool.best``)
    metrics.csv     one row per evaluation
    per_task.csv    runs on several tasks only: each task's errors at the
                    last evaluation (see ``minigrad.tool.per_task``)

``runs/latest`` points at the newest run. Every file is written atomically
(a temporary file renamed over the old one), so an interrupted save never
leaves a broken run.
"""

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
from .config.run import as_yaml
from .folders import LATEST, new_run_dir, point_latest, remove_temporaries, run_folder  # noqa: F401 (runs.*)
from .run_files import (FILLED_COLUMNS, METRIC_COLUMNS, RESTORE_HINT, damaged, meta_problem,  # noqa: F401 (runs.*)
                        metrics_csv, read_json, read_metrics, read_state, read_yaml)

CHECKPOINT = "checkpoint.npz"


def save_setup(run_dir, config, vocab, meta):
    """Write what does not change during a run: config, vocabulary, meta."""
    write_text_atomic(run_dir / "config.yaml", as_yaml(config))
    vocab.save(run_dir / "vocab.json")
    write_text_atomic(run_dir / "meta.json", json.dumps(meta, indent=2))


def set_planned_epochs(run_dir, epochs):
    """Rewrite ``config.yaml`` with ``train.epochs: epochs`` (a resume's new total), atomically."""
    file = Path(run_dir) / "config.yaml"
    config = read_yaml(file)
    config.setdefault("train", {})["epochs"] = epochs
    write_text_atomic(file, yaml.safe_dump(config, sort_keys=False))


def save_checkpoint(run_dir, model, optimizer, epoch, metrics, stopped_early=False):
    """Save the state after a complete epoch.

    Resuming reads only ``checkpoint.npz``, which holds the weights, the
    optimizer's buffers and the epoch together and is written after the
    weights and metrics: a crash at any moment leaves one consistent epoch to
    resume from, never weights of one epoch with buffers of another. The state
    file goes last, so it never names an epoch that is not fully saved; it
    says ``"stopped_early": true`` when early stopping ended the run there.
    """
    weights = model.state_dict()
    serialization.save(weights, run_dir / "weights.npz")
    write_text_atomic(run_dir / "metrics.csv", metrics_csv(metrics))
    bundle = {f"model/{name}": value for name, value in weights.items()}
    bundle.update({f"optimizer/{name}": value for name, value in optimizer.state_dict().items()})
    bundle["epoch"] = np.array(epoch)
    serialization.save(bundle, run_dir / CHECKPOINT)
    state = {"epoch": epoch, "stopped_early": True} if stopped_early else {"epoch": epoch}
    write_text_atomic(run_dir / "state.json", json.dumps(state))


def stopped_early(run_dir):
    """Whether early stopping ended the run (its state.json says so); False for an unreadable one."""
    try:
        return read_state(Path(run_dir) / "state.json").get("stopped_early") is True
    except CheckpointError:
        return False


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
        raise damaged(file, "it has no valid epoch entry")
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
        if value.dtype not in (np.float32, np.float64):  # minigrad saves float32 or float64 weights only
            raise damaged(file, f"weight {name!r} holds {value.dtype} values, not float32 or float64")
        if not np.isfinite(value).all():
            raise damaged(file, f"weight {name!r} holds NaN or infinite values")
    try:
        model.load_state_dict(weights)
    except CheckpointError as exc:
        raise CheckpointError(f"{file}: {exc.message}", hint=exc.hint) from None


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


def load_run(path, metrics=True):
    """Read a run folder, saying exactly what is missing or broken (``metrics=False``: all but
    ``metrics.csv``, which only resuming and reports need, and which grows with every epoch)."""
    path = run_folder(path)
    missing = [f for f in _REQUIRED_FILES if not (path / f).is_file() and (metrics or f != "metrics.csv")]
    if missing == ["state.json"] and checkpoint_epoch(path):
        missing = []  # killed after the checkpoint was written: the run is complete without it
    if missing:
        raise CheckpointError(f"run folder {path} is incomplete: missing {', '.join(missing)}.",
                              hint="The run may have stopped before its first epoch ended; train it again.")
    return SavedRun(path, read_yaml(path / "config.yaml"), Vocabulary.load(path / "vocab.json"),
                    read_json(path / "meta.json", meta_problem), _load_arrays(path / "weights.npz"),
                    saved_epoch(path), read_metrics(path / "metrics.csv") if metrics else [])


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
        raise damaged(file, exc) from None
    if epoch.shape != () or epoch.dtype.kind not in "iu" or epoch < 0:
        raise damaged(file, "it has no valid epoch entry")
    return int(epoch)


def _load_arrays(file):
    """``serialization.load``, with advice that fits a file of a run folder."""
    try:
        return serialization.load(file)
    except CheckpointError as exc:
        raise CheckpointError(exc.message, hint=RESTORE_HINT) from None
