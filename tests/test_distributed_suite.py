"""``mpiexec -n 2 minigrad suite``: the runs spread over two ranks, against the local ``--jobs 2`` suite.

Like tests/test_distributed.py these start real two-rank jobs, and are skipped,
saying why, where mpi4py or mpiexec is missing.
"""

import csv
import json
import re
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from conftest import TINY_QA, tasks_with_a_broken_one, write_config
from minigrad.tool import distributed
from test_distributed import TIMEOUT_S, _mpiexec, assert_ok, clean_env, needs_mpi, run

# Two tasks, two seeds, one epoch, a few questions: four runs of about a second each.
FAST = ["--set", "train.epochs=1", "--set", "data.train_size=40", "--set", "data.test_size=20"]
RUNS = ["task01-seed0", "task01-seed1", "task02-seed0", "task02-seed1"]
SUITE_FILES = ["latest", "logs", "results.csv", "suite.json", "summary.csv", "summary.md"]


def read_csv(path, leave_out=()):
    with open(path, newline="") as f:
        return [{k: v for k, v in row.items() if k not in leave_out} for row in csv.DictReader(f)]


def ranks_that_trained(folder):
    """{run name: the rank its log says trained it}."""
    return {log.stem: int(re.match(r"\[.*, rank (\d) of 2, worker \d+\]", log.read_text()).group(1))
            for log in sorted((folder / "logs").glob("*.log"))}


@pytest.fixture
def config(tmp_path):
    return write_config(tmp_path, {**TINY_QA, "data": {**TINY_QA["data"], "valid_fraction": 0.25}})


def suite(config, out, *options, ranks=None, **env):
    return run(["suite", config, "--tasks", "1,2", "--seeds", "2", "--out", out, *FAST, *options], ranks=ranks, **env)


@needs_mpi
def test_two_ranks_give_the_local_suite_s_results(config, tmp_path):
    assert_ok(suite(config, tmp_path / "local", "--jobs", "2"))
    job = suite(config, tmp_path / "mpi", ranks=2)
    assert_ok(job)
    local, mpi = tmp_path / "local", tmp_path / "mpi"
    assert read_csv(mpi / "summary.csv") == read_csv(local / "summary.csv")
    assert read_csv(mpi / "results.csv", {"seconds"}) == read_csv(local / "results.csv", {"seconds"})
    assert [r["status"] for r in read_csv(mpi / "results.csv")] == ["done"] * 4
    listing = sorted(p.name for p in mpi.iterdir())
    assert listing == sorted(p.name for p in local.iterdir()) == sorted(SUITE_FILES + RUNS)  # each run once
    assert sorted(set(ranks_that_trained(mpi).values())) == [0, 1]
    # rank 0 alone speaks: one header, one line per run, one table
    assert job.stdout.count("suite folder:") == 1 and "2 at a time (1 on each of 2 ranks)" in job.stdout
    assert len(re.findall(r"^\[\d/4\] task \d seed \d: done", job.stdout, re.M)) == 4
    assert job.stdout.count("written:") == 1 and job.stderr == ""


@needs_mpi
def test_a_failing_run_under_mpi_is_recorded_and_the_rest_go_on(config, tmp_path):
    data, broken = tasks_with_a_broken_one(tmp_path / "data")
    job = suite(config, tmp_path / "mpi", ranks=2, MINIGRAD_DATA=str(data))
    assert_ok(job)
    results = read_csv(tmp_path / "mpi" / "results.csv")
    assert [(r["task"], r["status"]) for r in results] == [("1", "done")] * 2 + [("2", "failed")] * 2
    assert all(broken.name in r["message"] and "log:" in r["message"] for r in results[2:])
    assert len(re.findall(r"task 2 seed \d: failed: ", job.stdout)) == 2
    assert [r["test_error"] != "" for r in read_csv(tmp_path / "mpi" / "summary.csv")] == [True, False]


WORKER = """
import json, os, sys
for line in sys.stdin:
    with open(json.loads(line)["log"], "a") as log:
        log.write(json.dumps(sorted(os.environ)) + "\\n")
    print(json.dumps({"code": 0}), flush=True)
"""


@needs_mpi
def test_the_runs_of_every_rank_see_no_launcher_variables(config, tmp_path):
    # Each run's worker writes the names in its environment to the run's log instead of training.
    code = ("import sys; from minigrad.tool import cli; from minigrad.tool.suite import workers as suite_workers\n"
            f"WORKER = {WORKER!r}\n"
            "suite_workers.WORKER_COMMAND = [sys.executable, '-c', WORKER]\n"
            f"sys.argv = ['minigrad', 'suite', {str(config)!r}, '--tasks', '1,2', '--seeds', '2', "
            f"'--out', {str(tmp_path / 'mpi')!r}]; cli.main()")
    assert_ok(run([], ranks=2, code=code, OMPI_MCA_suite_test="1", HYDRA_SUITE_TEST="1"))
    folder = tmp_path / "mpi"
    assert sorted(set(ranks_that_trained(folder).values())) == [0, 1]
    for log in (folder / "logs").glob("*.log"):
        names = json.loads(log.read_text().splitlines()[1])
        assert "PATH" in names and "OPENBLAS_NUM_THREADS" in names
        leaked = [n for n in names if n in distributed.SIZE_VARIABLES + distributed.RANK_VARIABLES
                  or n.startswith(distributed.LAUNCHER_PREFIXES)]
        assert leaked == [], log.name


@needs_mpi
def test_a_crashed_rank_stops_the_job(config, tmp_path):
    crash = ("import os, signal, sys; from minigrad.tool import cli, distributed; from minigrad.tool.suite import workers as suite_workers\n"
             "if distributed.launcher_rank() == 1:\n"
             "    suite_workers.TrainWorkers.__call__ = lambda self, run: os.kill(os.getpid(), signal.SIGKILL)\n"
             f"sys.argv = ['minigrad', 'suite', {str(config)!r}, '--tasks', '1,2', '--seeds', '2', "
             f"'--out', {str(tmp_path / 'mpi')!r}]; cli.main()")
    started = time.monotonic()
    job = run([], ranks=2, code=crash)
    assert job.returncode != 0 and time.monotonic() - started < 60
    assert "written:" not in job.stdout and "Traceback" not in job.stdout + job.stderr


@needs_mpi
def test_ctrl_c_stops_every_rank_and_keeps_what_was_trained(config, tmp_path):
    folder = tmp_path / "mpi"
    command = [_mpiexec(), "-n", "2", sys.executable, "-m", "minigrad", "suite", str(config), "--tasks", "1,2",
               "--seeds", "2", "--out", str(folder), "--set", "train.epochs=100000"]  # no run ends before Ctrl-C
    job = subprocess.Popen(command, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=clean_env())
    deadline = time.monotonic() + TIMEOUT_S
    while len(list(folder.glob("task*/state.json"))) < 2 and time.monotonic() < deadline:
        time.sleep(0.2)  # until both ranks' runs have saved an epoch
    job.send_signal(signal.SIGINT)
    out, err = job.communicate(timeout=TIMEOUT_S)
    assert job.returncode == 130, out + err
    assert err.count("error: interrupted") == 1 and "Traceback" not in err and "MPI_Abort" not in err, out + err
    results = read_csv(folder / "results.csv")
    assert sorted(r["status"] for r in results) == ["interrupted"] * 2 + ["pending"] * 2
    assert all(int(r["epochs"]) >= 1 for r in results if r["status"] == "interrupted")
    assert sorted(set(ranks_that_trained(folder).values())) == [0, 1]
    assert _still_running(folder) == []  # no rank and no run left behind


def _still_running(folder, wait_s=5.0):
    """The command lines of live processes that name ``folder``, once they have had ``wait_s`` to end."""
    deadline = time.monotonic() + wait_s
    while True:
        found = []
        for process in Path("/proc").glob("[0-9]*"):
            try:
                alive = (process / "stat").read_text().rsplit(")", 1)[1].split()[0] != "Z"  # a zombie has ended
                line = (process / "cmdline").read_bytes().replace(b"\0", b" ").decode(errors="replace")
            except OSError:
                continue
            if alive and str(folder) in line:
                found.append(line)
        if not found or time.monotonic() > deadline:
            return found
        time.sleep(0.2)
