"""What every command of ``minigrad`` shares: the consoles, the ``--set`` option, and the one
place where a ``MinigradError`` becomes a message and an exit code (``run_action``)."""

from pathlib import Path
from typing import Annotated, Optional

import typer
from rich.console import Console
from rich.markup import escape
from typer.core import TyperCommand, TyperGroup

from ..errors import MinigradError
from . import completion

console = Console()
err_console = Console(stderr=True)

# ``--set PATH=VALUE``, repeatable: any command that reads a run file can take it and pass
# ``overrides.parse_settings(values)`` to ``load_config(..., settings=...)``.
SetOption = Annotated[Optional[list[str]], typer.Option(
    "--set", metavar="PATH=VALUE",
    help="Set any field of the run file, e.g. --set optimizer.lr=0.01 --set data.batch_size=50 "
         "(repeatable; the value is read as YAML; [N] picks an item of a list).")]

# ``--weights best|last``: which of a run's saved weights a command loads.
WeightsOption = Annotated[str, typer.Option(
    "--weights", metavar="best|last",
    help="best: the epoch with the best validation score (the last for a run without a "
         "validation split); last: the last epoch trained.")]

# A run file, by path or bundled name: ``minigrad train CONFIG``, ``config show``, ``suite``, ``graph``.
ConfigArgument = Annotated[Optional[str], typer.Argument(
    metavar="CONFIG", autocompletion=completion.run_files,
    help="The run's YAML file, e.g. configs/babi_rnn.yaml, or a bundled config's name (minigrad configs).")]

# What a new run takes from the command line besides ``--set``: ``train`` and ``config show``.
TaskOption = Annotated[Optional[str], typer.Option(
    metavar="TASK", autocompletion=completion.tasks,
    help="bAbI task: 1-20, qa1-qa20, a *_train.txt path, or all (one model for every task).")]
EpochsOption = Annotated[Optional[int], typer.Option(
    metavar="N", help="Number of epochs (with --resume: the new total).")]
DeviceOption = Annotated[Optional[str], typer.Option(metavar="cpu|cuda", help="Where to train.")]
SeedOption = Annotated[Optional[int], typer.Option(metavar="N", help="Seed for weights and shuffling.")]
OutOption = Annotated[Optional[Path], typer.Option(
    metavar="DIR", help="Folder that receives run folders (default: runs).")]


class PlainCommand(TyperCommand):
    """A command whose help names each value in words (``N``, ``PATH``) instead of a type (``<int>``)."""

    def get_params(self, ctx):
        return plain_value_names(super().get_params(ctx))


class PlainGroup(TyperGroup):
    """The same for a group of commands (``minigrad``, ``minigrad config``) and its own options."""

    def get_params(self, ctx):
        return plain_value_names(super().get_params(ctx))


def plain_value_names(params):
    """Give a value name to each parameter that has none: nothing for a flag, else its name in capitals.

    An argument's value name is its name in the help, so the type column
    beside it (Typer's ``<str>``) says nothing more and is left empty.
    """
    for param in params:
        if param.metavar is None:
            param.metavar = "" if getattr(param, "is_flag", False) else param.name.upper()
        if param.param_type_name == "argument":
            param.display_type_rich = _no_type
    return params


def _no_type(ctx):
    return None


def run_action(action):
    """Call ``action()``, turning a MinigradError into a message and an exit code."""
    try:
        return action()
    except MinigradError as exc:
        from . import distributed

        distributed.report(exc, show_error)  # under mpiexec: said once, and every rank stopped
        raise typer.Exit(code=exc.exit_code) from None


def show_error(exc):
    # escape: a hint such as "pip install 'minigrad[cuda]'" is text, not rich markup
    # soft_wrap: rich never breaks a line itself (the terminal folds it), so a command in a message or
    # a hint stays one line when copied
    err_console.print(f"[bold red]error:[/] {escape(exc.message)}", highlight=False, soft_wrap=True)
    if exc.hint:
        err_console.print(escape(exc.hint), highlight=False, soft_wrap=True)
