"""``minigrad plot``: training curves of runs, or a suite's test errors beside the published ones.

matplotlib is an optional extra (``pip install 'minigrad[plot]'``) and is
imported only here, when a plot is asked for. Figures are built with
matplotlib's object interface (``Figure``), never pyplot, so nothing needs a
display and no global state is left behind; each function returns its
Figure, whose axes say exactly what was drawn.
"""

import csv
import io
from pathlib import Path

from ...errors import CheckpointError, MinigradError
from .. import runs

# How each split's curve is drawn; every run keeps one colour for all of them.
SPLITS = {"train": "-", "valid": ":", "test": "--"}
SUITE_SUMMARY = "summary.csv"
FIGURE_SIZE, DPI = (11, 4.5), 100  # inches: 1100 x 450 pixels


def _figure_class():
    try:
        from matplotlib.figure import Figure
    except ImportError:
        raise MinigradError("minigrad plot needs matplotlib, which is not installed.",
                            hint="Install it with: pip install 'minigrad[plot]' "
                                 "(from the repository: pip install -e '.[plot]')") from None
    return Figure


def read_metrics(run_dir):
    """The rows of a run's metrics.csv, with a clear error for a missing folder or file."""
    run_dir = Path(run_dir)
    file = run_dir / "metrics.csv"
    if not file.is_file():
        what = "no run folder" if not run_dir.is_dir() else "no metrics.csv (no epoch finished yet?) in"
        raise CheckpointError(f"{what} {run_dir}.", hint="Pass run folders, e.g. runs/babi_rnn, or a suite folder.")
    rows = runs.read_metrics(file)
    if not rows:
        raise CheckpointError(f"{file} has no rows yet: no epoch has been evaluated.")
    return rows


def _names(paths):
    """Each run's folder name, or its whole path where two runs share a name."""
    names = [Path(p).resolve().name for p in paths]
    return [n if names.count(n) == 1 else str(p) for n, p in zip(names, paths)]


def curves(named_rows):
    """A Figure of loss (left) and accuracy (right) per epoch for ``[(name, metric rows)]``.

    Each run has one colour; train is solid, validation dotted, test dashed.
    """
    fig = _figure_class()(figsize=FIGURE_SIZE, dpi=DPI, layout="constrained")
    loss_ax, acc_ax = fig.subplots(1, 2)
    for i, (name, rows) in enumerate(named_rows):
        for split, style in SPLITS.items():
            scored = [r for r in rows if f"{split}_loss" in r]  # the test split may be scored on some rows only
            if not scored:
                continue
            label = split if len(named_rows) == 1 else f"{name} {split}"
            common = dict(color=f"C{i % 10}", linestyle=style, marker="o", markersize=3, label=label)
            epochs = [r["epoch"] for r in scored]
            loss_ax.plot(epochs, [r[f"{split}_loss"] for r in scored], **common)
            acc_ax.plot(epochs, [100 * r[f"{split}_acc"] for r in scored], **common)
    for ax, what in ((loss_ax, "loss (nats)"), (acc_ax, "accuracy (%)")):
        ax.set_xlabel("epoch")
        ax.set_ylabel(what)
        ax.grid(True, alpha=0.3)
        ax.legend(fontsize="small")
        ax.xaxis.get_major_locator().set_params(integer=True)
    title = named_rows[0][0] if len(named_rows) == 1 else ", ".join(name for name, _ in named_rows)
    fig.suptitle(title)
    return fig


def read_suite(folder):
    """(tasks, {column label: [error per task or None]}) from a suite's summary.csv:
    minigrad's chosen test error first, then each published column."""
    from ..suite.report import SUMMARY_COLUMNS, load_baselines

    file = Path(folder) / SUITE_SUMMARY
    try:
        rows = list(csv.DictReader(io.StringIO(file.read_text(encoding="utf-8"))))
        labels = {b.key: b.label for b in load_baselines()}
        tasks = [int(r["task"]) for r in rows]
        columns = {"minigrad": "test_error"}
        columns.update({labels.get(k, k): k for k in (rows[0] if rows else {}) if k not in SUMMARY_COLUMNS})
        return tasks, {label: [_number(r[key]) for r in rows] for label, key in columns.items()}
    except (OSError, UnicodeDecodeError, csv.Error, KeyError, ValueError) as exc:
        raise CheckpointError(f"{file} is damaged or not a suite summary ({exc}).",
                              hint="Run the suite again to rewrite it: minigrad suite ...") from None


def _number(text):
    return float(text) if text not in ("", None) else None


def suite_errors(name, tasks, columns, limit=5.0):
    """A Figure of each task's test error (%) as grouped bars, one colour per column, the pass limit dashed."""
    fig = _figure_class()(figsize=FIGURE_SIZE, dpi=DPI, layout="constrained")
    ax = fig.subplots()
    width = 0.8 / max(len(columns), 1)
    for i, (label, errors) in enumerate(columns.items()):
        shown = [(t + (i - (len(columns) - 1) / 2) * width, e) for t, e in zip(tasks, errors) if e is not None]
        ax.bar([x for x, _ in shown], [e for _, e in shown], width=width, label=label, color=f"C{i % 10}")
    ax.axhline(limit, color="0.3", linestyle="--", linewidth=1, label=f"pass limit ({limit:g}%)")
    ax.set_xticks(tasks)
    ax.set_xlabel("bAbI task")
    ax.set_ylabel("test error (%)")
    ax.grid(True, axis="y", alpha=0.3)
    ax.legend(fontsize="small")
    fig.suptitle(f"{name}: test error per task")
    return fig


def plot(paths, output=None):
    """Draw ``paths`` (run folders, or one suite folder) into ``output``; returns (Figure, output path)."""
    paths = [Path(p) for p in paths]
    suites = [p for p in paths if (p / SUITE_SUMMARY).is_file()]
    _figure_class()  # say that matplotlib is missing before reading anything
    if suites:
        if len(paths) > 1:
            raise MinigradError("a suite folder is plotted on its own.", hint=f"minigrad plot {suites[0]}")
        from ..suite.report import PASS_LIMIT

        fig = suite_errors(_names(paths)[0], *read_suite(paths[0]), limit=PASS_LIMIT)
        default = "errors.png"
    else:
        fig = curves(list(zip(_names(paths), [read_metrics(p) for p in paths])))
        default = "curves.png"
    output = Path(output or default)
    if not output.suffix:  # matplotlib would add .png itself and write another file than the one named
        output = output.with_name(output.name + ".png")
    try:
        fig.savefig(output)
    except (OSError, ValueError) as exc:
        raise MinigradError(f"cannot write {output}: {exc}.",
                            hint="Give a writable path ending in .png, .svg or .pdf with -o.") from None
    return fig, output
