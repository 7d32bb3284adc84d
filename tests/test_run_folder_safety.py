"""One writer per run folder, folders taken without races, a ``latest`` that
never replaces a user's file, and suite workers that end with their suite."""

import os
import signal
import subprocess
import sys
import time
from concurrent.futures import ThreadPoolExecutor

import pytest

from conftest import TINY_LM, TINY_QA, invoke, one_line, write_config
from minigrad.tool import folders, lock, run_list, runs
from minigrad.tool.config import load_config
from minigrad.tool.session import resume_session, start_session


def _session(tmp_path, **train):
    return start_session(load_config(write_config(tmp_path, TINY_LM, train={"epochs": 2, "seed": 0, **train})))


def test_a_second_writer_is_refused_naming_the_holder(tmp_path):
    session = _session(tmp_path)
    try:
        result = invoke("train", "--resume", session.run_dir, "--epochs", "3")
        text = one_line(result.output)
        assert result.exit_code == 2 and "Traceback" not in result.output
        assert f"{session.run_dir} is in use by process {os.getpid()}" in text and "Wait for it" in text
        assert run_list.summarize(session.run_dir, tmp_path).status == "running"
    finally:
        session.close()
    assert not (session.run_dir / lock.LOCK_FILE).exists()  # the folder is left as it was


def test_a_lock_held_by_a_dead_process_is_free(tmp_path):
    run_dir = tmp_path / "run"
    run_dir.mkdir()
    code = (f"from minigrad.tool.lock import RunLock; RunLock({str(run_dir)!r}).acquire(); "
            "import os; os.kill(os.getpid(), 9)")
    subprocess.run([sys.executable, "-c", code])
    assert (run_dir / lock.LOCK_FILE).exists() and lock.holder(run_dir) is None
    held = lock.RunLock(run_dir).acquire()
    assert lock.holder(run_dir)["pid"] == os.getpid()
    held.release()


def test_runs_started_together_get_a_folder_each(tmp_path):
    with ThreadPoolExecutor(8) as pool:
        made = list(pool.map(lambda _: folders.new_run_dir(tmp_path, "exp"), range(16)))
    assert len(set(made)) == 16 and all(p.is_dir() for p in made)
    assert os.readlink(tmp_path / "latest") in {p.name for p in made}
    assert [p.name for p in tmp_path.iterdir() if p.name.startswith(".")] == []  # no stray link names


@pytest.mark.parametrize("kind", ["file", "folder"])
def test_a_users_own_latest_is_never_replaced(tmp_path, kind):
    mine = tmp_path / "latest"
    mine.write_text("my notes") if kind == "file" else mine.mkdir()
    run_dir = folders.new_run_dir(tmp_path, "exp")
    assert run_dir.name == "exp" and not mine.is_symlink()
    assert mine.read_text() == "my notes" if kind == "file" else mine.is_dir()


@pytest.mark.parametrize("make_bad", [
    lambda tmp: (tmp / "a-file").write_text("x") and tmp / "a-file",  # --out is a file
    lambda tmp: (tmp / "a-file").write_text("x") and tmp / "a-file" / "under",  # under a file
    lambda tmp: tmp / ("n" * 300),  # a name longer than the file system allows
])
def test_an_out_folder_that_cannot_be_made_is_named(tmp_path, make_bad):
    out = make_bad(tmp_path)
    result = invoke("train", write_config(tmp_path, TINY_LM), "--out", out)
    assert result.exit_code == 2 and "Traceback" not in result.output, result.output
    assert "cannot create the run folder" in one_line(result.output) and "--out" in result.output


def test_resume_removes_what_killed_writes_left(tmp_path):
    session = _session(tmp_path)
    from minigrad.tool import training

    training.train(session)
    session.close()
    stale = session.run_dir / ".tmp-abc123"
    stale.write_bytes(b"half a checkpoint")
    resumed = resume_session(session.run_dir, {"epochs": 3})
    resumed.close()
    assert not stale.exists() and runs.saved_epoch(session.run_dir) == 2


def test_killing_the_suite_ends_its_workers(tmp_path):
    """kill -9 of minigrad suite: each worker stops its run (its last checkpoint kept) and ends."""
    config = write_config(tmp_path, TINY_QA)
    folder = tmp_path / "suite"
    suite = subprocess.Popen([sys.executable, "-m", "minigrad", "suite", str(config), "--tasks", "1", "--seeds", "2",
                              "--out", str(folder), "--set", "train.epochs=100000"],
                             stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    deadline = time.monotonic() + 60
    while len(list(folder.glob("task*/state.json"))) < 2 and time.monotonic() < deadline:
        time.sleep(0.2)
    workers = _workers_of(suite.pid)
    assert len(workers) == 2
    suite.send_signal(signal.SIGKILL)
    suite.wait()
    deadline = time.monotonic() + 30
    while any(_alive(pid) for pid in workers) and time.monotonic() < deadline:
        time.sleep(0.2)
    assert not any(_alive(pid) for pid in workers)
    for run in folder.glob("task*"):
        assert lock.holder(run) is None
        epochs = [row["epoch"] for row in runs.read_metrics(run / "metrics.csv")]
        assert epochs == list(range(1, len(epochs) + 1)) and runs.saved_epoch(run) >= 1


def _workers_of(parent):
    found = subprocess.run(["pgrep", "-P", str(parent)], capture_output=True, text=True).stdout.split()
    return [int(pid) for pid in found]


def _alive(pid):
    try:
        with open(f"/proc/{pid}/stat") as stat:
            return stat.read().split()[2] != "Z"
    except FileNotFoundError:
        return False


@pytest.mark.parametrize("failing", ["config.yaml", "vocab.json", "meta.json", "metrics.csv", "state.json"])
def test_a_full_disk_while_writing_a_run_file_is_one_message(tmp_path, monkeypatch, failing):
    from minigrad import serialization

    real = serialization.write_atomic

    def full_disk(path, write, binary=True):
        if os.path.basename(path) == failing:
            raise OSError(28, "No space left on device")
        return real(path, write, binary)

    monkeypatch.setattr(serialization, "write_atomic", full_disk)
    result = invoke("train", write_config(tmp_path, TINY_LM))
    assert result.exit_code != 0 and "Traceback" not in result.output, result.output
    assert f"cannot write {tmp_path / 'runs' / 'tiny' / failing}: No space left on device" in one_line(result.output)
    assert not (tmp_path / "runs" / "tiny" / lock.LOCK_FILE).exists()  # the folder was let go


def test_a_suite_folder_that_is_a_file_or_damaged_is_named(tmp_path):
    config = write_config(tmp_path, TINY_QA)
    a_file = tmp_path / "a-file"
    a_file.write_text("x")
    result = invoke("suite", config, "--tasks", "1", "--seeds", "1", "--out", a_file)
    assert result.exit_code == 2 and f"cannot create the suite folder {a_file}: it is not a folder" in \
        one_line(result.output)
    damaged = tmp_path / "damaged"
    damaged.mkdir()
    (damaged / "suite.json").write_text("[1")
    result = invoke("suite", config, "--tasks", "1", "--seeds", "1", "--out", damaged)
    assert result.exit_code == 2 and f"{damaged / 'suite.json'} is damaged" in one_line(result.output)
    assert "Traceback" not in result.output
