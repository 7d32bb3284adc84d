"""What the command line shows before any work: --help, --version, `minigrad configs`, shell
completion, and hints whose commands stay on one line."""

import os
import pty
import select
import shutil
import signal
import sys
import time
from importlib.metadata import version
from pathlib import Path

import click
import pytest
import typer
from typer.testing import CliRunner

from conftest import invoke
from minigrad.tool import cli, completion
from minigrad.tool.config import bundled


def every_command(command=None, path=("minigrad",)):
    """``(words, click command)`` for the app and every command and subcommand under it."""
    command = command or typer.main.get_command(cli.app)
    yield path, command
    for name, sub in getattr(command, "commands", {}).items():
        yield from every_command(sub, (*path, name))


def help_text(words, columns=80):
    result = CliRunner().invoke(cli.app, [*words[1:], "--help"], env={"COLUMNS": str(columns)}, terminal_width=columns)
    assert result.exit_code == 0, result.output
    return result.output


# ---- --help and --version -----------------------------------------------------------------


@pytest.mark.parametrize("words", [words for words, _ in every_command()], ids=" ".join)
def test_help_names_values_in_words_not_types(words):
    shown = help_text(words)
    assert "<" not in shown.replace("<config name>", ""), shown  # no <bool>, <str>, <list[Path]>, <int>


def test_every_option_that_takes_a_value_has_a_value_name():
    for words, command in every_command():
        ctx = click.Context(command, info_name=words[-1])
        for param in command.get_params(ctx):
            takes_value = param.param_type_name == "argument" or not getattr(param, "is_flag", False)
            if param.name in ("install_completion", "show_completion"):
                continue  # Typer's own, shown as flags
            assert bool(param.metavar) == takes_value, (words, param.name, param.metavar)
            assert param.metavar == param.metavar.strip() and "<" not in param.metavar


def test_version_is_the_packages():
    result = invoke("--version")
    assert result.exit_code == 0
    assert result.output == f"minigrad {version('minigrad')}\n"


# ---- minigrad configs ---------------------------------------------------------------------


def at_80_columns(monkeypatch):
    """Undo conftest's wide consoles: these tests are about what an 80-column terminal shows."""
    monkeypatch.setattr(cli.console, "width", 80)
    monkeypatch.setattr(cli.err_console, "width", 80)


def test_configs_keeps_each_description_in_its_own_column_at_80_columns(monkeypatch):
    at_80_columns(monkeypatch)
    output = invoke("configs").output
    names = [c.name for c in bundled.configs()]
    indent = max(map(len, names)) + 2
    listing = output.split("\n\n")[0].splitlines()
    assert len(listing) > len(names)  # the descriptions do wrap at 80 columns...
    for line in listing:  # ...but only under themselves, never back to column 0
        assert len(line.rstrip()) <= 80
        assert line.split(" ")[0] in names or line.startswith(" " * indent) and line.strip(), line
    commands = [line.strip() for line in output.splitlines() if line.startswith("  minigrad ")]
    assert commands == ["minigrad train NAME", "minigrad config show NAME"]


# ---- commands in what the tool prints stay on one line -----------------------------------


def test_train_prints_the_predict_command_on_a_line_of_its_own(make_config, tmp_path, monkeypatch):
    at_80_columns(monkeypatch)
    result = invoke("train", make_config())
    assert result.exit_code == 0, result.output
    assert f"  minigrad predict --run {tmp_path / 'runs' / 'tiny'}\n" in result.output


def test_a_hint_longer_than_the_screen_keeps_its_command_on_one_line(make_config, tmp_path, monkeypatch):
    deep = tmp_path / ("a_folder_with_a_long_name_" * 3)
    path = make_config(train={"out": str(deep)})
    assert invoke("train", path).exit_code == 0
    at_80_columns(monkeypatch)
    result = invoke("train", "--resume", deep / "tiny", "--epochs", "1")
    assert result.exit_code == 2
    assert f"minigrad train --resume {deep / 'tiny'} --epochs 2" in result.output  # no line break inside


# ---- shell completion ---------------------------------------------------------------------


def complete(words):
    """What ``minigrad``'s completion answers for the words typed so far (bash's protocol)."""
    typed = words.split(" ")
    env = {"_MINIGRAD_COMPLETE": "complete_bash", "COMP_WORDS": words, "COMP_CWORD": str(len(typed) - 1)}
    result = CliRunner().invoke(cli.app, [], env=env, prog_name="minigrad")
    assert result.exit_code == 0, result.output
    return result.output.split()


def test_completion_offers_bundled_configs_tasks_and_run_folders(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    (tmp_path / "mine.yaml").write_text("name: x\n")
    (tmp_path / "notes.txt").write_text("")
    for run in ("babi_rnn", "babi_rnn-2"):
        (tmp_path / "runs" / run).mkdir(parents=True)
        (tmp_path / "runs" / run / "config.yaml").write_text("")
    bundled_names = [c.name for c in bundled.configs()]
    assert "babi_rnn" in bundled_names and complete("minigrad train babi_") == bundled_names
    assert complete("minigrad config show babi_r") == ["babi_rnn"]
    assert complete("minigrad train m") == ["mine.yaml"]
    assert complete("minigrad train --task ") == [str(n) for n in range(1, 21)] + ["all"]
    assert complete("minigrad train --task 1") == ["1", "10", "11", "12", "13", "14", "15", "16", "17", "18", "19"]
    assert complete("minigrad predict --run runs/babi") == ["runs/babi_rnn", "runs/babi_rnn-2"]
    assert complete("minigrad train --resume ")[:2] == ["runs/babi_rnn", "runs/babi_rnn-2"]
    assert complete("minigrad train --resume r") == ["runs/"]  # a plain folder: Tab goes on inside it


def test_show_completion_prints_a_bash_script():
    result = CliRunner().invoke(cli.app, ["--show-completion", "bash"], prog_name="minigrad")
    assert result.exit_code == 0
    assert "complete -o default -F _minigrad_completion minigrad" in result.output


def test_paths_complete_from_the_root_and_from_missing_folders():
    assert "/tmp/" in completion.run_folders("/tm")
    assert completion.run_files("no/such/folder/x") == []


@pytest.mark.skipif(shutil.which("bash") is None, reason="needs bash")
def test_tab_in_bash_lists_the_bundled_configs(tmp_path):
    """The real thing: an interactive bash with the script sourced, and `minigrad train babi_<Tab><Tab>`."""
    bin_dir = Path(sys.executable).parent
    if not (bin_dir / "minigrad").exists():
        pytest.skip("minigrad is not installed beside this Python")
    env = {**os.environ, "PATH": f"{bin_dir}{os.pathsep}{os.environ['PATH']}", "PS1": "$ ", "TERM": "dumb",
           "HOME": str(tmp_path)}
    pid, fd = pty.fork()
    if pid == 0:
        os.chdir(tmp_path)
        os.execvpe("bash", ["bash", "--norc", "--noprofile", "-i"], env)
    try:
        os.write(fd, b"source <(minigrad --show-completion bash)\n")
        os.write(fd, b"minigrad train babi_\t\t")
        shown = _read_until(fd, b"babi_memn2n_joint", seconds=60)
    finally:  # never wait on the shell: a full terminal buffer or a stuck prompt would hang the tests
        os.kill(pid, signal.SIGKILL)
        os.waitpid(pid, 0)
        os.close(fd)
    assert b"babi_lstm_qa" in shown and b"babi_rnn" in shown, shown


def _read_until(fd, wanted, seconds):
    shown, end = b"", time.time() + seconds
    while wanted not in shown and time.time() < end:
        if select.select([fd], [], [], 0.1)[0]:
            try:
                shown += os.read(fd, 4096)
            except OSError:
                break
    return shown
