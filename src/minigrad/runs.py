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

``runs/latest`` points at the newest run. Every file is written atomically
(a temporary file renamed over the old one), so an interrupted save never
leaves a broken run.
"""

import csv
import io
import json
import os
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import yaml

from . import serialization
from .serialization import write_text_atomic
from .data.vocab import Vocabulary
from .errors import CheckpointError

METRIC_COLUMNS = ["epoch", "train_loss", "train_acc", "test_loss", "test_acc", "examples_per_s", "elapsed_s"]
LATEST = "latest"
CHECKPOINT = "checkpoint.npz"


def new_run_dir(out, name):
    """Create ``out/name`` (or ``name-2``, ``name-3``... if taken) and point ``out/latest`` at it."""
    out = Path(out)
    out.mkdir(parents=True, exist_ok=True)
    run_dir, n = out / name, 1
    # lexists: a dangling link also takes the name; "latest" is the link's own name.
    while os.path.lexists(run_dir) or run_dir.name == LATEST:
        n += 1
        run_dir = out / f"{name}-{n}"
    run_dir.mkdir()
    point_latest(run_dir)
    return run_dir


def point_latest(run_dir):
    """Make ``<parent>/latest`` a relative symlink to ``run_dir``, replaced atomically."""
    run_dir = Path(run_dir).resolve()  # given "runs/latest" itself, link to its target, not to itself
    link = run_dir.parent / LATEST
    tmp = run_dir.parent / f".{LATEST}.tmp"
    tmp.unlink(missing_ok=True)
    os.symlink(run_dir.name, tmp)
    os.replace(tmp, link)


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
    bundle = serialization.load(file)
    parts = {"model": {}, "optimizer": {}}
    for name, value in bundle.items():
        kind, _, key = name.partition("/")
        if kind in parts:
            parts[kind][key] = value
    return parts["model"], parts["optimizer"], int(bundle.get("epoch", 0))


def _metrics_csv(rows):
    buffer = io.StringIO()
    writer = csv.DictWriter(buffer, fieldnames=METRIC_COLUMNS, lineterminator="\n")
    writer.writeheader()
    for row in rows:
        writer.writerow({k: (f"{row[k]:.6g}" if isinstance(row[k], float) else row[k]) for k in METRIC_COLUMNS})
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


def load_run(path):
    """Read a run folder, saying exactly what is missing or broken."""
    path = Path(path)
    if not path.is_dir():
        hint = "Train one first: minigrad train configs/babi_rnn.yaml" if path.name == LATEST else \
            "Pass the folder of a run, e.g. runs/babi_rnn."
        raise CheckpointError(f"no run folder at {path}.", hint=hint)
    missing = [f for f in ("config.yaml", "vocab.json", "meta.json", "weights.npz", "state.json")
               if not (path / f).is_file()]
    if missing:
        raise CheckpointError(f"run folder {path} is incomplete: missing {', '.join(missing)}.",
                              hint="The run may have stopped before its first epoch ended; train it again.")
    return SavedRun(path, _read_yaml(path / "config.yaml"), Vocabulary.load(path / "vocab.json"),
                    _read_json(path / "meta.json"), serialization.load(path / "weights.npz"),
                    int(_read_json(path / "state.json").get("epoch", 0)), _read_metrics(path / "metrics.csv"))


def _read_json(file):
    try:
        return json.loads(file.read_text(encoding="utf-8"))
    except (OSError, ValueError) as exc:
        raise CheckpointError(f"{file} is damaged ({exc}).", hint="Train the run again.") from None


def _read_yaml(file):
    try:
        data = yaml.safe_load(file.read_text(encoding="utf-8"))
    except (OSError, yaml.YAMLError) as exc:
        raise CheckpointError(f"{file} is damaged ({exc}).", hint="Train the run again.") from None
    if not isinstance(data, dict):
        raise CheckpointError(f"{file} is damaged (not a mapping).", hint="Train the run again.")
    return data


def _read_metrics(file):
    if not file.is_file():
        return []
    with open(file, newline="", encoding="utf-8") as f:
        return [{k: (int(v) if k == "epoch" else float(v)) for k, v in row.items()} for row in csv.DictReader(f)]
