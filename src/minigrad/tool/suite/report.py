"""What a suite leaves behind: results.csv, summary.csv and summary.md, beside the published baselines.

Errors are percentages, 100 x (1 - accuracy), from each run's final
evaluation row (the last row of its metrics.csv). For each task the seed is
chosen without looking at the test split: among the runs that finished, the
one with the lowest validation error, ties going to the lowest training
error, then the lowest seed. A run file without a validation split
(``data.valid_fraction: 0``) is chosen on training error, then seed. A task
counts as failed when its test error is above 5%, as in the published tables.
"""

import csv
import io
import statistics
from pathlib import Path

from ...data.babi import data_dir
from ...errors import CheckpointError
from ...serialization import write_text_atomic
from .. import runs
from .baselines import BASELINES, PASS_LIMIT, TASKS, Baseline, load_baselines  # noqa: F401 (report.*)

RESULT_COLUMNS = ["task", "seed", "status", "train_error", "valid_error", "test_error", "epochs", "seconds",
                  "message"]
SUMMARY_COLUMNS = ["task", "selected_seed", "test_error", "valid_error", "median_test_error", "min_test_error",
                   "max_test_error"]
SELECTION = {"valid": "the seed with the lowest validation error (ties: lowest training error, then lowest seed)",
             "train": "the seed with the lowest training error (ties: lowest seed); the run file holds out "
                      "no validation split"}


def error(accuracy):
    return 100.0 * (1.0 - accuracy)


def run_result(run, status, epoch, message=""):
    """One row of results.csv: the run's errors from its final evaluation row, if it has one."""
    row = dict(task=run.task, seed=run.seed, status=status, train_error=None, valid_error=None, test_error=None,
               epochs=epoch, seconds=None, message=message)
    try:
        metrics = runs.load_run(run.folder).metrics if epoch else []
    except CheckpointError:
        metrics = []
    if metrics:
        last = metrics[-1]
        for split in ("train", "valid", "test"):
            if f"{split}_acc" in last:
                row[f"{split}_error"] = error(last[f"{split}_acc"])
        row["seconds"] = training_seconds(metrics)
    return row


def training_seconds(metrics):
    """Seconds of training in all: ``elapsed_s`` counts from each start or resume, so add up its segments."""
    total = previous = 0.0
    for row in metrics:
        if row["elapsed_s"] < previous:  # a resume started the clock again
            total += previous
        previous = row["elapsed_s"]
    return total + previous


def select(rows, by="valid"):
    """The finished run to report for a task (see the module's docstring), or None if none finished."""
    done = [r for r in rows if r["status"] == "done" and r[f"{by}_error"] is not None]
    if by == "valid":
        return min(done, key=lambda r: (r["valid_error"], r["train_error"], r["seed"]), default=None)
    return min(done, key=lambda r: (r["train_error"], r["seed"]), default=None)


def summarize(results, tasks, by, baselines):
    """One row of summary.csv per task: the chosen seed's errors, the spread over seeds, the published ones."""
    summary = []
    for task in tasks:
        rows = [r for r in results if r["task"] == task]
        chosen = select(rows, by) or {}
        tests = [r["test_error"] for r in rows if r["status"] == "done" and r["test_error"] is not None]
        row = dict(task=task, selected_seed=chosen.get("seed"), test_error=chosen.get("test_error"),
                   valid_error=chosen.get("valid_error"), median_test_error=statistics.median(tests) if tests else None,
                   min_test_error=min(tests, default=None), max_test_error=max(tests, default=None))
        row.update({b.key: b.errors.get(task) for b in baselines})  # None: the source gives no figure
        summary.append(row)
    return summary


def task_label(task):
    """``"1: single-supporting-fact"``, the name taken from the task's file name."""
    found = sorted(data_dir().glob(f"qa{task}_*_train.txt"))
    return f"{task}: {found[0].name.split('_')[1]}" if found else str(task)


def table(summary, baselines):
    """The summary as (header, rows): a row per task, then the mean and the failed-task count.

    Each cell is ``(text, value)``; ``value`` is the test error a renderer colours, or None.
    A published column shows ``n/a`` for a task its source gives no figure for.
    """
    shown = [("minigrad", "test_error", True), ("seed", "selected_seed", False), ("valid", "valid_error", False),
             ("median", "median_test_error", True), ("min", "min_test_error", True),
             ("max", "max_test_error", True)]
    header = ["task"] + [label for label, _, _ in shown] + [b.label for b in baselines]
    tasks = [row["task"] for row in summary]
    rows = [[(task_label(row["task"]), None)] + [_cell(row[key], key, tested) for _, key, tested in shown]
            + [_cell(row[b.key], b.key, True, missing="n/a") for b in baselines] for row in summary]
    mean = [("mean", None)] + [_mean_cell(summary, key, tested) for _, key, tested in shown]
    failed = [(f"failed (> {PASS_LIMIT:g}%)", None)] + [_failed_cell(summary, key, tested) for _, key, tested in shown]
    for b in baselines:
        mean.append(_published(b, tasks, b.mean, _mean_cell(summary, b.key, True)))
        failed.append(_published(b, tasks, b.failed, _failed_cell(summary, b.key, True)))
    return header, rows + [mean, failed]


def _published(baseline, tasks, printed, computed):
    """A published column's mean or failed cell: computed over the tasks shown when it gives them all;
    over all 20 tasks, a partial column's printed figure, marked ``*``; else ``n/a``."""
    if baseline.covers(tasks):
        return computed
    if sorted(tasks) == TASKS and printed is not None:
        return (f"{printed:g}*", None)
    return ("n/a", None)


def _cell(value, key, tested, missing="-"):
    if value is None:
        return (missing, None)
    return (str(value), None) if key == "selected_seed" else (f"{value:.1f}", value if tested else None)


def _mean_cell(summary, key, tested):
    values = [row[key] for row in summary if row[key] is not None]
    if key == "selected_seed" or not values:
        return ("", None)
    return (f"{statistics.fmean(values):.1f}", None)


def _failed_cell(summary, key, tested):
    values = [row[key] for row in summary if row[key] is not None]
    return (str(sum(v > PASS_LIMIT for v in values)), None) if tested and values else ("", None)


def markdown(summary, baselines, by):
    """summary.md: the table, ready to paste, with what was chosen and where the published columns come from."""
    header, rows = table(summary, baselines)
    lines = ["| " + " | ".join(header) + " |", "|---" + "|---:" * (len(header) - 1) + "|"]
    lines += ["| " + " | ".join(text for text, _ in row) + " |" for row in rows]
    notes = [f"Test error (%) on each bAbI task of {SELECTION[by]}; median, min and max over the seeds that "
             f"finished. The mean and failed rows cover the {len(summary)} tasks shown."]
    notes += [f"{b.label}: {b.source}" + (_partial_note(b) if b.partial else "") for b in baselines]
    return "\n".join(lines) + "\n\n" + "\n\n".join(notes) + "\n"


def _partial_note(baseline):
    given = ", ".join(str(t) for t in sorted(baseline.errors))
    return (f". It gives tasks {given} only (n/a: no figure); over all 20 tasks, * marks its printed mean "
            "and failed count.")


def _csv(rows, columns):
    buffer = io.StringIO()
    writer = csv.DictWriter(buffer, fieldnames=columns, lineterminator="\n", extrasaction="ignore")
    writer.writeheader()
    for row in rows:
        writer.writerow({k: ("" if v is None else f"{v:.2f}" if isinstance(v, float) else v) for k, v in row.items()})
    return buffer.getvalue()


def write_outputs(folder, results, summary, baselines, by):
    """results.csv, summary.csv and summary.md in the suite folder, each written atomically."""
    folder = Path(folder)
    write_text_atomic(folder / "results.csv", _csv(results, RESULT_COLUMNS))
    write_text_atomic(folder / "summary.csv", _csv(summary, SUMMARY_COLUMNS + [b.key for b in baselines]))
    write_text_atomic(folder / "summary.md", markdown(summary, baselines, by))
