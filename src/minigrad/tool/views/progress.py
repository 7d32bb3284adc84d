"""What ``minigrad train`` shows while it trains, in a terminal or in a log.

In a terminal a live view keeps the newest epochs that fit the screen, the
test-accuracy sparkline, the epoch's progress bar and the time left for the
whole run in view, however long the run; the full table is printed when it
ends. Without a terminal (a pipe, a log file, a cluster job) each evaluated
epoch is one plain line, flushed at once, so a log shows a run as it goes.
"""

import time

from rich.console import Group
from rich.live import Live
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn

from .tables import accuracy_caption, add_metrics_row, metrics_table

# Lines of a live view that are not epoch rows: title, a two-line header and its rules, a caption that
# may wrap, the bar, and the line above the view.
FIXED_LINES = 11


def train_with_display(train, session, console, title):
    """Call ``train(session, on_epoch_start, on_batch, on_eval)`` and show its progress on ``console``."""
    clock = RunClock(session)
    view = LiveView(session, console, title, clock)
    try:
        if not console.is_terminal:
            train(session, on_eval=lambda row: _print_line(console, view, row))
            return
        with Live(view.renderable(), console=console, refresh_per_second=8, transient=True) as live:
            view.live = live
            train(session, on_epoch_start=view.start_epoch, on_batch=view.batch, on_eval=view.add_row)
    finally:
        if view.rows:
            console.print(view.table(rows=None))  # the whole run, once it has ended or stopped


class RunClock:
    """Epochs done in this session, and the time left for the rest of the run at their pace."""

    def __init__(self, session):
        self.first, self.total = session.start_epoch, session.config.train.epochs
        self.started = time.perf_counter()

    def seconds_left(self, epoch):
        done = epoch - self.first
        if done <= 0:
            return None
        return (time.perf_counter() - self.started) / done * (self.total - epoch)


def format_seconds(seconds):
    if seconds is None:
        return "?"
    minutes, secs = divmod(int(round(seconds)), 60)
    hours, minutes = divmod(minutes, 60)
    return f"{hours}h{minutes:02d}m" if hours else f"{minutes}m{secs:02d}s" if minutes else f"{secs}s"


# (column, label, format) of a plain line, in order; a column the row lacks is left out.
LINE_FIELDS = [("train_loss", "train loss", "{:.4f}"), ("train_acc", "acc", "{:.3f}"),
               ("valid_loss", "valid loss", "{:.4f}"), ("valid_acc", "acc", "{:.3f}"),
               ("test_loss", "test loss", "{:.4f}"), ("test_acc", "acc", "{:.3f}")]


def epoch_line(row, total, seconds_left):
    """``epoch 3/120  train loss 1.2345 acc 0.456  ...  12.3s  left 2m10s`` for one metrics row."""
    parts = [f"epoch {row['epoch']}/{total}"]
    parts += [f"{label} {fmt.format(row[key])}" for key, label, fmt in LINE_FIELDS if key in row]
    parts += [f"{row['elapsed_s']:.1f}s", f"left {format_seconds(seconds_left)}"]
    return "  ".join(parts)


def _print_line(console, view, row):
    view.rows.append(row)
    clock = view.clock
    console.print(epoch_line(row, clock.total, clock.seconds_left(row["epoch"])), markup=False, highlight=False,
                  soft_wrap=True)
    console.file.flush()


class LiveView:
    """The terminal view: the newest rows that fit, the sparkline, the epoch's bar and the run's time left."""

    def __init__(self, session, console, title, clock):
        self.console, self.title, self.clock, self.live = console, title, clock, None
        self.valid = session.datasets.valid is not None
        self.rows = list(session.metrics)
        self.progress = Progress(TextColumn("epoch {task.fields[epoch]}/{task.fields[total_epochs]}"), BarColumn(),
                                 MofNCompleteColumn(), TextColumn("batches"), TimeElapsedColumn(),
                                 TextColumn("run: {task.fields[left]} left"), console=console)
        self.bar = self.progress.add_task("train", total=1, epoch=0, total_epochs=clock.total, left="?")

    def table(self, rows):
        """The metrics table of the last ``rows`` epochs (all of them for None); the caption covers every one."""
        table = metrics_table(self.title, valid=self.valid)
        for row in self.rows if rows is None else self.rows[-rows:]:
            add_metrics_row(table, row)
        tested = [(row["epoch"], row["test_acc"]) for row in self.rows if "test_acc" in row]
        if tested:
            table.caption = accuracy_caption(tested)
        return table

    def renderable(self):
        return Group(self.table(max(1, self.console.height - FIXED_LINES)), self.progress)

    def start_epoch(self, epoch, batches):
        left = format_seconds(self.clock.seconds_left(epoch - 1))
        self.progress.reset(self.bar, total=batches, epoch=epoch, total_epochs=self.clock.total, left=left)

    def batch(self, done):
        self.progress.update(self.bar, completed=done)

    def add_row(self, row):
        self.rows.append(row)
        if self.live is not None:
            self.live.update(self.renderable())
