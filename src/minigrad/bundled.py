"""The run files and bAbI tasks that come with minigrad, and finding a run file by name.

The repository keeps them at its top, in ``configs/`` and ``data/``; an
installed package carries the same folders as ``minigrad/_configs`` and
``minigrad/_data`` (see ``[tool.setuptools.package-dir]`` in pyproject.toml).
A source checkout or an editable install has only the top-level folders, an
installed wheel only the packaged ones, so each folder is looked for in both.
"""

from dataclasses import dataclass
from pathlib import Path

from .errors import ConfigError

_PACKAGE = Path(__file__).resolve().parent
_CHECKOUT = _PACKAGE.parents[1]  # src/minigrad -> the repository root
_FOLDERS = {"configs": "_configs", "data": "_data"}  # top-level name -> name inside the package
CONFIG_SUFFIX = ".yaml"


def folder(name):
    """The bundled folder ``name`` (``"configs"`` or ``"data"``): the package's copy, else the checkout's."""
    packaged = _PACKAGE / _FOLDERS[name]
    return packaged if packaged.is_dir() else _CHECKOUT / name


@dataclass(frozen=True)
class BundledConfig:
    """A run file that comes with minigrad: its name, path and one line on what it trains."""

    name: str
    path: Path
    description: str


def configs():
    """The bundled run files, sorted by name."""
    files = sorted(folder("configs").glob(f"*{CONFIG_SUFFIX}"))
    return [BundledConfig(f.stem, f, _leading_comment(f)) for f in files]


def _leading_comment(path):
    """The comment block at the top of a run file, as one line; it says what the file trains."""
    lines = []
    for line in path.read_text(encoding="utf-8").splitlines():
        if not line.startswith("#"):
            break
        lines.append(line.lstrip("#").strip())
    return " ".join(word for word in lines if word) or "(no description)"


def find_config(name_or_path):
    """The run file a command line names: an existing file first, else a bundled config's name.

    ``babi_rnn`` and ``babi_rnn.yaml`` both name the bundled file; anything
    else that is not a file is an error that lists the bundled names.
    """
    path = Path(name_or_path)
    if path.is_file():
        return path
    by_name = {c.name: c.path for c in configs()}
    stem = path.name.removesuffix(CONFIG_SUFFIX)
    bare = path.parent == Path(".")  # a name, not a path into some folder
    if bare and stem in by_name:
        return by_name[stem]
    hint = (f"Give the path of a YAML run file, e.g. configs/babi_rnn.yaml, or the name of a bundled one: "
            f"{', '.join(by_name) or '(none found)'} (minigrad configs describes them).")
    if bare and path.suffix == "":
        from .config_errors import did_you_mean  # here: minigrad.data uses this module without YAML

        raise ConfigError(f"no config file or bundled config named {stem!r}{did_you_mean(stem, list(by_name))}",
                          hint)
    raise ConfigError(f"config file not found: {path}", hint)
