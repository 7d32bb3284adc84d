"""A run's best epoch, chosen on the validation split only, and early stopping.

A run with a validation split (``data.valid_fraction``) keeps two sets of
weights: ``weights.npz``, the last complete epoch's, and ``best.npz``, the
weights of the epoch whose monitored validation figure is the lowest so far
(``valid_loss`` unless ``train.early_stopping.monitor`` says
``valid_error``). ``best.json`` records that epoch and its figures,
validation and test. Both are written atomically, weights first, each time
validation improves, so ``best.json`` never names weights that are not on
disk. The test split is scored at such an epoch but never chooses it.

``train.early_stopping`` stops training when the best epoch is ``patience``
epochs old; ``--resume`` reads the best so far back from ``best.json``.
"""

import json
import math
from dataclasses import dataclass
from pathlib import Path

from .. import serialization
from ..errors import CheckpointError
from ..serialization import write_text_atomic
from .config.limits import MAX_EPOCHS
from .run_files import RESTORE_HINT, is_count, read_json
from .suite.report import error

WEIGHTS, FILE = "best.npz", "best.json"
MONITORS = ("valid_loss", "valid_error")


def monitored(row, monitor):
    """The figure ``monitor`` names in a metrics row: the validation loss, or error in percent."""
    return row["valid_loss"] if monitor == "valid_loss" else error(row["valid_acc"])


@dataclass
class Best:
    """The best epoch so far (0: none yet) and the rule that says when training should stop."""

    monitor: str = "valid_loss"
    min_delta: float = 0.0
    patience: int = None  # None: never stop early
    epoch: int = 0
    value: float = None

    @classmethod
    def for_run(cls, config, has_valid):
        """The tracker a run needs: None without a validation split, which has no best to choose."""
        if not has_valid:
            return None
        stopping = config.train.early_stopping
        if stopping is None:
            return cls()
        return cls(stopping.monitor, stopping.min_delta, stopping.patience)

    def improves(self, row):
        """Whether ``row``'s figure is lower than the best by more than ``min_delta``."""
        value = monitored(row, self.monitor)
        return math.isfinite(value) and (self.value is None or value < self.value - self.min_delta)

    def take(self, row):
        self.epoch, self.value = row["epoch"], monitored(row, self.monitor)

    def stops(self, epoch):
        """Whether training should stop after ``epoch``: ``patience`` epochs without improving."""
        return self.patience is not None and self.epoch > 0 and epoch - self.epoch >= self.patience

    def restore(self, run_dir, epoch):
        """Read back the best so far of a run resumed at ``epoch`` (one saved later is not kept)."""
        found = load_info(run_dir)
        if found is not None and found["epoch"] <= epoch and found["monitor"] == self.monitor:
            self.epoch, self.value = found["epoch"], found["value"]
        return self


def info(best, row):
    """What ``best.json`` records: the epoch, the monitored figure and the row's scores."""
    scores = {key: row[key] for key in ("valid_loss", "valid_acc", "test_loss", "test_acc") if key in row}
    return {"epoch": best.epoch, "monitor": best.monitor, "value": best.value, **scores}


def save(run_dir, weights, found):
    """Write ``best.npz``, then ``best.json``: the json never names weights not yet written."""
    serialization.save(weights, Path(run_dir) / WEIGHTS)
    write_text_atomic(Path(run_dir) / FILE, json.dumps(found))


def load_info(run_dir):
    """``best.json`` of a run folder, or None when it has none (no validation split, or not yet scored)."""
    file = Path(run_dir) / FILE
    return read_info(file) if file.is_file() else None


def read_info(file):
    """The record in a ``best.json`` file; CheckpointError naming it if damaged."""
    return read_json(file, _problem)


def _problem(found):
    if not isinstance(found, dict) or found.get("monitor") not in MONITORS:
        return "expected {\"epoch\": N, \"monitor\": \"valid_loss\" or \"valid_error\", \"value\": x}"
    epoch, value = found.get("epoch"), found.get("value")
    if not is_count(epoch, 1, MAX_EPOCHS):
        return f"its epoch must be a whole number from 1 to {MAX_EPOCHS:,}"
    if not (isinstance(value, (int, float)) and not isinstance(value, bool) and math.isfinite(value)):
        return "its value must be a finite number"
    for key in ("valid_loss", "valid_acc", "test_loss", "test_acc"):
        if key in found and not isinstance(found[key], (int, float)):
            return f"its {key} must be a number"
    return None


def load_weights(run_dir):
    """(weights, best.json's record) of a run's best epoch, or None when it has no best."""
    found = load_info(run_dir)
    if found is None:
        return None
    file = Path(run_dir) / WEIGHTS
    if not file.is_file():
        raise CheckpointError(f"{Path(run_dir) / FILE} names epoch {found['epoch']}, but {file} is missing.",
                              hint="Use --weights last, or restore the file from a copy of the run.")
    try:
        return serialization.load(file), found
    except CheckpointError as exc:
        raise CheckpointError(exc.message, hint=RESTORE_HINT) from None
