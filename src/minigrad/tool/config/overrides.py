"""Changing fields of a run file from the command line: ``--set optimizer.lr=0.01``.

A setting is a field path and a value. The path is dotted, with ``[N]`` for
an item of a list (``model.layers[0].dim``); the value is read as YAML, as
the same text in the file would be. Settings go into the file's raw mapping
before it is validated, so a wrong one gets the same message, naming the
field, as the same mistake written in the file.

Any command that loads a run file can take them: ``parse_settings`` turns the
option's texts into ``{path: value}`` and ``config.load_config(path,
settings=...)`` applies them.
"""

import re

from ...errors import ConfigError
from .errors import parse_value
from .wording import short_repr

_NAME = r"[A-Za-z_][A-Za-z0-9_]*"
_INDEX = r"\[([0-9]{1,9})\]"  # ASCII digits (\d takes '٣' too), few enough to be a number
_FIELD_PATH = re.compile(rf"{_NAME}(?:{_INDEX})*(?:\.{_NAME}(?:{_INDEX})*)*")
_STEP = re.compile(rf"({_NAME})|{_INDEX}")
_EXAMPLE = "e.g. --set optimizer.lr=0.01 or --set data.batch_size=50"


def parse_settings(texts, option="--set"):
    """``["optimizer.lr=0.01", "data.batch_size=64"]`` -> ``{"optimizer.lr": 0.01, "data.batch_size": 64}``.

    Raises ``ConfigError`` naming ``option`` and the text for anything that is
    not ``PATH=VALUE``. A path given twice keeps its last value.
    """
    return dict(parse_setting(text, option) for text in texts or ())


def parse_setting(text, option="--set"):
    """(field path, value) of one ``PATH=VALUE`` text."""
    where = f"{option} {short_repr(text)}"
    key, equals, value = text.partition("=")
    key = key.strip()
    if not equals:
        raise ConfigError(f"{where}: expected PATH=VALUE", _EXAMPLE + ".")
    if not key:
        raise ConfigError(f"{where}: the field path before '=' is empty", _EXAMPLE + ".")
    if not _FIELD_PATH.fullmatch(key):
        raise ConfigError(f"{where}: {short_repr(key)} is not a field path",
                          "Write section and field names joined by dots, with [N] for an item of a list: "
                          + _EXAMPLE + ".")
    return key, parse_value(value.strip(), where)


def steps(path):
    """``"model.layers[0].dim"`` -> ``["model", "layers", 0, "dim"]``."""
    return [name if name else int(index) for name, index in _STEP.findall(path)]


def set_field(raw, path, value, source):
    """Set the field at ``path`` in a run file's raw mapping, creating missing sections.

    ``source`` (the file) starts every error message. A list item must
    exist already: ``[N]`` changes an item, it does not add one. A section the
    file leaves out is created, unless the path takes an item of it.
    """
    *parents, leaf = steps(path)
    node, walked = raw, []
    for step, after in zip(parents, [*parents[1:], leaf]):
        _check_can_hold(node, step, walked, path, source)
        if isinstance(step, str) and node.get(step) is None and isinstance(after, str):
            node[step] = {}  # a section the file leaves out
        node = node.get(step) if isinstance(step, str) else node[step]
        walked.append(step)
    _check_can_hold(node, leaf, walked, path, source)
    node[leaf] = value


def _check_can_hold(node, step, walked, path, source):
    """Raise ConfigError unless ``node`` (at ``walked``) has a place for ``step``."""
    field = _join(walked) or "(top level)"
    where = f"{source}: {field}"
    if isinstance(step, int):
        if node is None:
            raise ConfigError(f"{where}: is not set, so {path} has no item [{step}] to set",
                              "[N] changes an item of a list the file already has; it does not add one.")
        if not isinstance(node, list):
            shown = "a mapping" if isinstance(node, dict) else short_repr(node, 40)
            raise ConfigError(f"{where}: is {shown}, not a list, so {path} has no item [{step}] to set",
                              f"[N] picks an item of a list, such as the layers of a model of type: sequential; "
                              f"here set {field} as a whole: --set {field}=VALUE.")
        if step >= len(node):
            raise ConfigError(f"{where}: has {len(node)} item{'s' if len(node) != 1 else ''}, "
                              f"so {path} names none of them", "Items count from [0].")
    elif not isinstance(node, dict):
        raise ConfigError(f"{where}: must be a mapping to set {path}")


def _join(walked):
    """``["model", "layers", 0]`` -> ``"model.layers[0]"``."""
    text = ""
    for step in walked:
        text += f"[{step}]" if isinstance(step, int) else f".{step}" if text else step
    return text
