"""minigrad's memory network against the PyTorch reference, task by task.

    python scripts/compare_memn2n.py --tasks 1-20 --seeds 10 --jobs 2 \\
        --minigrad-suite runs/suite_babi_memn2n

The reference (scripts/reference_memn2n.py, after the authors' Matlab code)
trains each (task, seed) in a process pool, one torch thread per worker; each
finished run is appended to the reference CSV at once, so a stopped comparison
picks up where it left off. minigrad's runs come from a suite folder's
results.csv (``minigrad suite configs/babi_memn2n.yaml --tasks 1-20 --seeds 10
--out DIR``); without --minigrad-suite that suite is run first, as a
subprocess, into --minigrad-out.

The table gives, per task, each side's median test error over its seeds (the
reference's with its min-max), minigrad minus reference, and a mark where
minigrad's median is more than 2 points above the reference's. Below it, for
each side: the mean test error of the validation-selected seed (per task, the
seed with the lowest validation error; ties to the lower training error, then
the lower seed) and the number of tasks whose selected seed fails (> 5%).
"""

from __future__ import annotations

import argparse
import csv
import multiprocessing as mp
import os
import statistics
import subprocess
import sys
from pathlib import Path

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent
sys.path.insert(0, str(HERE))

COLUMNS = ["task", "seed", "status", "train_error", "train_eval_error", "valid_error", "test_error", "seconds",
           "message"]
FAIL = 5.0      # percent: a task above this fails
MARGIN = 2.0    # points: minigrad's median this far above the reference's is marked


def parse_tasks(text: str) -> list[int]:
    """"1-20", "1,4,7", "qa3" or a mix -> sorted task numbers."""
    tasks = set()
    for part in text.split(","):
        part = part.strip().lower().removeprefix("qa")
        if not part:
            continue
        low, _, high = part.partition("-")
        low, high = int(low), int(high or low)
        if not 1 <= low <= high <= 20:
            raise SystemExit(f"--tasks {text!r}: {part!r} is not within the bAbI tasks 1-20")
        tasks.update(range(low, high + 1))
    return sorted(tasks)


def number(value):
    try:
        return float(value)
    except (TypeError, ValueError):
        return None


def read_results(path: Path) -> list[dict]:
    """Rows of a results CSV (minigrad's or the reference's) with numbers parsed."""
    if not path.exists():
        return []
    rows = []
    with open(path, newline="", encoding="utf-8") as fh:
        for row in csv.DictReader(fh):
            rows.append(dict(task=int(row["task"]), seed=int(row["seed"]), status=row.get("status", ""),
                             train_error=number(row.get("train_error")),
                             valid_error=number(row.get("valid_error")),
                             test_error=number(row.get("test_error")),
                             seconds=number(row.get("seconds"))))
    return rows


# --------------------------------------------------------------------------
# The reference runs
# --------------------------------------------------------------------------

def _init_worker(threads: int):
    import torch
    torch.set_num_threads(threads)


def _reference_run(job):
    task, seed, data_dir = job
    import reference_memn2n
    try:
        r = reference_memn2n.train_task(task, seed, data_dir=data_dir)
        return dict(task=task, seed=seed, status="done", train_error=r["train_error"],
                    train_eval_error=r["train_eval_error"], valid_error=r["valid_error"],
                    test_error=r["test_error"], seconds=r["seconds"], message="")
    except Exception as exc:  # one broken run should not stop the others
        return dict(task=task, seed=seed, status="failed", train_error="", train_eval_error="", valid_error="",
                    test_error="", seconds="", message=f"{type(exc).__name__}: {exc}")


def run_reference(tasks, seeds, jobs, csv_path: Path, data_dir: Path):
    done = {(r["task"], r["seed"]) for r in read_results(csv_path) if r["status"] == "done"}
    todo = [(t, s, data_dir) for t in tasks for s in range(seeds) if (t, s) not in done]
    print(f"reference: {len(done & {(t, s) for t in tasks for s in range(seeds)})} runs already in {csv_path}, "
          f"{len(todo)} to train, {jobs} at a time", flush=True)
    if not todo:
        return
    csv_path.parent.mkdir(parents=True, exist_ok=True)
    new_file = not csv_path.exists() or csv_path.stat().st_size == 0
    with open(csv_path, "a", newline="", encoding="utf-8") as fh:
        writer = csv.DictWriter(fh, fieldnames=COLUMNS)
        if new_file:
            writer.writeheader()
            fh.flush()

        def record(row, finished):
            writer.writerow({k: (f"{v:.4f}" if isinstance(v, float) else v) for k, v in row.items()})
            fh.flush()
            os.fsync(fh.fileno())
            shown = (f"test {row['test_error']:.1f}% valid {row['valid_error']:.1f}% {row['seconds']:.0f} s"
                     if row["status"] == "done" else row["message"])
            print(f"[{finished}/{len(todo)}] task {row['task']} seed {row['seed']}: {shown}", flush=True)

        if jobs <= 1:
            _init_worker(1)
            for i, job in enumerate(todo, 1):
                record(_reference_run(job), i)
        else:
            with mp.get_context("spawn").Pool(jobs, initializer=_init_worker, initargs=(1,)) as pool:
                for i, row in enumerate(pool.imap_unordered(_reference_run, todo), 1):
                    record(row, i)


# --------------------------------------------------------------------------
# minigrad's runs
# --------------------------------------------------------------------------

def run_minigrad_suite(config: str, tasks_text: str, seeds: int, jobs: int, out: Path):
    command = [sys.executable, "-m", "minigrad", "suite", config, "--tasks", tasks_text, "--seeds", str(seeds),
               "--jobs", str(jobs), "--out", str(out)]
    print("minigrad:", " ".join(command), flush=True)
    subprocess.run(command, check=True, cwd=ROOT)


# --------------------------------------------------------------------------
# The comparison
# --------------------------------------------------------------------------

def select(rows):
    """The validation-selected run: lowest valid error, then lowest train error, then lowest seed."""
    done = [r for r in rows if r["status"] == "done" and r["test_error"] is not None]
    if not done:
        return None
    inf = float("inf")
    return min(done, key=lambda r: (inf if r["valid_error"] is None else r["valid_error"],
                                    inf if r["train_error"] is None else r["train_error"], r["seed"]))


def by_task(rows, tasks, seeds):
    out = {t: [] for t in tasks}
    for r in rows:
        if r["task"] in out and r["seed"] < seeds:
            out[r["task"]].append(r)
    return out


def fmt(value, width=6):
    return f"{value:{width}.1f}" if value is not None else f"{'-':>{width}}"


def compare(minigrad_rows, reference_rows, tasks, seeds):
    mg, ref = by_task(minigrad_rows, tasks, seeds), by_task(reference_rows, tasks, seeds)
    header = (f"{'task':>4} | {'minigrad':>8} {'n':>2} | {'reference median (min-max)':>26} {'n':>2} | "
              f"{'diff':>6} | {'mg sel':>6} {'ref sel':>7}")
    print("test error (%): medians over seeds; 'sel' = the validation-selected seed's test error")
    print(header)
    print("-" * len(header))
    selected = {"minigrad": [], "reference": []}
    marked = []
    for t in tasks:
        mg_tests = [r["test_error"] for r in mg[t] if r["status"] == "done" and r["test_error"] is not None]
        ref_tests = [r["test_error"] for r in ref[t] if r["status"] == "done" and r["test_error"] is not None]
        mg_med = statistics.median(mg_tests) if mg_tests else None
        ref_med = statistics.median(ref_tests) if ref_tests else None
        ref_text = (f"{ref_med:5.1f} ({min(ref_tests):4.1f}-{max(ref_tests):4.1f})" if ref_tests else "-")
        diff = mg_med - ref_med if mg_med is not None and ref_med is not None else None
        mark = ""
        if diff is not None and diff > MARGIN:
            mark = " *"
            marked.append(t)
        mg_sel, ref_sel = select(mg[t]), select(ref[t])
        if mg_sel:
            selected["minigrad"].append(mg_sel["test_error"])
        if ref_sel:
            selected["reference"].append(ref_sel["test_error"])
        diff_text = f"{diff:+6.1f}" if diff is not None else f"{'-':>6}"
        print(f"{t:>4} | {fmt(mg_med, 8)} {len(mg_tests):>2} | {ref_text:>26} {len(ref_tests):>2} | {diff_text} | "
              f"{fmt(mg_sel and mg_sel['test_error'])} {fmt(ref_sel and ref_sel['test_error'], 7)}{mark}")
    print("-" * len(header))
    print(f"* minigrad's median more than {MARGIN:g} points above the reference's: "
          f"{', '.join(map(str, marked)) or 'none'}")
    for side, errors in selected.items():
        if errors:
            failed = sum(e > FAIL for e in errors)
            print(f"{side:>9}: validation-selected seed, mean test error {statistics.fmean(errors):.2f}% over "
                  f"{len(errors)} tasks, {failed} failed (> {FAIL:g}%)")
        else:
            print(f"{side:>9}: no finished runs")


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--tasks", default="1-20", help="bAbI tasks: 1-20, 1,4,7, qa3 (default 1-20)")
    parser.add_argument("--seeds", type=int, default=10, help="seeds 0..N-1 of each task (default 10)")
    parser.add_argument("--jobs", type=int, default=2, help="runs at once, each on one thread (default 2)")
    parser.add_argument("--minigrad-suite", type=Path,
                        help="a finished minigrad suite folder (its results.csv); without it the suite is run")
    parser.add_argument("--minigrad-config", default=str(ROOT / "configs" / "babi_memn2n.yaml"),
                        help="the run file for the suite this script runs (default configs/babi_memn2n.yaml)")
    parser.add_argument("--minigrad-out", type=Path, default=ROOT / "runs" / "suite_babi_memn2n",
                        help="where that suite goes (default runs/suite_babi_memn2n)")
    parser.add_argument("--reference-csv", type=Path, default=ROOT / "runs" / "reference_memn2n" / "results.csv",
                        help="the reference's results, appended to and resumed (default "
                             "runs/reference_memn2n/results.csv)")
    parser.add_argument("--data", type=Path, default=ROOT / "data" / "babi", help="the bAbI files for the reference")
    parser.add_argument("--skip-reference", action="store_true",
                        help="train nothing for the reference; compare what the CSV already holds")
    args = parser.parse_args(argv)
    tasks = parse_tasks(args.tasks)

    suite = args.minigrad_suite
    if suite is None:
        config = args.minigrad_config  # a path from here, or a bundled config's name
        if Path(config).exists():
            config = str(Path(config).resolve())
        out = args.minigrad_out.resolve()
        run_minigrad_suite(config, args.tasks, args.seeds, args.jobs, out)
        suite = out
    results = suite / "results.csv" if suite.is_dir() else suite
    if not results.exists():
        raise SystemExit(f"no results.csv in {suite}")
    if not args.skip_reference:
        run_reference(tasks, args.seeds, args.jobs, args.reference_csv, args.data)
    compare(read_results(results), read_results(args.reference_csv), tasks, args.seeds)
    return 0


if __name__ == "__main__":
    sys.exit(main())
