"""``minigrad suite``: tasks and seeds trained in child processes, resumed, summarized."""

import csv
import io
import os
import re

import pytest
from rich.console import Console

from conftest import TINY_QA, invoke, tasks_with_a_broken_one, write_config
from minigrad.tool import distributed, runs, training
from minigrad.tool.suite import plan as suite, report as suite_report
from minigrad.tool.config import load_config
from minigrad.errors import ConfigError, MinigradError
from minigrad.tool.suite.view import LineView, Progress, finish_times
from minigrad.tool.suite.run import run_suite
from minigrad.tool.suite.workers import TrainWorkers, saved_epoch, train_command
from minigrad.tool.session import start_session

# Two tasks, two seeds, one epoch, a few questions: four runs of about a second each.
FAST = ["train.epochs=1", "data.train_size=40", "data.test_size=20"]
TINY_SUITE = {**TINY_QA, "data": {**TINY_QA["data"], "valid_fraction": 0.25}}


def read_csv(path):
    with open(path, newline="") as f:
        return list(csv.DictReader(f))


def run(config, folder, tasks=(1, 2), seeds=2, sets=FAST):
    """Prepare and run a suite, reporting one line per run into a string; return (suite, lines)."""
    setup = suite.prepare(config, sets, list(tasks), seeds, folder)
    output = io.StringIO()
    console = Console(file=output, width=300)
    run_suite(setup, 2, lambda progress: LineView(console, progress))
    return setup, output.getvalue().splitlines()


@pytest.fixture
def config(tmp_path):
    return write_config(tmp_path, TINY_SUITE)


# ---- choosing the seed --------------------------------------------------------------------


def row(seed, valid, train, test, status="done"):
    return dict(task=1, seed=seed, status=status, valid_error=valid, train_error=train, test_error=test)


def test_selection_takes_the_lowest_validation_error_never_the_test_error():
    rows = [row(0, 10.0, 1.0, 0.0), row(1, 5.0, 3.0, 40.0), row(2, 8.0, 0.0, 1.0)]
    assert suite_report.select(rows)["seed"] == 1


def test_selection_ties_go_to_training_error_then_seed():
    rows = [row(3, 5.0, 2.0, 9.0), row(1, 5.0, 1.0, 7.0), row(0, 5.0, 1.0, 8.0), row(2, 5.0, 1.0, 1.0)]
    assert suite_report.select(rows)["seed"] == 0


def test_selection_skips_unfinished_runs_and_can_fall_back_to_training_error():
    rows = [row(0, 0.0, 0.0, 0.0, status="failed"), row(1, None, 4.0, 6.0), row(2, None, 4.0, 2.0),
            row(3, None, 9.0, 0.0)]
    assert suite_report.select(rows, by="train")["seed"] == 1
    assert suite_report.select(rows[:1]) is None


# ---- --tasks, --set, the suite folder -----------------------------------------------------


@pytest.mark.parametrize("text, tasks", [("1-20", list(range(1, 21))), ("1,4,7", [1, 4, 7]), ("qa3", [3]),
                                         ("1-3,qa7, 2", [1, 2, 3, 7]), ("qa2-qa4", [2, 3, 4])])
def test_tasks_option(text, tasks):
    assert suite.parse_tasks(text) == tasks


@pytest.mark.parametrize("text", ["0", "21", "5-2", "one", "", "1,,2", "1-"])
def test_bad_tasks_option_is_one_clear_error(text):
    with pytest.raises(ConfigError, match="--tasks") as caught:
        suite.parse_tasks(text)
    assert "1-20" in caught.value.hint


def test_a_field_the_suite_sets_cannot_be_set(config, tmp_path):
    with pytest.raises(ConfigError, match="--set train.seed: .*use --seeds"):
        suite.prepare(config, ["train.seed=3"], [1], 1, tmp_path / "s")


def test_a_suite_folder_refuses_another_config(config, tmp_path):
    folder = tmp_path / "s"
    suite.prepare(config, FAST, [1], 1, folder)
    with pytest.raises(ConfigError, match=r"optimizer\.lr was 0\.01, now 0\.5") as caught:
        suite.prepare(config, FAST + ["optimizer.lr=0.5"], [1], 1, folder)
    assert "--set train.epochs=1" in caught.value.hint
    suite.prepare(config, FAST, [1, 2], 3, folder)  # more tasks or seeds are the same suite


def test_suite_runs_score_test_at_the_end_and_checkpoint_every_ten_epochs(config, tmp_path):
    setup = suite.prepare(config, ["train.epochs=30"], [1], 1, tmp_path / "s")
    assert (setup.config.train.test_every, setup.config.train.checkpoint_every) == (30, 10)
    assert "--set=train.test_every=30" in train_command(setup, setup.runs[0])  # what each run is told
    chosen = suite.prepare(config, ["train.epochs=30", "train.test_every=5", "train.checkpoint_every=1"], [1], 1,
                           tmp_path / "t")
    assert (chosen.config.train.test_every, chosen.config.train.checkpoint_every) == (5, 1)  # --set wins
    (tmp_path / "own").mkdir()
    written = write_config(tmp_path / "own", {**TINY_SUITE, "train": {**TINY_SUITE["train"], "test_every": 2}})
    assert suite.prepare(written, [], [1], 1, tmp_path / "u").config.train.test_every == 2  # so does the file


def test_a_language_model_config_is_refused(tmp_path):
    with pytest.raises(ConfigError, match="data.mode is lm"):
        suite.prepare(write_config(tmp_path), [], [1], 1, tmp_path / "s")


# ---- running ------------------------------------------------------------------------------


def test_suite_writes_results_and_summary_and_one_line_per_run(config, tmp_path):
    setup, lines = run(config, tmp_path / "s")
    *runs, totals = lines  # a line per run, then the totals after the last
    assert len(runs) == 4 and all(" done in " in line and "valid" in line for line in runs)
    assert totals.startswith("4/4 done, 0 running, 0 failed; elapsed ")
    results = read_csv(setup.folder / "results.csv")
    assert list(results[0]) == suite_report.RESULT_COLUMNS
    assert [(r["task"], r["seed"], r["status"], r["epochs"]) for r in results] == \
        [("1", "0", "done", "1"), ("1", "1", "done", "1"), ("2", "0", "done", "1"), ("2", "1", "done", "1")]
    for r in results:  # percentages from each run's own metrics.csv
        metrics = read_csv(setup.folder / f"task0{r['task']}-seed{r['seed']}" / "metrics.csv")[-1]
        assert float(r["test_error"]) == pytest.approx(100 * (1 - float(metrics["test_acc"])), abs=0.01)
        assert float(r["valid_error"]) == pytest.approx(100 * (1 - float(metrics["valid_acc"])), abs=0.01)

    summary = read_csv(setup.folder / "summary.csv")
    # a recurrent model's default published columns
    assert list(summary[0]) == suite_report.SUMMARY_COLUMNS + ["lstm", "memn2n_pe_ls_rn"]
    for task, line in zip("12", summary):
        mine = [r for r in results if r["task"] == task]
        chosen = min(mine, key=lambda r: (float(r["valid_error"]), float(r["train_error"]), int(r["seed"])))
        assert (line["selected_seed"], line["test_error"]) == (chosen["seed"], chosen["test_error"])
        assert float(line["min_test_error"]) == min(float(r["test_error"]) for r in mine)

    markdown = (setup.folder / "summary.md").read_text()
    table = [line for line in markdown.splitlines() if line.startswith("|")]
    assert len(table) == 2 + 2 + 2  # header, rule, two tasks, mean, failed
    assert table[2].startswith("| 1: single-supporting-fact | ") and table[-1].startswith("| failed (> 5%) |")
    assert "lowest validation error" in markdown


def test_one_worker_trains_run_after_run_as_minigrad_train_would(config, tmp_path):
    setup = suite.prepare(config, FAST, [1, 2], 2, tmp_path / "s")
    run_suite(setup, 1, lambda progress: LineView(Console(file=io.StringIO()), progress))
    workers = {re.match(r"\[.*, worker (\d+)\]", (setup.folder / "logs" / f"{r.name}.log").read_text()).group(1)
               for r in setup.runs}
    assert len(workers) == 1  # one process for all four runs
    alone = tmp_path / "alone"
    result = invoke("train", config, "--task", "2", "--seed", "1", "--out", alone, "--set", "name=task02-seed1",
                    *[f"--set={text}" for text in setup.set_texts])
    assert result.exit_code == 0, result.output
    by_worker, by_train = (runs.read_metrics(folder / "task02-seed1" / "metrics.csv") for folder in (setup.folder, alone))
    strip = lambda rows: [{k: v for k, v in row.items() if k not in ("examples_per_s", "elapsed_s")} for row in rows]
    assert strip(by_worker) == strip(by_train)


def test_running_again_trains_nothing(config, tmp_path):
    setup, _ = run(config, tmp_path / "s", tasks=(1,), seeds=1)
    state = setup.runs[0].folder / "state.json"
    before = state.stat().st_mtime_ns, (setup.folder / "logs" / "task01-seed0.log").read_text()
    _, lines = run(config, tmp_path / "s", tasks=(1,), seeds=1)
    assert lines == []
    assert (state.stat().st_mtime_ns, (setup.folder / "logs" / "task01-seed0.log").read_text()) == before


@pytest.mark.parametrize("command", [["predict", "--context", "mary", "--run"], ["evaluate"], ["train", "--resume"],
                                     ["graph", "--run"]])
def test_a_suite_folder_given_as_a_run_says_so_and_names_a_run_inside(config, tmp_path, command):
    setup, _ = run(config, tmp_path / "s", tasks=(1,), seeds=1)
    result = invoke(*command, setup.folder)
    assert result.exit_code == 1 and "Traceback" not in result.output
    text = " ".join(result.output.split())
    assert text.startswith(f"error: {setup.folder} is a suite folder (minigrad suite), not a run folder: "
                           "its runs are the folders inside it (task01-seed0, ...).")
    assert f"Give one of its runs instead, e.g. {setup.folder / 'task01-seed0'}; minigrad runs {setup.folder}" in text
    assert "stopped before its first epoch" not in text
    assert invoke("evaluate", setup.folder / "task01-seed0").exit_code == 0  # the run named works


def test_an_interrupted_run_is_resumed_not_restarted(config, tmp_path):
    folder = tmp_path / "s"
    setup = suite.prepare(config, ["train.epochs=2"] + FAST[1:], [1], 1, folder)
    settings = {"train.epochs": 2, "data.train_size": 40, "data.test_size": 20, "name": "task01-seed0"}
    session = start_session(load_config(config, {"out": str(folder), "task": 1, "seed": 0},
                                                 settings=settings))

    epochs = []

    def stop_in_epoch_2(batch):  # Ctrl-C during epoch 2's first batch
        if epochs[-1] == 2:
            raise KeyboardInterrupt

    with pytest.raises(MinigradError, match="epoch 1 is saved"):
        training.train(session, on_epoch_start=lambda epoch, _: epochs.append(epoch), on_batch=stop_in_epoch_2)
    session.close()
    metrics = session.run_dir / "metrics.csv"
    header, first = metrics.read_text().splitlines()
    marked = first.split(",")
    marked[5] = "12345"  # examples_per_s of epoch 1: a resume keeps the row, a restart writes it anew
    metrics.write_text(f"{header}\n{','.join(marked)}\n")

    _, lines = run(config, folder, tasks=(1,), seeds=1, sets=["train.epochs=2"] + FAST[1:])
    rows = read_csv(metrics)
    assert [r["epoch"] for r in rows] == ["1", "2"] and rows[0]["examples_per_s"] == "12345"
    assert saved_epoch(setup.runs[0].folder) == 2 and "done" in lines[0]


def test_a_failing_run_is_recorded_and_the_rest_go_on(config, tmp_path, monkeypatch):
    data, broken = tasks_with_a_broken_one(tmp_path / "data")
    monkeypatch.setenv("MINIGRAD_DATA", str(data))  # the children read their tasks from here

    setup, lines = run(config, tmp_path / "s", seeds=1)
    results = read_csv(setup.folder / "results.csv")
    assert [(r["task"], r["status"]) for r in results] == [("1", "done"), ("2", "failed")]
    assert broken.name in results[1]["message"] and "log:" in results[1]["message"]
    # the two runs go at once, so either may finish first
    assert any(re.match(r"\[\d/2\] task 2 seed 0: failed: ", line) for line in lines), lines
    summary = read_csv(setup.folder / "summary.csv")
    assert summary[0]["test_error"] != "" and summary[1]["test_error"] == ""


# ---- the published results and the estimate ---------------------------------------------


def test_the_packaged_baselines_load_with_a_source_and_twenty_tasks_each():
    for column in suite_report.load_baselines():
        assert column.source and (sorted(column.errors) == list(range(1, 21))) != column.partial


def test_a_baselines_file_needs_every_task_and_a_source(tmp_path):
    good = {task: float(task) for task in range(1, 21)}
    path = tmp_path / "b.yaml"
    path.write_text(f"columns:\n  - {{key: x, label: X, source: 'Paper, Table 1', errors: {good}, mean: 10.5}}\n")
    (column,) = suite_report.load_baselines(path)
    assert (column.key, column.errors[20]) == ("x", 20.0)
    del good[7]
    path.write_text(f"columns:\n  - {{key: x, source: 'Paper', errors: {good}}}\n")
    with pytest.raises(ConfigError, match="tasks 1-20"):
        suite_report.load_baselines(path)


def test_baselines_become_summary_columns_and_count_failures(tmp_path):
    published = suite_report.Baseline("paper", "Paper", "Paper, Table 1", {t: 3.0 * t for t in range(1, 21)})
    results = [dict(row(0, 1.0, 0.0, 2.0), task=1), dict(row(0, 1.0, 0.0, 9.0), task=2)]
    summary = suite_report.summarize(results, [1, 2], "valid", [published])
    assert [s["paper"] for s in summary] == [3.0, 6.0]
    header, rows = suite_report.table(summary, [published])
    assert header[-1] == "Paper" and rows[-2][1] == ("5.5", None) and rows[-1][-1][0] == "1"
    assert rows[0][1] == ("2.0", 2.0)  # a test error cell carries its value, for colouring


def test_finish_times_fill_free_slots_first():
    assert finish_times([5.0], 3, 2, 10.0) == [10.0, 15.0, 20.0]


def test_progress_estimates_nothing_before_a_run_has_finished(config, tmp_path):
    setup = suite.prepare(config, FAST, [1], 2, tmp_path / "s")
    progress = Progress(setup.runs, 1)
    progress.start(setup.runs[0])
    assert progress.remaining() == {} and progress.rows()[0]["left"] is None


def test_a_local_suite_s_runs_see_no_launcher_variables(config, tmp_path, monkeypatch):
    # A shell inside an MPI job (mpiexec -n 1, an srun step) still holds the launcher's variables.
    for name in ("PMI_RANK", "PMI_SIZE", "PMI_FD", "OMPI_COMM_WORLD_SIZE", "OMPI_MCA_x", "PMIX_RANK",
                 "HYDRA_CONTROL_FD", "MPI_LOCALNRANKS", "SLURM_PROCID", "SLURM_STEP_NUM_TASKS"):
        monkeypatch.setenv(name, "1")
    env = TrainWorkers(suite.prepare(config, FAST, [1], 1, tmp_path / "s")).env
    assert not [name for name in env if name.startswith(("PMI", "OMPI", "PMIX", "HYDRA", "MPI_", "SLURM"))]
    assert env["PATH"] == os.environ["PATH"] and env["OPENBLAS_NUM_THREADS"] == "1"
    assert not distributed.launched(env)


def test_a_worker_that_was_killed_trains_no_more_runs(config, tmp_path):
    setup = suite.prepare(config, FAST, [1, 2], 1, tmp_path / "s")
    workers = TrainWorkers(setup)
    try:
        first = workers._take()
        first.process.kill()  # as a user's kill, or the kernel's out-of-memory killer, would
        first.process.wait()
        workers.idle.append(first)
        killed = workers(setup.runs[0])
        assert killed.status == "failed" and "exit code -9" in killed.message
        assert workers(setup.runs[1]).status == "done"  # a new worker took it
        assert first not in workers.idle and len(workers.idle) == 1
    finally:
        workers.close()
