"""Showing a suite as it runs: a live table per task in a terminal, one line per run elsewhere.

Both views are told ``started(run)`` and ``finished(run, result)`` (a
results.csv row) and keep a ``Progress``, which also estimates how long is
left from the runs that finished so far.
"""

import heapq
import statistics
import time

from rich.live import Live

from ..views.tables import format_duration, suite_progress_table


class Progress:
    """Each run's state (waiting, running, done, failed), start time and result."""

    def __init__(self, runs, jobs, finished=()):
        self.runs, self.jobs = list(runs), jobs
        self.state = {run: "waiting" for run in self.runs}
        self.results, self.started_at, self.ended_at, self.durations = {}, {}, {}, []
        self.began = time.perf_counter()
        for run, result in finished:
            self.state[run], self.results[run] = "done", result

    def start(self, run):
        self.state[run], self.started_at[run] = "running", time.perf_counter()

    def finish(self, run, result):
        self.state[run] = "done" if result["status"] == "done" else result["status"]
        self.results[run], self.ended_at[run] = result, time.perf_counter()
        if result["status"] == "done" and run in self.started_at:
            self.durations.append(time.perf_counter() - self.started_at[run])

    def count(self, state, task=None):
        return sum(1 for run, s in self.state.items() if s == state and task in (None, run.task))

    def tasks(self):
        return sorted({run.task for run in self.runs})

    def best_valid(self, task):
        """The lowest validation error of a finished run of ``task`` (training error without a validation split)."""
        errors = [r["valid_error"] if r["valid_error"] is not None else r["train_error"]
                  for run, r in self.results.items() if run.task == task and r["status"] == "done"]
        errors = [e for e in errors if e is not None]
        return min(errors, default=None)

    def remaining(self):
        """{run: estimated seconds until it ends} for the runs not ended yet, or {} before any estimate."""
        duration = statistics.fmean(self.durations) if self.durations else None
        if duration is None:
            return {}
        now = time.perf_counter()
        running = [run for run in self.runs if self.state[run] == "running"]
        waiting = [run for run in self.runs if self.state[run] == "waiting"]
        left = {run: max(duration - (now - self.started_at[run]), 0.0) for run in running}
        ends = finish_times(list(left.values()), len(waiting), self.jobs, duration)
        return {**left, **dict(zip(waiting, ends))}

    def rows(self):
        """One row per task for the live table."""
        now, left = time.perf_counter(), self.remaining()
        rows = []
        for task in self.tasks():
            starts = [t for run, t in self.started_at.items() if run.task == task]
            ends = [s for run, s in left.items() if run.task == task]
            unfinished = self.count("running", task) + self.count("waiting", task)
            # A task's clock stops when its last run ends.
            stop = now if unfinished else max((t for r, t in self.ended_at.items() if r.task == task), default=now)
            rows.append(dict(task=task, done=self.count("done", task), running=self.count("running", task),
                             waiting=self.count("waiting", task), failed=self.count("failed", task),
                             best=self.best_valid(task), elapsed=stop - min(starts) if starts else None,
                             left=max(ends) if ends else (0.0 if not unfinished else None)))
        return rows


def finish_times(running_left, waiting, jobs, duration):
    """When each of ``waiting`` runs ends, in order, if every run takes ``duration``.

    ``running_left`` are the seconds the running runs still need; a waiting run
    starts when the earliest of the ``jobs`` slots frees up.
    """
    slots = list(running_left) + [0.0] * max(jobs - len(running_left), 0)
    heapq.heapify(slots)
    ends = []
    for _ in range(waiting):
        end = heapq.heappop(slots) + duration
        ends.append(end)
        heapq.heappush(slots, end)
    return ends


FIXED_LINES = 8  # lines of the live table that are not task rows: title, header, rules, a caption that may wrap
TOTALS_EVERY = 10  # a log gets the totals line after every this many finished runs


def totals_line(progress):
    """``37/200 done, 2 running, 0 failed; elapsed 3m10s, about 12m left``."""
    p, left = progress, progress.remaining()
    estimate = f", about {format_duration(max(left.values()))} left" if left else ""
    return (f"{p.count('done')}/{len(p.runs)} done, {p.count('running')} running, {p.count('failed')} failed; "
            f"elapsed {format_duration(time.perf_counter() - p.began)}{estimate}")


def fitting_rows(rows, room):
    """The task rows that fit in ``room`` lines, and how many were left out: finished tasks go first
    (from the top), then waiting ones (from the bottom), so the running tasks stay in view."""
    room = max(room, 1)
    finished = [i for i, r in enumerate(rows) if not r["running"] and not r["waiting"]]
    dropped = set(finished[:max(len(rows) - room, 0)])
    kept = [r for i, r in enumerate(rows) if i not in dropped]
    return kept[:room], len(dropped)


class LiveView:
    """A table of tasks, redrawn in place a few times a second (for a terminal)."""

    def __init__(self, console, progress, title):
        self.progress, self.console, self._title = progress, console, title
        self.live = Live(console=console, refresh_per_second=2, transient=False, get_renderable=self._table)

    def _table(self):
        rows, hidden = fitting_rows(self.progress.rows(), self.console.height - FIXED_LINES)
        caption = totals_line(self.progress) + (f" (and {hidden} finished tasks above)" if hidden else "")
        return suite_progress_table(self._title, rows, caption)

    def started(self, run):
        self.progress.start(run)

    def finished(self, run, result):
        self.progress.finish(run, result)

    def __enter__(self):
        self.live.start()
        return self

    def __exit__(self, *exc):
        self.live.stop()


class LineView:
    """One line per finished run, never redrawn (for a log file or CI)."""

    def __init__(self, console, progress):
        self.console, self.progress = console, progress

    def started(self, run):
        self.progress.start(run)

    def finished(self, run, result):
        self.progress.finish(run, result)
        ended = self.progress.count("done") + self.progress.count("failed")
        self.console.print(run_line(result, ended, len(self.progress.runs)), markup=False, highlight=False,
                           soft_wrap=True)
        if ended % TOTALS_EVERY == 0 or ended == len(self.progress.runs):
            self.console.print(totals_line(self.progress), markup=False, highlight=False, soft_wrap=True)
        self.console.file.flush()

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        return None


def run_line(result, ended, total):
    """``[3/40] task 1 seed 0: done in 12.3s; train 0.0%, valid 1.0%, test 1.2%`` (errors in percent)."""
    head = f"[{ended}/{total}] task {result['task']} seed {result['seed']}: {result['status']}"
    if result["status"] == "failed":
        return f"{head}: {result['message']}"
    errors = [f"{split} {result[f'{split}_error']:.1f}%" for split in ("train", "valid", "test")
              if result[f"{split}_error"] is not None]
    seconds = f" in {result['seconds']:.1f}s" if result["seconds"] is not None else ""
    return f"{head}{seconds}" + (f"; {', '.join(errors)}" if errors else "")

