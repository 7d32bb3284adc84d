"""A run file's own model class: ``model: {class_path: my_model.py:Net, init_args: {...}}``.

``class_path`` names a ``minigrad.nn.Module`` subclass, as ``FILE.py:Class``
(the file found beside the run file, else from the current folder) or
``package.module:Class`` (imported as Python imports it). The class is
constructed as ``Class(**init_args, vocab_size=V, mode=M)``, where
``vocab_size`` (the data's vocabulary, ``<pad>`` and ``<unk>`` included) and
``mode`` (``lm``, ``qa`` or ``memory``) are passed only if its ``__init__``
names them or takes ``**kwargs``. Its ``forward`` takes the batch the
built-in models of that mode take: ``(ids)`` in lm, ``(stories, questions)``
in qa, ``(memories, questions, times, mask)`` in memory, and returns scores
over the vocabulary: (batch, steps, vocab) in lm, (batch, vocab) otherwise.

Everything is checked while the run file is read: the file or module, the
class, and ``init_args`` against the signature, each problem one message
naming the field. A validated section holds ``class_path`` resolved (a file
by its absolute path), so a run folder's ``config.yaml`` rebuilds the same
class for ``--resume``, ``predict`` and ``evaluate`` from any folder.
"""

import importlib
import importlib.util
import inspect
import sys
from pathlib import Path
from typing import Any, Literal

from pydantic import PrivateAttr, ValidationInfo, model_validator

from ...errors import ConfigError
from ...nn.module import Module
from .wording import did_you_mean, short_repr, short_text
from .sections import Section, field_error

# What minigrad passes itself, by keyword, when the class's __init__ takes it.
PROVIDED = ("vocab_size", "mode")
_FORMS = "give FILE.py:Class (a file beside the run file or in the current folder) or package.module:Class"


class CustomModel(Section):
    """Your own ``minigrad.nn.Module`` class with its arguments (see this module's docstring)."""

    type: Literal["class"] = "class"
    class_path: str
    init_args: dict[str, Any] = {}
    _cls: type = PrivateAttr(None)

    @model_validator(mode="after")
    def _load_class(self, info: ValidationInfo):
        folder = Path((info.context or {}).get("folder") or ".").resolve()
        self.class_path, self._cls = load_class(self.class_path, folder)
        check_arguments(self._cls, self.init_args)
        return self

    def build(self, vocab_size, mode):
        """An instance for ``vocab_size`` words and data mode ``mode`` (what ``minigrad.models.build_model`` calls)."""
        accepted = _parameters(self._cls)
        given = {name: value for name, value in zip(PROVIDED, (vocab_size, mode))
                 if name in accepted or _takes_any(self._cls)}
        try:
            model = self._cls(**self.init_args, **given)
        except Exception as exc:  # the user's own code: say which class failed, and how, in one message
            raise ConfigError(f"model.class_path: {self.class_path} could not be built: "
                              f"{type(exc).__name__}: {exc}",
                              hint=f"It was called with {_call_text(self.init_args, given)}.") from None
        check_forward(model, mode, self.class_path)
        return model


# The batch each data mode gives a model's forward, by name.
BATCHES = {"lm": ("ids",), "qa": ("stories", "questions"), "memory": ("memories", "questions", "times", "mask")}


def check_forward(model, mode, class_path):
    """Refuse a forward that cannot take the mode's batch, before a run folder is made for it."""
    try:
        inspect.signature(model.forward).bind(*BATCHES[mode])
    except TypeError:
        raise ConfigError(f"model.class_path: {class_path}'s forward{inspect.signature(model.forward)} cannot "
                          f"take the batches of data.mode {mode}: ({', '.join(BATCHES[mode])}).",
                          hint="Give forward those arguments, or pick the data.mode the class reads.") from None
    except ValueError:  # a forward whose signature Python cannot read: let the first batch tell
        pass


# ---- the class ---------------------------------------------------------------------------------


def load_class(text, folder):
    """(``text`` with its file resolved, the class) of ``FILE.py:Class`` or ``package.module:Class``."""
    where, _, name = text.rpartition(":")
    if not where or not name.isidentifier():
        raise _error("class_path", f"{short_repr(text)} names no class: {_FORMS}", text)
    if where.endswith(".py") or "/" in where or "\\" in where:
        file = _find_file(where, folder, text)
        module, where = _import_file(file, text), str(file)
    else:
        module = _import_module(where, text)
    found = getattr(module, name, None)
    if found is None:
        classes = [n for n, v in vars(module).items() if _is_module_class(v) and v.__module__ == module.__name__]
        raise _error("class_path", f"{where} has no {name!r}{did_you_mean(name, classes)}"
                     + (f" (its Module classes: {', '.join(classes)})" if classes else ""), text)
    if not _is_module_class(found):
        raise _error("class_path", f"{where}:{name} is {_what(found)}", text)
    if found.forward is Module.forward:  # Module itself, or a subclass that never says what it computes
        raise _error("class_path", f"{where}:{name} defines no forward: give the Module subclass that does", text)
    return f"{where}:{name}", found


def _find_file(where, folder, text):
    """The file, beside the run file or else from the current folder."""
    for base in (folder, Path.cwd()):
        try:
            file = (base / where).resolve()
            if file.is_file():
                return file
        except (OSError, ValueError):  # a name too long for the system, a NUL byte: no such file either way
            pass
    raise _error("class_path", f"{short_text(where, 200)} not found beside the run file ({folder}) or in the "
                 "current folder", text)


def _import_file(file, text):
    """The module a Python file defines, run under a name of its own."""
    name = "minigrad_model_" + "".join(c if c.isalnum() else "_" for c in file.stem)
    spec = importlib.util.spec_from_file_location(name, file)
    if spec is None:  # Python imports only files ending in .py (or another suffix it knows)
        raise _error("class_path", f"{file} is not a Python file: {_FORMS}", text)
    module = importlib.util.module_from_spec(spec)
    sys.modules[name] = module  # classes that look their module up (dataclasses, pickle) find it
    try:
        spec.loader.exec_module(module)
    except Exception as exc:
        sys.modules.pop(name, None)
        raise _error("class_path", f"{file} does not import: {_failure(exc)}", text) from None
    return module


def _import_module(where, text):
    try:
        return importlib.import_module(where)
    except ModuleNotFoundError as exc:
        raise _error("class_path", f"no module named {short_repr(exc.name)}: {_FORMS}", text) from None
    except Exception as exc:
        raise _error("class_path", f"module {where} does not import: {_failure(exc)}", text) from None


def _failure(exc):
    """``SyntaxError: invalid syntax (line 3)``: the user's error in one line."""
    line = f" (line {exc.lineno})" if isinstance(exc, SyntaxError) and exc.lineno else ""
    message = exc.msg if isinstance(exc, SyntaxError) else str(exc)
    return f"{type(exc).__name__}: {message}{line}"


def _is_module_class(value):
    return isinstance(value, type) and issubclass(value, Module)


def _what(value):
    if isinstance(value, type):
        return "a class that does not derive from minigrad.nn.Module"
    return f"{short_repr(value, 40)} ({type(value).__name__}), not a minigrad.nn.Module class"


# ---- its arguments -----------------------------------------------------------------------------


def check_arguments(cls, init_args):
    """Refuse ``init_args`` the class's ``__init__`` would refuse: unknown, missing, or ours to give."""
    accepted, takes_any = _parameters(cls), _takes_any(cls)
    for key in init_args:
        if key in PROVIDED:
            raise _error(("init_args", key), f"minigrad passes {key} itself (from the data); leave it out", key)
        if key not in accepted and not takes_any:
            raise _error(("init_args", key), f"unknown argument of {cls.__name__}{_signature(cls)}"
                         f"{did_you_mean(key, list(accepted))}", key)
    for name, parameter in accepted.items():
        required = parameter.default is inspect.Parameter.empty
        if required and name not in init_args and name not in PROVIDED:
            raise _error(("init_args", name), f"missing; {cls.__name__}{_signature(cls)} requires this argument",
                         None)


def _parameters(cls):
    """The arguments ``cls(...)`` takes by name: its ``__init__``'s, less self and the catch-alls."""
    named = (inspect.Parameter.POSITIONAL_OR_KEYWORD, inspect.Parameter.KEYWORD_ONLY)
    return {n: p for n, p in _init_signature(cls).parameters.items() if p.kind in named}


def _takes_any(cls):
    return any(p.kind is inspect.Parameter.VAR_KEYWORD for p in _init_signature(cls).parameters.values())


def _init_signature(cls):
    try:
        return inspect.signature(cls)
    except (TypeError, ValueError):  # a signature Python cannot read: take any keyword
        return inspect.Signature([inspect.Parameter("kwargs", inspect.Parameter.VAR_KEYWORD)])


def _signature(cls):
    return str(_init_signature(cls))


def _call_text(init_args, given):
    return ", ".join(f"{k}={short_repr(v, 30)}" for k, v in {**init_args, **given}.items()) or "no arguments"


def _error(loc, reason, value):
    return field_error(loc if isinstance(loc, tuple) else (loc,), reason, value)
