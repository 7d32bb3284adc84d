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


def run_labels(paths):
    """What each run is, for a legend: ``babi_memn2n, task 2, seed 0`` from its config.yaml.

    A suite's run is named after its task and seed already, so its name is
    left out; runs that would read the same get their folder's name added.
    """
    labels = [_describe_run(Path(p)) for p in paths]
    return [label if labels.count(label) == 1 else f"{label} ({Path(p).resolve().name})"
            for label, p in zip(labels, paths)]


def _describe_run(path):
    from ...data.joint import describe_tasks

    config = runs.read_yaml(path / "config.yaml") if (path / "config.yaml").is_file() else {}
    name, task = config.get("name", path.resolve().name), (config.get("data") or {}).get("task")
    seed = (config.get("train") or {}).get("seed")
    if task is None or seed is None:
        return str(name)
    about = f"{describe_tasks(task)}, seed {seed}"
    suite_named = isinstance(task, int) and name == f"task{task:02d}-seed{seed}"
    return about if suite_named else f"{name}, {about}"


# Markers on every evaluated epoch up to this many; past it they would hide the curve itself.
MAX_MARKED_EPOCHS = 30
# A loss that falls by more than this factor is drawn on a log scale: the first epochs' spikes
# would otherwise flatten everything after them against the axis.
LOG_SCALE_RANGE = 20


def curves(named_rows, title=None):
    """A Figure of loss (left) and accuracy (right) per epoch for ``[(label, metric rows)]``.

    Each run has one colour; train is solid, validation dotted, test dashed.
    One run's splits are named in each plot; several runs get one legend
    below, a line per run (its colour) and per split (its dash).
    """
    fig = _figure_class()(figsize=FIGURE_SIZE, dpi=DPI, layout="constrained")
    loss_ax, acc_ax = fig.subplots(1, 2)
    losses, drawn = [], {}
    for i, (label, rows) in enumerate(named_rows):
        marker = "o" if len(rows) <= MAX_MARKED_EPOCHS else None
        for split, style in SPLITS.items():
            scored = [r for r in rows if f"{split}_loss" in r]  # the test split may be scored on some rows only
            if not scored:
                continue
            drawn[split] = style
            common = dict(color=f"C{i % 10}", linestyle=style, marker=marker, markersize=3, label=f"{label}: {split}")
            epochs = [r["epoch"] for r in scored]
            losses += [(r["epoch"], r[f"{split}_loss"]) for r in scored]
            loss_ax.plot(epochs, [r[f"{split}_loss"] for r in scored], **common)
            acc_ax.plot(epochs, [100 * r[f"{split}_acc"] for r in scored], **common)
    for ax, what in ((loss_ax, _scale_loss_axis(loss_ax, losses)), (acc_ax, "accuracy (%)")):
        ax.set_xlabel("epoch")
        ax.set_ylabel(what)
        ax.grid(True, alpha=0.3)
        ax.xaxis.get_major_locator().set_params(integer=True)
    _legends(fig, (loss_ax, acc_ax), [label for label, _ in named_rows], drawn)
    fig.suptitle(title or f"{len(named_rows)} runs")
    return fig


def _legends(fig, axes, labels, drawn):
    """Name the splits in each plot for one run; for several, one legend of runs and splits below."""
    from matplotlib.lines import Line2D

    splits = [Line2D([], [], color="0.3", linestyle=style, label=split) for split, style in drawn.items()]
    if len(labels) == 1:
        for ax in axes:
            ax.legend(handles=[Line2D([], [], color="C0", linestyle=h.get_linestyle(), label=h.get_label())
                               for h in splits], fontsize="small")
        return
    runs_drawn = [Line2D([], [], color=f"C{i % 10}", linewidth=3, label=label) for i, label in enumerate(labels)]
    fig.legend(handles=runs_drawn + splits, loc="outside lower center", ncols=min(len(runs_drawn) + len(splits), 6),
               fontsize="small")


def _scale_loss_axis(ax, losses):
    """Fit the loss axis to the training that follows the first epochs; returns the axis label."""
    values = [loss for _, loss in losses]
    if not values:
        return "loss (nats)"
    if min(values) > 0 and max(values) / min(values) > LOG_SCALE_RANGE:
        ax.set_yscale("log")
        return "loss (nats, log scale)"
    last_epoch = max(epoch for epoch, _ in losses)
    later = [loss for epoch, loss in losses if epoch > max(1, last_epoch // 10)]
    if last_epoch >= 5 and later and max(values) > 2 * max(later):  # spikes in the first epochs, not just a start
        ax.set_ylim(min(0.0, min(values)), 1.1 * max(later))
    return "loss (nats)"


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


# The published columns' markers, in the order the columns come; minigrad's own result is a bar.
MARKERS = "D^sv*P"
# Where each task's bar and markers go around its tick: the bar to the left, the markers side by side
# to its right, so that none covers the bar's label or another column's marker.
BAR_SHIFT, BAR_WIDTH, MARKER_SHIFT, MARKER_STEP = -0.17, 0.42, 0.16, 0.11


def suite_errors(name, tasks, columns, limit=5.0):
    """A Figure of each task's test error (%): minigrad's as labelled bars, each published column as
    markers over them, the pass limit dashed. A task without a result yet is marked n/a."""
    fig = _figure_class()(figsize=FIGURE_SIZE, dpi=DPI, layout="constrained")
    ax = fig.subplots()
    (own_label, own), *published = columns.items()
    shown = [(t, e) for t, e in zip(tasks, own) if e is not None]
    # An edge as thick as a line keeps a bar of 0.0 visible: a flat bar on the axis, labelled 0.0.
    bars = ax.bar([t + BAR_SHIFT for t, _ in shown], [e for _, e in shown], width=BAR_WIDTH, label=own_label,
                  color="C0", edgecolor="C0", linewidth=1.5, zorder=2)
    ax.bar_label(bars, fmt="%.1f", padding=2, fontsize=7)
    for t in sorted(set(tasks) - {t for t, _ in shown}):
        ax.text(t + BAR_SHIFT, 0, "n/a", ha="center", va="bottom", fontsize=7, color="0.4")
    for i, (label, errors) in enumerate(published):
        marked = [(t + MARKER_SHIFT + i * MARKER_STEP, e) for t, e in zip(tasks, errors) if e is not None]
        ax.plot([x for x, _ in marked], [e for _, e in marked], linestyle="none", marker=MARKERS[i % len(MARKERS)],
                markersize=5, color=f"C{i + 1}", label=label, zorder=3)
    ax.axhline(limit, color="0.3", linestyle="--", linewidth=1, label=f"pass limit ({limit:g}%)", zorder=1)
    top = max([e for errors in columns.values() for e in errors if e is not None] + [limit])
    ax.set_ylim(-0.02 * top, 1.1 * top)  # the zero line sits above the axis, where a 0.0 bar shows
    ax.set_xticks(tasks)
    ax.set_xlabel("bAbI task")
    ax.set_ylabel("test error (%)")
    ax.grid(True, axis="y", alpha=0.3)
    handles, labels = ax.get_legend_handles_labels()
    order = sorted(range(len(labels)), key=lambda k: labels[k] != own_label)  # minigrad first
    fig.legend([handles[k] for k in order], [labels[k] for k in order], loc="outside lower center",
               ncols=len(labels), fontsize="small")
    fig.suptitle(f"{name}: test error per task")
    return fig


def plot(paths, output=None):
    """Draw ``paths`` (run folders, or one suite folder) into ``output``; returns (Figure, output path).

    Without ``output`` the picture goes into the folder drawn: ``SUITE/errors.png``,
    ``RUN/curves.png``, or ``compare.png`` in the first of several runs' folders.
    """
    paths = [Path(p) for p in paths]
    suites = [p for p in paths if (p / SUITE_SUMMARY).is_file()]
    _figure_class()  # say that matplotlib is missing before reading anything
    if suites:
        if len(paths) > 1:
            raise MinigradError("a suite folder is plotted on its own.", hint=f"minigrad plot {suites[0]}")
        from ..suite.report import PASS_LIMIT

        fig = suite_errors(paths[0].resolve().name, *read_suite(paths[0]), limit=PASS_LIMIT)
        default = paths[0] / "errors.png"
    else:
        fig = _run_curves(paths)
        default = paths[0] / ("curves.png" if len(paths) == 1 else "compare.png")
    output = Path(output or default)
    if not output.suffix:  # matplotlib would add .png itself and write another file than the one named
        output = output.with_name(output.name + ".png")
    try:
        fig.savefig(output)
    except (OSError, ValueError) as exc:
        raise MinigradError(f"cannot write {output}: {exc}.",
                            hint="Give a writable path ending in .png, .svg or .pdf with -o.") from None
    return fig, output


def _run_curves(paths):
    rows = [read_metrics(p) for p in paths]  # first: a missing folder is said as such
    labels = run_labels(paths)
    folder = paths[0].resolve().name
    if len(paths) == 1:  # the folder's name, unless the label starts with it already
        title = labels[0] if labels[0].startswith(folder) else f"{folder}: {labels[0]}"
    else:
        title = f"{len(paths)} runs"
    return curves(list(zip(labels, rows)), title)
