"""Limits on what a YAML text may ask for, checked before PyYAML builds anything from it.

PyYAML builds nested values by recursion, so a file nested a few hundred
levels deep ends in a RecursionError; it shares aliased values, so a few
nested aliases (a "billion laughs" file) make a value of billions of items
that every later step (validation, error messages) walks in full; and it
reads a file of any size. ``yaml.parse`` yields the file's events one by one,
without recursion and without building anything, so the depth and the size
once aliases are expanded can be counted from them first.
"""

import yaml

from ...errors import ConfigError

MAX_RUN_FILE_BYTES = 1 << 20  # a run file is a page of settings; the bundled ones are under 3 KiB
MAX_DEPTH = 32  # nesting of mappings and lists; the deepest run file needs 4
MAX_VALUES = 100_000  # values once every alias is expanded; a run file needs a few dozen
MAX_BASES = 8  # run files stacked by ``base:``, the top one included; the bundled ones stack 2

# libyaml's parser where PyYAML has it: the same events, many times faster.
_PARSER = getattr(yaml, "CSafeLoader", yaml.SafeLoader)


def _hint(what, about=""):
    """What to do: a run file needs a few levels of sections and a few dozen values."""
    check = "the file" if what == "the file" else "the --set text"
    return f"A run file needs a few levels of sections and a few dozen values; check {check}{about}."


def read_limited(path):
    """The bytes of ``path``, refusing a file over ``MAX_RUN_FILE_BYTES`` after reading one byte more."""
    with open(path, "rb") as file:
        data = file.read(MAX_RUN_FILE_BYTES + 1)
    if len(data) > MAX_RUN_FILE_BYTES:
        raise ConfigError(f"{path}: the file is over {MAX_RUN_FILE_BYTES // (1 << 20)} MiB, too large for a run file",
                          _hint("the file", ": is it the right file?"))
    return data


def check_text(text, where, what="the file"):
    """Refuse a YAML text that is too large, nested too deep or too large once its aliases are expanded.

    ``where`` starts every message (the file, or ``--set KEY``). A text that
    is not valid YAML passes: ``yaml.load`` then says what is wrong, with the line.
    """
    if len(text) > MAX_RUN_FILE_BYTES:
        raise ConfigError(f"{where}: {what} is over {MAX_RUN_FILE_BYTES // (1 << 20)} MiB of text",
                          _hint(what))
    try:
        _count(yaml.parse(text, Loader=_PARSER), where, what)
    except yaml.YAMLError as e:
        if "maximum nesting depth" in str(e):  # libyaml's own limit (1000), met looking ahead of the events
            raise ConfigError(f"{where}: {what} nests values more than {MAX_DEPTH} deep", _hint(what)) from None


def _count(events, where, what):
    """Count every value as if each alias were written out; a mapping or list counts one, and its items.

    ``open_nodes`` holds, for each mapping or list not yet closed, its anchor
    and its size so far; ``sizes`` the size of each anchored value, which an
    alias of it adds.
    """
    open_nodes, sizes, total = [], {}, 0
    for event in events:
        if isinstance(event, (yaml.MappingStartEvent, yaml.SequenceStartEvent)):
            open_nodes.append([event.anchor, 1])
            if len(open_nodes) > MAX_DEPTH:
                raise ConfigError(f"{where}: {what} nests values more than {MAX_DEPTH} deep", _hint(what))
            size, total = 0, total + 1
        elif isinstance(event, (yaml.MappingEndEvent, yaml.SequenceEndEvent)):
            anchor, size = open_nodes.pop()
            if anchor is not None:
                sizes[anchor] = size
        elif isinstance(event, yaml.ScalarEvent):
            size, total = 1, total + 1
            if event.anchor is not None:
                sizes[event.anchor] = 1
        elif isinstance(event, yaml.AliasEvent):
            _check_not_inside(event.anchor, open_nodes, where, what)
            size = sizes.get(event.anchor, 0)
            total += size
        else:
            continue
        if open_nodes:
            open_nodes[-1][1] += size
        if total > MAX_VALUES:
            raise ConfigError(f"{where}: {what} holds more than {MAX_VALUES:,} values once its aliases are expanded",
                              _hint(what, "'s anchors (&) and aliases (*)"))


def _check_not_inside(anchor, open_nodes, where, what):
    """An alias inside the value it names would make a value that contains itself."""
    if any(open_anchor == anchor for open_anchor, _ in open_nodes):
        raise ConfigError(f"{where}: {what} has an alias (*{anchor}) inside the value it names",
                          _hint(what, "'s anchors (&) and aliases (*)"))
