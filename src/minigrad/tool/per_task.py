"""Each task's errors in a run on several tasks: ``per_task.csv`` in its run folder.

A run on several tasks (``data.task: all`` or a list; see
``minigrad.data.joint``) rewrites the file at every evaluation, one row per
task in the order the run lists them: ``task,test_error,valid_error``, in
percent, 100 x (1 - accuracy); ``valid_error`` is empty without a validation
split. A task counts as failed when its test error is above 5%, as in
``minigrad suite``.
"""

import csv
import io
from pathlib import Path
from statistics import fmean

from ..errors import CheckpointError
from ..serialization import write_text_atomic
from .suite.report import PASS_LIMIT, error

FILE = "per_task.csv"
COLUMNS = ["task", "test_error", "valid_error"]


def task_rows(test_acc, valid_acc=None):
    """One row per task of ``{task name: accuracy}``: its test and validation error (None without one)."""
    return [dict(task=name, test_error=error(acc), valid_error=error(valid_acc[name]) if valid_acc else None)
            for name, acc in test_acc.items()]


def save(run_dir, test_acc, valid_acc=None):
    """Write ``run_dir/per_task.csv`` atomically from each task's test and validation accuracy."""
    buffer = io.StringIO()
    writer = csv.DictWriter(buffer, fieldnames=COLUMNS, lineterminator="\n")
    writer.writeheader()
    for row in task_rows(test_acc, valid_acc):
        writer.writerow({key: f"{value:.6g}" if isinstance(value, float) else value for key, value in row.items()})
    write_text_atomic(Path(run_dir) / FILE, buffer.getvalue())


def load(run_dir):
    """The rows of ``run_dir/per_task.csv``, errors as floats (None where empty); [] when there is no file."""
    file = Path(run_dir) / FILE
    if not file.is_file():
        return []
    try:
        with open(file, newline="", encoding="utf-8") as f:
            return [{"task": row["task"], **{c: float(row[c]) if row[c] else None for c in COLUMNS[1:]}}
                    for row in csv.DictReader(f)]
    except (OSError, UnicodeDecodeError, csv.Error, KeyError, TypeError, ValueError) as exc:
        raise CheckpointError(f"{file} is damaged ({exc}).", hint="Train the run again, or resume it: every evaluation rewrites the file.") from None


def summary(rows):
    """(the mean row, the number of tasks failed): mean errors over the tasks, a test error above 5% failing."""
    valid = [r["valid_error"] for r in rows]
    mean = dict(task="mean", test_error=fmean(r["test_error"] for r in rows),
                valid_error=None if None in valid else fmean(valid))
    return mean, sum(r["test_error"] > PASS_LIMIT for r in rows)
