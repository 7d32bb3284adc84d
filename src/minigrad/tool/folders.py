"""Making run folders, and the ``latest`` link beside them.

Two ``minigrad train`` started together into one ``--out`` each get a folder
of their own: a name is taken by creating it, never by looking first. The
``latest`` link is only ever made or replaced where nothing or a link
stands: a file or folder a user named ``latest`` is left alone.
"""

import os
import uuid
from pathlib import Path

from ..errors import CheckpointError, ConfigError
from ..serialization import TEMPORARY_PREFIX

LATEST = "latest"
SUITE_FILE = "suite.json"  # marks a suite folder, whose runs are the folders inside it


def new_run_dir(out, name):
    """Create ``out/name`` (or ``name-2``, ``name-3``... if taken) and point ``out/latest`` at it."""
    out = Path(out)
    try:
        out.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise _cannot_write(out, exc) from None
    for n in range(1, 100_000):
        run_dir = out / (name if n == 1 else f"{name}-{n}")
        if run_dir.name == LATEST:
            continue
        try:
            run_dir.mkdir()  # atomic: of two processes asking for one name, one gets FileExistsError
        except FileExistsError:
            continue
        except OSError as exc:
            raise _cannot_write(run_dir, exc) from None
        point_latest(run_dir)
        return run_dir
    raise ConfigError(f"{out} already holds {name} and 99,999 numbered copies of it.",
                      hint="Give the run another name (--set name=...) or another --out.")


def point_latest(run_dir):
    """Make ``<parent>/latest`` a relative symlink to ``run_dir``, replaced atomically.

    Where ``latest`` is something else than a link (a user's own file or
    folder), it is kept and no link is made.
    """
    run_dir = Path(run_dir).resolve()  # given "runs/latest" itself, link to its target, not to itself
    link = run_dir.parent / LATEST
    if os.path.lexists(link) and not link.is_symlink():
        return
    temporary = run_dir.parent / f".{LATEST}.{uuid.uuid4().hex}"  # a name no other process uses
    try:
        os.symlink(run_dir.name, temporary)
        os.replace(temporary, link)
    except OSError:
        if os.path.lexists(temporary):
            os.unlink(temporary)
        # The run itself is fine without the link (a read-only folder, a file system without links).


def run_folder(path):
    """``path`` as an existing run folder, or CheckpointError saying what to pass instead."""
    path = Path(path)
    if not path.is_dir():
        hint = "Train one first: minigrad train babi_rnn (a bundled run file, by name)" if path.name == LATEST else \
            "Pass the folder of a run, e.g. runs/babi_rnn."
        raise CheckpointError(f"no run folder at {path}.", hint=hint)
    if (path / SUITE_FILE).is_file():
        raise _suite_not_run(path)
    return path


def _suite_not_run(path):
    """What to give instead of a suite folder: one of its runs, or the commands that read a whole suite."""
    runs = sorted(p.name for p in path.iterdir() if (p / "config.yaml").is_file() and not p.is_symlink())
    inside = f"its runs are the folders inside it ({runs[0]}, ...)" if runs else "it has no runs yet"
    example = f"Give one of its runs instead, e.g. {path / runs[0]}; " if runs else ""
    return CheckpointError(f"{path} is a suite folder (minigrad suite), not a run folder: {inside}.",
                           hint=f"{example}minigrad runs {path} lists them, and minigrad plot {path} draws the "
                                f"suite's errors (its table: {path / 'summary.md'}).")


def remove_temporaries(run_dir):
    """Delete what writes killed half-way left in ``run_dir``; call it only while holding the folder."""
    for entry in Path(run_dir).iterdir():
        if entry.name.startswith(TEMPORARY_PREFIX) and entry.is_file() and not entry.is_symlink():
            entry.unlink(missing_ok=True)


def _cannot_write(path, exc):
    # mkdir(exist_ok=True) says "File exists" of a file, a device or a link that leads nowhere
    reason = "it is not a folder" if isinstance(exc, FileExistsError) else exc.strerror or type(exc).__name__
    return ConfigError(f"cannot create the run folder {path}: {reason}.",
                       hint="Pick a writable folder with --out (or train.out), e.g. --out runs.")
