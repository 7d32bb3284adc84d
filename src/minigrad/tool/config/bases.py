"""Run files that build on each other: ``base: NAME_OR_PATH`` at the top of a run file.

A run file may name another as its base, by the name of a bundled config
(``base: babi_memn2n``) or by a path relative to the file that names it
(``base: ../shared.yaml``); a path that exists wins over a bundled name, as
on the command line. The file's fields are laid over its base's field by
field: mappings merge key by key, at every depth, and a list or a single
value replaces the base's whole. A base may have a base of its own.

The base's ``name`` is not inherited: a run file's runs are named by its own
``name``, or by its file name. Each field remembers the file it was written
in (``Sources``), so a mistake found after merging is reported in the file
where it was made.
"""

import re
from pathlib import Path

from ...errors import ConfigError
from .bundled import CONFIG_SUFFIX, configs
from .errors import read_yaml
from .wording import short_repr
from .yaml_limits import MAX_BASES

BASE_KEY = "base"

# One step back up a field path: ".key" or "[N]" at its end.
_LAST_STEP = re.compile(r"(?:\.[^.\[\]]+|\[\d+\])$")


class Sources:
    """The file each field of a merged run file was written in, by field path (``model.hops``)."""

    def __init__(self, top):
        self.top = Path(top)
        self._by_path = {}

    def record(self, path, file):
        self._by_path[path] = file

    def forget_below(self, path):
        """A value replaced whole takes the places of everything its old value held."""
        for known in [p for p in self._by_path if p.startswith(path + ".") or p.startswith(path + "[")]:
            del self._by_path[known]

    def file_of(self, path):
        """The file that wrote ``path``, or the mapping holding it; the top file for a field none wrote."""
        while path:
            if path in self._by_path:
                return self._by_path[path]
            shorter = _LAST_STEP.sub("", path)
            if shorter == path:
                break
            path = shorter
        return self.top


def read_run_file(path):
    """The raw mapping of a run file with its bases merged in, and the ``Sources`` of its fields.

    Raises ``ConfigError`` for a base that cannot be found, naming the file and
    its ``base`` field, and for run files whose bases come back round to
    themselves, naming every file of the circle.
    """
    chain = _chain(Path(path))
    sources = Sources(path)
    merged = {}
    for depth, (file, raw) in enumerate(reversed(chain)):
        if depth < len(chain) - 1:
            raw.pop("name", None)  # a base's name names its own runs, not these
        _merge(merged, raw, "", file, sources)
    return merged, sources


def _chain(path):
    """``[(file, raw mapping)]`` from ``path`` down to the last base, without the ``base`` keys."""
    chain, seen = [], []
    file = path
    while file is not None:
        if _same_file(file, seen):
            circle = " -> ".join(str(f) for f in [*seen[_index_of(file, seen):], file])
            raise ConfigError(f"{file}: base: run files that are each other's base: {circle}",
                              "Remove the base field from one of them.")
        if len(seen) == MAX_BASES:
            raise ConfigError(f"{path}: base: more than {MAX_BASES} run files stacked on each other",
                              "Merge some of them into one file.")
        seen.append(file)
        raw = read_yaml(file)
        base = raw.pop(BASE_KEY, None)
        chain.append((file, raw))
        file = None if base is None else find_base(base, file)
    return chain


def find_base(base, file):
    """The run file that ``base: ...`` in ``file`` names: a path beside ``file``, or a bundled config."""
    if not isinstance(base, str) or not base.strip():
        raise ConfigError(f"{file}: base: expected the name of a bundled config or a path to a run file, "
                          f"got {short_repr(base)}", "e.g. base: babi_memn2n, or base: my_runs/common.yaml.")
    beside = Path(file).parent / base
    if beside.is_file():
        return beside
    by_name = {c.name: c.path for c in configs()}
    stem = base.removesuffix(CONFIG_SUFFIX)
    if Path(base).parent == Path(".") and stem in by_name:
        return by_name[stem]
    raise ConfigError(f"{file}: base: no run file {beside} and no bundled config named {stem!r}",
                      f"Give a path relative to {file}, or one of: {', '.join(by_name) or '(none found)'}.")


def _merge(into, raw, prefix, file, sources):
    """Lay ``raw`` (written in ``file``) over ``into``: mappings merge, anything else replaces."""
    for key, value in raw.items():
        path = f"{prefix}.{key}" if prefix else str(key)
        if isinstance(value, dict) and isinstance(into.get(key), dict):
            _merge(into[key], value, path, file, sources)
            continue
        sources.forget_below(path)
        into[key] = _copy(value)
        sources.record(path, file)


def _copy(value):
    """A mapping copied deep enough that merging a later file into it never changes the one read."""
    return {k: _copy(v) for k, v in value.items()} if isinstance(value, dict) else value


def _same_file(file, seen):
    return _index_of(file, seen) is not None


def _index_of(file, seen):
    resolved = [Path(f).resolve() for f in seen]
    target = Path(file).resolve()
    return resolved.index(target) if target in resolved else None
