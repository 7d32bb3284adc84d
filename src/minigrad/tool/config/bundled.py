"""The run files that come with minigrad, and finding a run file by name.

They live in the bundled ``configs`` folder (``minigrad.data.bundled.folder``).
"""

from dataclasses import dataclass
from pathlib import Path

from ...data.bundled import folder
from ...errors import ConfigError
from .wording import did_you_mean

CONFIG_SUFFIX = ".yaml"


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
        raise ConfigError(f"no config file or bundled config named {stem!r}{did_you_mean(stem, list(by_name))}",
                          hint)
    raise ConfigError(f"config file not found: {path}", hint)
