"""Rich tables for the command line. Functions here build and return them;
the caller decides where to print."""

import math

from rich.markup import escape
from rich.table import Table


def gradcheck_table(results) -> Table:
    """One row per gradcheck case: op, configuration, shapes, errors, verdict."""
    table = Table(title="gradcheck: backprop vs central differences (float64)")
    for column, justify in [("op", "left"), ("case", "left"), ("shapes", "left"),
                            ("max abs err", "right"), ("max rel err", "right"), ("result", "center")]:
        table.add_column(column, justify=justify)
    for r in results:
        verdict = "[green]pass[/]" if r.result.ok else "[bold red]FAIL[/]"
        table.add_row(r.name, r.label, r.shapes, f"{r.result.max_abs_err:.1e}", f"{r.result.max_rel_err:.1e}", verdict)
    return table


METRIC_HEADERS = [("epoch", "epoch", "{}"), ("train_loss", "train loss", "{:.4f}"), ("train_acc", "train acc", "{:.3f}"),
                  ("test_loss", "test loss", "{:.4f}"), ("test_acc", "test acc", "{:.3f}"),
                  ("examples_per_s", "examples/s", "{:,.0f}"), ("elapsed_s", "elapsed", "{:.1f}s")]


# Shown after the training scores when a run holds out a validation split (data.valid_fraction).
VALID_HEADERS = [("valid_loss", "valid loss", "{:.4f}"), ("valid_acc", "valid acc", "{:.3f}")]


def _headers(valid):
    return METRIC_HEADERS[:3] + VALID_HEADERS + METRIC_HEADERS[3:] if valid else METRIC_HEADERS


class MetricsTable(Table):
    """The training table, which also remembers the test accuracies so far for its caption's sparkline."""

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.test_accuracies = []  # (epoch, test accuracy) of each row


def metrics_table(title, valid=False) -> Table:
    """An empty table with one column per metric (validation ones too if ``valid``); ``add_metrics_row`` fills it."""
    table = MetricsTable(title=title, caption_justify="left")
    for _, header, _ in _headers(valid):
        table.add_column(header, justify="right")
    return table


def add_metrics_row(table, row):
    """Add one epoch's row, and redraw the caption's test-accuracy sparkline when the table keeps one."""
    headers = _headers(len(table.columns) > len(METRIC_HEADERS))
    table.add_row(*[fmt.format(row[key]) if key in row else "" for key, _, fmt in headers])
    if isinstance(table, MetricsTable) and "test_acc" in row:
        table.test_accuracies.append((row["epoch"], row["test_acc"]))
        table.caption = accuracy_caption(table.test_accuracies)


SPARK_BLOCKS = "▁▂▃▄▅▆▇█"


def sparkline(values, low=0.0, high=1.0):
    """One block character per value, from ▁ at ``low`` to █ at ``high`` (clipped); a blank for NaN.

    The scale is fixed rather than fitted to the values, so an accuracy of
    0.5 always draws the same block: ``sparkline([0, 0.5, 1])`` is "▁▅█".
    """
    top = len(SPARK_BLOCKS) - 1
    marks = []
    for v in values:
        if not math.isfinite(v):
            marks.append(" ")
            continue
        level = int((v - low) / (high - low) * top + 0.5)
        marks.append(SPARK_BLOCKS[min(max(level, 0), top)])
    return "".join(marks)


def accuracy_caption(rows):
    """``test acc ▁▃▅▇  last 0.873 (epoch 4)`` for (epoch, accuracy) rows: the trend so far, on the scale 0 to 1.

    The latest figure, not the highest: a "best" is chosen on validation only (``minigrad runs``, best.json).
    """
    epoch, last = rows[-1]
    return f"test acc {sparkline([acc for _, acc in rows])}  last {last:.3f} (epoch {epoch})"


def attention_table(statements, attention, empty=None, labels=("attention over the story", "hop")) -> Table:
    """Each statement of a story beside the weight every hop gave it; each hop's strongest in bold.

    ``empty`` (per hop, the weight on the memory's empty slots) adds a last row when any hop used them;
    ``labels`` are the table's title and the name of a column (a QRN's are layers of update gates).
    """
    title, column = labels
    table = Table(title=title)
    table.add_column("statement")
    for hop in range(len(attention)):
        table.add_column(f"{column} {hop + 1}", justify="right")
    strongest = [max(range(len(weights)), key=weights.__getitem__) for weights in attention]
    for i, text in enumerate(statements):
        cells = [f"[bold green]{w[i]:.3f}[/]" if best == i else f"{w[i]:.3f}" for w, best in zip(attention, strongest)]
        table.add_row(escape(text), *cells)
    if empty and any(weight >= 0.0005 for weight in empty):
        table.add_row("[dim](empty slots)[/]", *[f"{weight:.3f}" for weight in empty])
    return table


def predictions_table(pairs, what) -> Table:
    """The top-k words with their probabilities."""
    table = Table(title=f"top {len(pairs)} {what}")
    table.add_column("rank", justify="right")
    table.add_column("word")
    table.add_column("probability", justify="right")
    for rank, (word, prob) in enumerate(pairs, 1):
        table.add_row(str(rank), word, f"{prob:.3f}")
    return table


def format_duration(seconds):
    """``75`` -> ``"1:15"``; an hour or more -> ``"1:02:03"``."""
    minutes, seconds = divmod(int(round(seconds)), 60)
    hours, minutes = divmod(minutes, 60)
    return f"{hours}:{minutes:02d}:{seconds:02d}" if hours else f"{minutes}:{seconds:02d}"


def suite_progress_table(title, rows, caption) -> Table:
    """One row per task of a running suite: runs done, running, waiting, failed, best error, times."""
    table = Table(title=title, caption=caption)
    for header in ("task", "done", "running", "waiting", "failed", "best valid err", "elapsed", "left"):
        table.add_column(header, justify="right")
    for r in rows:
        table.add_row(str(r["task"]), str(r["done"]), str(r["running"]), str(r["waiting"]),
                      f"[red]{r['failed']}[/]" if r["failed"] else "0",
                      "-" if r["best"] is None else f"{r['best']:.1f}%",
                      "-" if r["elapsed"] is None else format_duration(r["elapsed"]),
                      "?" if r["left"] is None else format_duration(r["left"]))
    return table


def suite_summary_table(title, header, rows, limit=5.0) -> Table:
    """A suite's summary, each cell ``(text, test error or None)``; errors are green up to ``limit``, else red."""
    table = Table(title=title)
    for i, name in enumerate(header):
        table.add_column(name, justify="left" if i == 0 else "right")
    for row in rows:
        table.add_row(*[escape(text) if value is None else
                        f"[{'green' if value <= limit else 'red'}]{escape(text)}[/]" for text, value in row])
    return table


def per_task_table(rows, mean, failed, limit=5.0) -> Table:
    """A joint run's errors (%) per task (``minigrad.tool.per_task`` rows), its mean row and its failed count."""
    def cells(row, coloured):
        test, valid = ("-" if e is None else f"{e:.1f}" for e in (row["test_error"], row["valid_error"]))
        return [(row["task"], None), (test, row["test_error"] if coloured else None), (valid, None)]

    body = [cells(r, True) for r in rows] + [cells(mean, False)]
    body.append([(f"failed (> {limit:g}%)", None), (str(failed), None), ("", None)])
    return suite_summary_table("error per task (%)", ["task", "test error", "valid error"], body, limit)


# The colour of each kind of status in the runs table (the first word of the status).
_STATUS_STYLE = {"finished": "green", "stopped": "green", "interrupted": "yellow", "diverged": "red",
                 "running": "cyan", "damaged:": "bold red"}

RUNS_CAPTION = ("valid acc: the best epoch on validation (the weights predict uses), at that epoch; "
                "test acc: at the same epoch, or at the last for a run without a validation split (last)")


def runs_table(title, summaries) -> Table:
    """One row per run folder (``run_list.RunSummary``), newest first as given."""
    table = Table(title=title, caption=RUNS_CAPTION, caption_justify="left")
    for column, justify in [("run", "left"), ("model", "left"), ("task", "left"), ("epochs", "right"),
                            ("valid acc (ep)", "right"), ("test acc", "right"), ("time", "right"),
                            ("status", "left")]:
        table.add_column(column, justify=justify, no_wrap=column != "task",
                         min_width=4 if column == "task" else None)
    for s in summaries:
        epochs = f"{s.done}/{s.planned}" if s.planned is not None and s.done is not None else ""
        valid = f"{s.valid_acc:.3f} ({s.best_epoch})" if s.valid_acc is not None else ""
        test = "" if s.test_acc is None else f"{s.test_acc:.3f}" + (f" (last, {s.best_epoch})"
                                                                      if s.chosen_on == "last" else "")
        style = _STATUS_STYLE.get(s.status.split(" ")[0], "")
        table.add_row(escape(s.name), escape(s.model), escape(s.task), epochs, valid, test,
                      _short_duration(s.wall_s), f"[{style}]{escape(s.status)}[/]" if style else escape(s.status))
    return table


def _short_duration(seconds):
    """``0.4s`` under a minute, else ``format_duration``'s ``1:15``; blank when unknown."""
    if seconds is None:
        return ""
    return f"{seconds:.1f}s" if seconds < 60 else format_duration(seconds)


def evaluation_table(scores, pooled=None) -> Table:
    """``minigrad evaluate``'s figures (``evaluate_run.Score``): one row per task or file, then all together."""
    table = Table(title="evaluation")
    for column, justify in [("task", "left"), ("examples", "right"), ("loss", "right"), ("accuracy", "right"),
                            ("error (%)", "right"), ("file", "left")]:
        table.add_column(column, justify=justify)
    for s in scores + ([pooled] if pooled is not None else []):
        table.add_row(escape(s.name), f"{s.examples:,}", f"{s.loss:.4f}", f"{s.accuracy:.3f}", f"{s.error:.1f}",
                      escape(s.file))
    return table
