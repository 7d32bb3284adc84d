"""What every command of ``minigrad`` shares: the consoles, the ``--set`` option, and the one
place where a ``MinigradError`` becomes a message and an exit code (``run_action``)."""

from typing import Annotated, Optional

import typer
from rich.console import Console
from rich.markup import escape

from ..errors import MinigradError

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
    "--weights", help="best: the epoch with the best validation score (the last for a run without a "
                      "validation split); last: the last epoch trained.")]


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
    err_console.print(f"[bold red]error:[/] {escape(exc.message)}", highlight=False)
    if exc.hint:
        err_console.print(escape(exc.hint), highlight=False)
