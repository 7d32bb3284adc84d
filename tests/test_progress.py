"""What training shows: in a 24-row terminal the newest epochs, the bar and the time left stay in view;
through a pipe each epoch is a line that arrives while the run is still going."""

import io
import subprocess
import sys
import time
from types import SimpleNamespace

from rich.console import Console

from conftest import TINY_LM, write_config
from minigrad.tool.views.progress import LiveView, RunClock, epoch_line, format_seconds


def _row(epoch):
    return {"epoch": epoch, "train_loss": 1.0 / epoch, "train_acc": 0.5, "test_loss": 2.0, "test_acc": epoch / 100,
            "examples_per_s": 1000.0, "elapsed_s": 0.5 * epoch}


def test_sixty_epochs_in_a_24_row_terminal_keep_the_newest_rows_and_the_bar_in_view():
    console = Console(file=io.StringIO(), force_terminal=True, width=100, height=24)
    session = SimpleNamespace(start_epoch=0, config=SimpleNamespace(train=SimpleNamespace(epochs=120)),
                              datasets=SimpleNamespace(valid=None), metrics=[])
    view = LiveView(session, console, "babi_memn2n: task 1, mode memory", RunClock(session))
    for epoch in range(1, 61):
        view.start_epoch(epoch, 29)
        view.batch(29)
        view.add_row(_row(epoch))
    lines = ["".join(seg.text for seg in line).rstrip() for line in console.render_lines(view.renderable(), pad=False)]
    assert len(lines) <= 24
    assert any(line.lstrip("│ ").startswith("60 ") for line in lines)  # the newest epoch is on screen
    assert not any(line.lstrip("│ ").startswith("1 ") for line in lines)  # the oldest has made room
    assert "last 0.600 (epoch 60)" in " ".join(lines)  # the caption's sparkline covers every epoch
    assert "epoch 60/120" in lines[-1] and "left" in lines[-1]
    full = ["".join(seg.text for seg in line) for line in console.render_lines(view.table(rows=None), pad=False)]
    assert len(full) > 60  # the table printed when the run ends has every epoch


def _run_in_a_terminal(command, cwd, rows=24, columns=100):
    """Everything ``command`` writes to a real pseudo-terminal of ``rows`` x ``columns``, once it exits."""
    import fcntl
    import os
    import pty
    import struct
    import termios

    pid, fd = pty.fork()
    if pid == 0:  # the child, whose fd 1 is the terminal: set its size, then become the command
        try:
            fcntl.ioctl(1, termios.TIOCSWINSZ, struct.pack("HHHH", rows, columns, 0, 0))
            os.chdir(cwd)
            os.execv(command[0], command)
        finally:
            os._exit(127)  # never return into the test runner from the child
    out = b""
    while True:
        try:
            chunk = os.read(fd, 65536)
        except OSError:  # the child has closed the terminal
            break
        if not chunk:
            break
        out += chunk
    os.waitpid(pid, 0)
    return out.decode("utf-8", "replace")


def test_a_real_24_row_terminal_shows_the_newest_epochs_and_the_bar_while_training(tmp_path):
    import re

    config = write_config(tmp_path, TINY_LM, train={"epochs": 60, "seed": 0})
    text = _run_in_a_terminal([sys.executable, "-m", "minigrad", "train", str(config)], tmp_path)
    # The live view redraws itself in place: each frame after the first starts by moving the cursor up.
    frames = [re.sub(r"\x1b\[[0-9;?]*[A-Za-z]", "", frame).replace("\r", "")
              for frame in re.split(r"(?:\x1b\[2K\x1b\[1A)+\x1b\[2K", text)]
    live = [frame for frame in frames if re.search(r"epoch \d+/60 ", frame)]
    assert live, "no live frame with the progress bar reached the terminal"
    last = [line for line in live[-1].split("\n") if line.strip()]
    if live[-1] is frames[-1]:  # the run's final output follows the last frame: keep the frame alone
        last = last[: next(i for i, line in enumerate(last) if "epoch" in line and "/60 " in line) + 1]
    assert len(last) <= 24  # it fits the screen
    shown = [int(m.group(1)) for line in last if (m := re.match(r"[│|]\s+(\d+)\s+[│|]", line))]
    bar = int(re.search(r"epoch (\d+)/60 ", last[-1]).group(1))
    assert shown and shown[-1] >= bar - 1 and min(shown) > 1  # the newest epochs, the oldest scrolled away
    assert "left" in last[-1]  # the bar, with the time left, is the last line on screen
    assert "60 " in text and "saved to" in text  # and the whole run still ends with its report


def test_a_line_per_epoch_with_the_time_left():
    assert epoch_line(_row(3), 120, 130.4) == ("epoch 3/120  train loss 0.3333  acc 0.500  test loss 2.0000  "
                                               "acc 0.030  1.5s  left 2m10s")
    assert [format_seconds(s) for s in (None, 5, 65, 3700)] == ["?", "5s", "1m05s", "1h01m"]


def test_a_piped_run_prints_each_epoch_as_it_ends(tmp_path):
    config = write_config(tmp_path, TINY_LM, train={"epochs": 200, "seed": 0})
    job = subprocess.Popen([sys.executable, "-m", "minigrad", "train", str(config)], cwd=tmp_path,
                           stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    lines = []
    while len(lines) < 3:
        lines.append(job.stdout.readline())
    still_running = job.poll() is None  # the first epochs reached the pipe before the run ended
    job.kill()
    job.wait()
    assert lines[0].startswith("run folder:")
    assert lines[1].startswith("epoch 1/200  train loss") and lines[2].startswith("epoch 2/200")
    assert still_running


def test_a_suite_of_twenty_tasks_keeps_its_running_tasks_and_totals_in_view():
    from minigrad.tool.suite.view import FIXED_LINES, fitting_rows

    rows = [dict(task=t, running=int(t == 19), waiting=int(t == 20), done=10 * (t < 19)) for t in range(1, 21)]
    kept, hidden = fitting_rows(rows, 24 - FIXED_LINES)
    assert len(kept) == 16 and hidden == 4 and [r["task"] for r in kept][-2:] == [19, 20]
    assert [r["task"] for r in kept][0] == 5  # the earliest finished tasks made room
