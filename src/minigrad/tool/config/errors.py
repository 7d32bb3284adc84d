"""Reading a YAML run file, and turning what is wrong with it into one clear message.

``config.load_config`` uses these; each problem becomes a ``ConfigError``
that names the file and the field (``model.layers[2].type``), says what was
expected and, for a misspelt name, suggests the closest valid one.
"""

import re
import types
from pathlib import Path
from typing import Annotated, Union, get_args, get_origin

import yaml
from pydantic import BaseModel

from ...errors import ConfigError
from .wording import closest, did_you_mean, kind_of, short_repr, short_text
from .yaml_limits import check_text, read_limited

# ---- reading YAML ------------------------------------------------------------------------


class _Loader(getattr(yaml, "CSafeLoader", yaml.SafeLoader)):
    """Safe YAML with two fixes for hand-written files: ``1e-3`` is a number
    (YAML 1.1 reads it as text unless written ``1.0e-3``), and a key given
    twice is an error instead of the last one silently winning. libyaml's
    parser where PyYAML has it, as the fastest."""


_Loader.add_implicit_resolver("tag:yaml.org,2002:float",
                              re.compile(r"^[-+]?(?:[0-9]+\.?[0-9]*|\.[0-9]+)[eE][-+]?[0-9]+$"),
                              list("-+0123456789."))


def _construct_mapping(loader, node, deep=False):
    seen = set()
    for key_node, _ in node.value:
        if isinstance(key_node, yaml.ScalarNode) and key_node.tag != "tag:yaml.org,2002:merge":
            if key_node.value in seen:
                raise yaml.constructor.ConstructorError(
                    None, None, f"the key {key_node.value!r} appears twice", key_node.start_mark)
            seen.add(key_node.value)
    return loader.construct_mapping(node, deep=deep)


_Loader.add_constructor(yaml.resolver.BaseResolver.DEFAULT_MAPPING_TAG, _construct_mapping)


def read_yaml(path):
    """The top-level mapping of a YAML file; any problem raises ``ConfigError``."""
    try:
        text = read_limited(path).decode("utf-8")
    except FileNotFoundError:
        raise ConfigError(f"config file not found: {path}", "Give the path of a YAML run file, or the name of "
                          "a bundled one (minigrad configs lists them).") from None
    except (OSError, UnicodeDecodeError) as e:
        reason = getattr(e, "strerror", None) or e
        raise ConfigError(f"cannot read config file {path}: {reason}") from None
    raw = _load(text, path, "not valid YAML", "the file")
    if raw is None:
        raise ConfigError(f"{path}: the file is empty", "A run file needs data, model and optimizer sections; "
                          "minigrad configs shows where the bundled ones are.")
    if not isinstance(raw, dict):
        raise ConfigError(f"{path}: expected a mapping of sections (name, device, data, model, "
                          f"loss, optimizer, train) at the top level, got {kind_of(raw)}")
    return raw


def parse_value(text, where):
    """A value given on the command line, read as the same text in a run file would be:
    ``0.01`` and ``1e-3`` are numbers, ``64`` an integer, ``null`` nothing, ``qa2`` text."""
    return _load(text, where, "the value is not valid YAML", "the value")


def _load(text, where, invalid, what):
    """``yaml.load`` of a run file's or a value's text, once its size is checked; ConfigError if it fails."""
    check_text(text, where, what)
    try:
        return yaml.load(text, Loader=_Loader)
    except yaml.MarkedYAMLError as e:
        mark = e.problem_mark or e.context_mark
        at = f"{where}:{mark.line + 1}" if mark and what == "the file" else where
        raise ConfigError(f"{at}: {invalid}: {e.problem or e.context}", _QUOTE if what == "the value" else None) from None
    except (yaml.YAMLError, ValueError) as e:  # ValueError: a date such as 2024-13-45, an integer of 5000 digits
        reason = short_text((str(e).splitlines() or [""])[0])  # a reader's error adds lines quoting the text
        raise ConfigError(f"{where}: {invalid}: {reason}", _QUOTE if what == "the value" else None) from None
    except RecursionError:  # not expected after check_text; never a traceback all the same
        raise ConfigError(f"{where}: {what} nests values too deep to read") from None


_QUOTE = "Write the value as in a run file; put text with YAML's special characters in quotes."


# ---- explaining validation errors -------------------------------------------------------

MAX_PROBLEMS_SHOWN = 10  # the problems of one run file that a message lists; any beyond are counted


def describe_errors(errors, root, overridden=None):
    """A line for each problem in pydantic's ``ValidationError.errors()``, and a hint.

    Args:
        errors: ``ValidationError.errors()`` from validating against ``root``.
        root: the pydantic model validated (``RunConfig``).
        overridden: ``{dotted path: what set it}`` for values that came from
            outside the file (``"--task"``, ``"--set"``); a path without
            list indices covers every item.
    Returns:
        ``(message, hint)``: a line a problem (``  and model.cell: ...`` after the
        first), up to ``MAX_PROBLEMS_SHOWN``; their hints, one a line, or None.

    An unknown key comes first, since a misspelt key also makes the right one
    look missing. A value that fails every member of a union gives one error
    per member; those share a field path and are reported together.
    """
    errors = _in_order(errors, root)
    at_path = {}
    for e in errors:
        at_path.setdefault(_walk(e["loc"], root)[0], []).append(e)
    shown = [_describe(group, root, overridden or {}) for group in list(at_path.values())[:MAX_PROBLEMS_SHOWN]]
    lines = [shown[0][0]] + [f"  and {message}" for message, _ in shown[1:]]
    hidden = len(at_path) - len(shown)
    if hidden:
        lines.append(f"  and {hidden} more problem{'s' if hidden > 1 else ''}")
    hints = dict.fromkeys(hint for _, hint in shown if hint)
    return "\n".join(lines), "\n".join(hints) or None


def _describe(errors, root, overridden):
    """(message, hint) for the errors at one field path, naming the option that set it if one did."""
    path, section, annotation = _walk(errors[0]["loc"], root)
    message, hint = _explain(errors, path, section, annotation)
    origin = overridden.get(path) or overridden.get(re.sub(r"\[\d+\]", "", path))
    return (f"{message} (set by {origin})" if origin else message), hint


def first_error_path(errors, root):
    """The field path of the problem ``describe_errors`` describes (``model.layers[2]``)."""
    return _walk(_in_order(errors, root)[0]["loc"], root)[0]


def _in_order(errors, root):
    """An unknown key first, since a misspelt key also makes the right one look missing."""
    return sorted(_without_typo_echoes(errors, root), key=lambda e: e["type"] != "extra_forbidden")


def _without_typo_echoes(errors, root):
    """Drop "missing" errors for keys that were only misspelt; the unknown key's error says so."""
    misspelt = set()
    for e in errors:
        if e["type"] == "extra_forbidden":
            section = _walk(e["loc"], root)[1]
            close = closest(str(e["loc"][-1]), list(section.model_fields) if section else [])
            if close:
                misspelt.add(e["loc"][:-1] + (close,))
    return [e for e in errors if not (e["type"] == "missing" and e["loc"] in misspelt)]


def _explain(errors, path, section, annotation):
    """Message and hint for the errors at one field path."""
    e = errors[0]
    kind, got = e["type"], e.get("input")
    if kind == "extra_forbidden":
        key, names = str(e["loc"][-1]), list(section.model_fields) if section else []
        where = path.rpartition(".")[0] or "the top level"  # several problems: each hint says where
        return (f"{path}: unknown key{did_you_mean(key, names)}",
                f"Valid keys in {where}: {', '.join(names)}." if names else None)
    if kind in ("union_tag_invalid", "union_tag_not_found"):
        return _explain_type_tag(e, path, annotation)
    if kind == "missing":
        return f"{path}: missing; this field is required", None
    if kind in ("model_type", "model_attributes_type", "dict_type"):
        return f"{path}: expected a mapping of keys to values, got {kind_of(got)}", None
    if kind == "value_error":  # our own validators' messages say it all
        return f"{path}: {_reason(e)}", None
    over = [err for err in errors if err["type"] in ("less_than_equal", "too_long")]
    if over:  # of a union (n_outputs: a number or vocab), the bound says most
        return _explain_limit(over[0], path)
    if kind == "literal_error" and len(errors) == 1:
        choices = re.findall(r"'([^']*)'", e["ctx"]["expected"])
        expected = e["ctx"]["expected"]
        return f"{path}: expected {expected}, got {short_repr(got)}{did_you_mean(got, choices)}", None
    reasons = " or ".join(dict.fromkeys(_reason(err) for err in errors))
    return f"{path}: {reasons}, got {_show(got)}", None


def _explain_limit(error, path):
    """A number above its field's maximum, or a list with too many items."""
    if error["type"] == "too_long":
        got, limit = f"{error['ctx']['actual_length']:,} items", f"{error['ctx']['max_length']:,} items"
    else:
        got, limit = short_repr(error.get("input")), f"{error['ctx']['le']:,}"
    return (f"{path}: {got} is over the limit of {limit}",
            "Every size and count of a run file has a limit that one machine can build; "
            "the README's run-file section lists them.")


def _explain_type_tag(e, path, annotation):
    """An unknown or missing ``type`` of a layer or model: list the types there are."""
    tags = [_tag(m) for m in _members(annotation) if _tag(m)]
    what = "layer" if path.endswith("]") else "model"
    if not isinstance(e.get("input"), dict):
        return f"{path}: expected a mapping with a 'type' key, got {kind_of(e.get('input'))}", None
    tag = e.get("ctx", {}).get("tag")
    if tag is None:
        return f"{path}.type: missing; every {what} needs one", f"Types: {', '.join(tags)}."
    return (f"{path}.type: unknown {what} type {tag!r}{did_you_mean(tag, tags)}",
            f"Types: {', '.join(tags)}.")


def _reason(error):
    """Pydantic's 'Input should be ...' as 'should be ...'; our own checks' text as is."""
    msg = error["msg"]
    if msg.startswith("Value error, "):
        return msg[len("Value error, "):]
    return msg.replace("Input should", "should", 1)


def _show(value):
    if isinstance(value, (dict, list)):
        return kind_of(value)
    return short_repr(value, 40)


# ---- following an error location through the schema ----------------------------------


def _walk(loc, root):
    """Turn pydantic's location tuple into ``model.layers[2].type`` (or ``model.init_args.foo``).

    Pydantic puts a discriminated union's tag (``'recurrent'``, ``'Linear'``) and a plain union's
    member label (``'int'``) into the location; those are not keys the user wrote, so they are
    dropped. Also returns the section class holding the last key and the annotation found there.
    """
    annotation, section, path = root, None, ""
    for key in loc:
        members = _members(annotation)
        if isinstance(key, int):
            lists = [m for m in members if get_origin(m) is list]
            annotation, path = (get_args(lists[0])[0] if lists else None), f"{path}[{key}]"
            continue
        tagged = [m for m in members if _tag(m) == key]
        models = tagged or [m for m in members if _is_section(m)]
        if tagged or not models:  # a tag or a member label is no key, but a free mapping's (init_args.foo) is
            annotation = tagged[0] if tagged else None
            path += f".{key}" if any(get_origin(m) is dict for m in members) else ""
            continue
        section = models[0]
        field = section.model_fields.get(key)
        annotation, path = (field.annotation if field else None), f"{path}.{key}" if path else key
    return path or "(top level)", section, annotation


def _members(annotation):
    """The alternatives of a (possibly Annotated or Optional) type."""
    while get_origin(annotation) is Annotated:
        annotation = get_args(annotation)[0]
    if get_origin(annotation) in (Union, types.UnionType):
        return [_members(a)[0] for a in get_args(annotation)]
    return [annotation]


def _is_section(annotation):
    return isinstance(annotation, type) and issubclass(annotation, BaseModel)


def _tag(annotation):
    """The ``type`` value that selects a section in a discriminated union, if it has one."""
    if _is_section(annotation) and "type" in annotation.model_fields:
        return get_args(annotation.model_fields["type"].annotation)[0]
    return None
