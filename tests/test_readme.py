"""The README is tested: its commands run, its printouts match, its list of options is complete.

Every command of a ```bash block runs in order, in a fresh folder laid out as
a clone of the repository (its ``configs/`` and ``data/``), each block from
that folder; ``.venv/bin/`` and ``minigrad`` are this interpreter's. A
trailing comment that starts with ``slow`` marks a command that takes minutes
(or reads what one made): it runs only with ``MINIGRAD_README_SLOW=1``. One
that starts with ``not run`` needs what no test has (the network, a cluster).
A plain ``` block that starts with ``$ COMMAND`` is a printout: its lines, up
to a line ``...`` (indented or not), must be what the command prints now.
"""

import os
import re
import shutil
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path

import click
import pytest
import typer

from minigrad.tool import cli

ROOT = Path(__file__).resolve().parents[1]
README = ROOT / "README.md"
SLOW = os.environ.get("MINIGRAD_README_SLOW") == "1"
TIMEOUT_S = 3600 if SLOW else 120  # the slowest README command, the 20-task joint run, takes half an hour

# Commands the README shows that fail when copied as they stand, each with why. An entry that
# starts to pass fails the test too, so that it is taken off this list.
EXPECTED_TO_FAIL = {}  # README command -> why it cannot work as copied (none today)


@dataclass(frozen=True)
class Command:
    text: str
    line: int  # in the README, for the test's name
    block: int
    mark: str  # "", "slow" or "not run"


def commands(text):
    """Every command of the README's ```bash blocks, with its block and its mark."""
    found, block, inside, pending = [], 0, False, ""
    for number, line in enumerate(text.splitlines(), 1):
        if line.startswith("```"):
            inside, block = line == "```bash", block + (line == "```bash")
            continue
        if not inside or not line.strip():
            continue
        pending += line
        if pending.endswith("\\"):  # a command continued on the next line
            pending = pending[:-1]
            continue
        command, comment = split_comment(pending)
        mark = next((m for m in ("slow", "not run") if comment.startswith(m)), "")
        if command:  # not a line of comment alone
            found.append(Command(" ".join(command.split()), number, block, mark))
        pending = ""
    return found


def split_comment(line):
    """``(command, comment)``: the comment is what follows a ``#`` outside quotes after a space."""
    quote = None
    for at, char in enumerate(line):
        if quote:
            quote = None if char == quote else quote
        elif char in "'\"":
            quote = char
        elif char == "#" and (at == 0 or line[at - 1].isspace()):
            return line[:at].strip(), line[at + 1:].strip()
    return line.strip(), ""


def printouts(text):
    """``(command, expected lines)`` of every plain ``` block that starts with ``$ ``."""
    found, kind, lines = [], None, []  # kind: the open block's language ("" for plain), None outside
    for line in text.splitlines():
        if not line.startswith("```"):
            lines.append(line)
        elif kind is None:
            kind, lines = line[3:], []
        else:
            if kind == "" and lines and lines[0].startswith("$ "):
                cut = [at for at, shown in enumerate(lines) if shown.strip() == "..."]  # the rest left out
                found.append((lines[0][2:], lines[1:cut[0] if cut else None]))
            kind = None
    return found


# ---- a clone of the repository, and running a command in it -----------------------------


@pytest.fixture(scope="module")
def clone(tmp_path_factory):
    return make_clone(tmp_path_factory.mktemp("readme"))


def make_clone(folder):
    """A folder as a new user's clone has it: configs/, examples/, data/ and scripts/ (linked: nothing writes
    there), .venv."""
    root = folder / "minigrad"
    root.mkdir()
    for copied in ("configs", "examples"):
        shutil.copytree(ROOT / copied, root / copied)
    for shared in ("data", "scripts"):
        (root / shared).symlink_to(ROOT / shared)
    (root / ".venv").symlink_to(Path(sys.prefix))  # .venv/bin/minigrad is this Python's
    (folder / "tmp").mkdir()
    return root


def run(command, cwd, clone_root):
    """Run ``command`` with bash in ``cwd``; return (exit code, output, the folder it ended in)."""
    env = {**os.environ, "PATH": f"{Path(sys.executable).parent}{os.pathsep}{os.environ['PATH']}",
           "OMP_NUM_THREADS": "1", "COLUMNS": "200", "TMPDIR": str(clone_root.parent / "tmp")}
    env.pop("MINIGRAD_README_SLOW", None)
    script = f'{command}\nstatus=$?\npwd > "{clone_root.parent}/cwd"\nexit $status'
    try:
        done = subprocess.run(["bash", "-o", "pipefail", "-c", script], cwd=cwd, env=env, capture_output=True,
                              text=True, timeout=TIMEOUT_S)
    except subprocess.TimeoutExpired:
        pytest.fail(f"`{command}` ran past {TIMEOUT_S} s: mark it `# slow` in the README if it is meant to")
    return done.returncode, done.stdout + done.stderr, Path((clone_root.parent / "cwd").read_text().strip())


def run_in_order(chosen, clone_root, where):
    """Run one README command where the previous one of its block left off; check its exit code."""
    command = chosen
    cwd = where.get(command.block, clone_root)  # each block starts at the repository's root
    code, output, where[command.block] = run(command.text, cwd, clone_root)
    reason = EXPECTED_TO_FAIL.get(command.text)
    if reason is not None:
        assert code != 0, f"README line {command.line} now works: take it off EXPECTED_TO_FAIL\n{output}"
        pytest.xfail(reason)
    assert code == 0, f"README line {command.line}: `{command.text}` exited with {code}:\n{output}"


TEXT = README.read_text(encoding="utf-8")
ALL = commands(TEXT)


# ---- the tests ----------------------------------------------------------------------------


@pytest.fixture(scope="module")
def block_folders():
    return {}


@pytest.mark.parametrize("command", [c for c in ALL if not c.mark], ids=lambda c: f"L{c.line}:{c.text[:50]}")
def test_readme_command(command, clone, block_folders):
    run_in_order(command, clone, block_folders)


@pytest.mark.skipif(not SLOW, reason="slow: set MINIGRAD_README_SLOW=1 to run the README's slow commands too")
def test_readme_commands_slow_ones_too(tmp_path):
    clone_root, where, failed = make_clone(tmp_path), {}, []
    for command in [c for c in ALL if c.mark != "not run"]:
        try:
            run_in_order(command, clone_root, where)
        except pytest.xfail.Exception:
            continue
        except (AssertionError, pytest.fail.Exception) as error:
            failed.append(str(error))
    assert not failed, "\n\n".join(failed)


@pytest.mark.parametrize("command, expected", printouts(TEXT), ids=lambda x: x if isinstance(x, str) else "")
def test_readme_printout(command, expected, tmp_path):
    code, output, _ = run(command, make_clone(tmp_path), tmp_path / "minigrad")
    assert code == 0, output
    lines = [line.rstrip() for line in output.splitlines()]
    assert lines[:len(expected)] == [line.rstrip() for line in expected]


def test_every_expected_failure_is_a_command_of_the_readme():
    assert set(EXPECTED_TO_FAIL) <= {c.text for c in ALL}, "an entry of EXPECTED_TO_FAIL names no README command"


def test_readme_marks_slow_and_unrunnable_commands_only_by_the_convention():
    marks = {c.mark for c in ALL}
    assert marks == {"", "slow", "not run"}
    assert all(c.text and not c.text.startswith("#") for c in ALL)
    assert len([c for c in ALL if not c.mark]) >= 15  # most of the page runs in every test run


def test_the_command_parser():
    text = ('```bash\nminigrad a --x "1 # 2"   # slow: 3 min\nminigrad b \\\n    --y 2\n```\n```yaml\nnot: this\n```\n'
            '```bash\n# only a comment\nminigrad c  # not run: needs MPI\n```\n')
    assert commands(text) == [Command('minigrad a --x "1 # 2"', 2, 1, "slow"), Command("minigrad b --y 2", 4, 1, ""),
                              Command("minigrad c", 11, 2, "not run")]


# ---- the list of every command and option -----------------------------------------------


def listed_options():
    """``{command usage: {option spans}}`` from the README's bullets under "Every command and option"."""
    section = TEXT.split("### Every command and option", 1)[1].split("\n### ", 1)[0]
    listed = {}
    for bullet in re.split(r"\n- ", section.split("\n- ", 1)[1].split("\n\n", 1)[0]):
        spans = re.findall(r"`([^`]+)`", bullet)
        listed[spans[0]] = {span for span in spans[1:] if span.startswith("-")}
    return listed


def actual_options(command=None, words=("minigrad",)):
    """The same, from the commands themselves: usage with arguments, and each option as help shows it."""
    command = command or typer.main.get_command(cli.app)
    ctx = click.Context(command, info_name=words[-1])
    params = [p for p in command.get_params(ctx) if p.name != "help"]
    found = {}
    if not getattr(command, "commands", None) or any(p.param_type_name == "option" for p in params):
        arguments = [argument_usage(p) for p in params if p.param_type_name == "argument"]
        found[" ".join([*words, *arguments])] = {option_usage(p) for p in params if p.param_type_name == "option"}
    for name, sub in getattr(command, "commands", {}).items():
        found.update(actual_options(sub, (*words, name)))
    return found


def argument_usage(param):
    name = param.metavar + ("..." if param.nargs != 1 else "")
    return name if param.required else f"[{name}]"


def option_usage(param):
    names = ", ".join(sorted(param.opts, key=len)) + "".join(f"/{o}" for o in param.secondary_opts)
    return f"{names} {param.metavar}" if param.metavar else names


def test_readme_lists_every_command_and_option():
    assert listed_options() == actual_options()
    assert "--json" in listed_options()["minigrad predict"]
    assert "--seed N" in listed_options()["minigrad gradcheck"]
