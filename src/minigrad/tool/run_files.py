"""Reading the small files of a run folder, and writing its metrics.

Each reader names the file and what is wrong with it in a ``CheckpointError``
(``RUN/state.json is damaged (...)``) and says what to do; sizes and counts
are bounded, so a damaged or hostile file costs a message, not the machine's
memory. ``minigrad.tool.runs`` uses these.
"""

import csv
import io
import json

import yaml

from ..errors import CheckpointError, ConfigError
from .config.limits import MAX_EPOCHS, MAX_LENGTH  # the schema's bounds: a larger figure in a run file is damage
from .config.yaml_limits import check_text

METRIC_COLUMNS = ["epoch", "train_loss", "train_acc", "test_loss", "test_acc", "examples_per_s", "elapsed_s"]
# Every row fills these; the test columns are empty on rows where the test split was not scored
# (train.test_every), and validation columns on rows from before a run had them.
FILLED_COLUMNS = ["epoch", "train_loss", "train_acc", "examples_per_s", "elapsed_s"]
RESTORE_HINT = "Restore the file from a copy of the run, or train the run again."


def metrics_csv(rows):
    """The rows as CSV: the standard columns, then any others the rows carry, in order of appearance."""
    extra = dict.fromkeys(k for row in rows for k in row if k not in METRIC_COLUMNS)
    buffer = io.StringIO()
    writer = csv.DictWriter(buffer, fieldnames=METRIC_COLUMNS + list(extra), lineterminator="\n")
    writer.writeheader()
    for row in rows:
        writer.writerow({k: (f"{v:.6g}" if isinstance(v, float) else v) for k, v in row.items()})
    return buffer.getvalue()


def damaged(file, reason):
    return CheckpointError(f"{file} is damaged ({reason}).", hint=RESTORE_HINT)


def file_size(file):
    try:
        return file.stat().st_size
    except OSError as exc:
        raise damaged(file, exc.strerror) from None


def _read_text(file):
    try:
        return file.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        raise damaged(file, exc) from None


def read_state(file):
    """The ``{"epoch": N, ...}`` of a run's ``state.json``; CheckpointError naming it if damaged."""
    return read_json(file, _state_problem)


def read_json(file, problem):
    """The JSON value in ``file``; ``problem(value)`` says what is wrong with it, or None."""
    try:
        data = json.loads(_read_text(file))
    except (ValueError, RecursionError) as exc:
        raise damaged(file, exc) from None
    reason = problem(data)
    if reason:
        raise damaged(file, reason)
    return data


def is_count(value, least=0, most=MAX_LENGTH):
    """A whole number (not a bool, which JSON and Python count as one) from ``least`` to ``most``."""
    return isinstance(value, int) and not isinstance(value, bool) and least <= value <= most


def _state_problem(state):
    if not (isinstance(state, dict) and is_count(state.get("epoch"), most=MAX_EPOCHS)):
        return f"expected {{\"epoch\": N}}, N from 0 to {MAX_EPOCHS:,}"
    return None


# The lengths each mode's meta.json records, which prediction pads its input to.
_META_LENGTHS = {"lm": (), "qa": ("story_len", "question_len"), "memory": ("sentence_len",)}


def meta_problem(meta):
    if not (isinstance(meta, dict) and meta.get("mode") in _META_LENGTHS):
        return "expected the run's mode, 'lm', 'qa' or 'memory'"
    lengths = _META_LENGTHS[meta["mode"]]
    if not all(is_count(meta.get(k), 1) for k in lengths):
        return f"a {meta['mode']} run needs {' and '.join(lengths)}, whole numbers from 1 to {MAX_LENGTH:,}"
    if "slots" in meta and meta["slots"] is not None and not is_count(meta["slots"], 1):
        return f"slots must be a whole number from 1 to {MAX_LENGTH:,}"
    return None


def read_yaml(file):
    """The mapping in a run folder's YAML file; CheckpointError naming the file if damaged."""
    text = _read_text(file)
    try:
        check_text(text, str(file))  # the limits of a run file: a config.yaml is one
        data = yaml.safe_load(text)
    except ConfigError as exc:
        raise damaged(file, exc.message.removeprefix(f"{file}: ")) from None
    except (yaml.YAMLError, RecursionError) as exc:
        raise damaged(file, exc) from None
    if not isinstance(data, dict):
        raise damaged(file, "not a mapping")
    return data


MAX_METRICS_BYTES = 256 << 20  # a row per epoch is under 200 bytes: a million epochs fit with room


def read_metrics(file):
    """The rows of ``metrics.csv``: the standard columns must all be there, others are kept too."""
    size = file_size(file)
    if size > MAX_METRICS_BYTES:
        raise damaged(file, f"it is {size >> 20} MiB, more than the {MAX_METRICS_BYTES >> 20} MiB a run writes")
    text = _read_text(file)
    if not text.endswith("\n"):  # written whole, one row per line, so a cut file ends mid-row
        raise damaged(file, "it is empty" if not text else "its last row is cut short")
    try:
        header, *rows = csv.reader(io.StringIO(text))
    except csv.Error as exc:  # e.g. a field longer than the csv module's limit
        raise damaged(file, exc) from None
    missing = [c for c in METRIC_COLUMNS if c not in header]
    if missing or len(set(header)) != len(header):
        raise damaged(file, f"its header is not {','.join(METRIC_COLUMNS)}")
    return [_metrics_row(file, number, header, row) for number, row in enumerate(rows, start=2)]


def _metrics_row(file, line, header, row):
    """One row as {column: number}; an extra column may be left empty in rows from before it existed."""
    if len(row) != len(header):
        raise damaged(file, f"line {line} has {len(row)} values for {len(header)} columns")
    values = {}
    for column, text in zip(header, row):
        if text or column in FILLED_COLUMNS:
            values[column] = _metric_value(file, line, column, text)
    return values


def _metric_value(file, line, column, text):
    try:
        return int(text) if column == "epoch" else float(text)
    except ValueError:
        raise damaged(file, f"line {line}: {column} is {text!r}, not a number") from None
