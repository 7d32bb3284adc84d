"""What the shell offers on Tab after ``minigrad ...``: run files, tasks and run folders.

``minigrad --install-completion`` installs Typer's completion script for the
shell in use; on Tab the script runs ``minigrad`` again with the words typed
so far, and the parameter being completed calls one of these with the word
begun (``incomplete``). An empty answer lets the shell complete file names
its own way (the bash script is installed with ``complete -o default``).
"""

from pathlib import Path

CONFIG_SUFFIX = ".yaml"
TASKS = [str(task) for task in range(1, 21)] + ["all"]


def run_files(incomplete: str):
    """The bundled configs' names and the ``*.yaml`` files and folders that start with ``incomplete``."""
    from ..data.bundled import folder

    names = sorted(f.stem for f in folder("configs").glob(f"*{CONFIG_SUFFIX}"))
    bundled = [name for name in names if name.startswith(incomplete)] if "/" not in incomplete else []
    return bundled + _paths(incomplete, lambda p: p.is_dir() or p.suffix == CONFIG_SUFFIX)


def tasks(incomplete: str):
    """bAbI task numbers 1-20 and ``all``."""
    return [task for task in TASKS if task.startswith(incomplete)]


def run_folders(incomplete: str):
    """Folders that start with ``incomplete``; from nothing, the run folders under ``runs/`` too."""
    found = _paths(incomplete, Path.is_dir)
    if not incomplete and Path("runs").is_dir():
        found = _paths("runs/", Path.is_dir) + found
    return found


def _paths(incomplete, keep):
    """Entries of the folder ``incomplete`` names, starting with its last part, that ``keep`` accepts.

    A folder that is not a run folder (no ``config.yaml``) ends in '/', so that
    the next Tab goes on inside it.
    """
    parent, slash, start = incomplete.rpartition("/")
    prefix = parent + slash  # "" in the current folder, "/" at the root
    try:
        entries = sorted(Path(prefix or ".").iterdir())
    except OSError:
        return []
    found = []
    for entry in entries:
        if not entry.name.startswith(start) or entry.name.startswith(".") or not keep(entry):
            continue
        ending = "/" if entry.is_dir() and not (entry / "config.yaml").is_file() else ""
        found.append(f"{prefix}{entry.name}{ending}")
    return found
