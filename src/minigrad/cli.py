"""The ``minigrad`` command: train, predict, gradcheck.

Each command parses its options, calls the library, and prints what comes
back. Errors a user can fix (``MinigradError``) become one message and a
non-zero exit code at the single boundary in ``_run``.
"""

from typing import Annotated, Optional

import typer
from rich.console import Console

from .errors import MinigradError

app = typer.Typer(add_completion=False, no_args_is_help=True, help="minigrad: train and check small sequence models.")
console = Console()
err_console = Console(stderr=True)


@app.callback()
def _commands():
    """minigrad: train and check small sequence models."""


def _run(action):
    """Call ``action()``, turning a MinigradError into a message and an exit code."""
    try:
        return action()
    except MinigradError as exc:
        err_console.print(f"[bold red]error:[/] {exc.message}", highlight=False)
        if exc.hint:
            err_console.print(exc.hint, highlight=False)
        raise typer.Exit(code=exc.exit_code) from None


@app.command()
def gradcheck(
    op: Annotated[Optional[str], typer.Option("--op", help="Check only the op or layer with this name.")] = None,
    seed: Annotated[int, typer.Option(help="Seed for the random inputs.")] = 0,
):
    """Check every op's and layer's gradient against finite differences."""
    from .gradcheck import all_cases, check_case
    from .report import gradcheck_table

    def action():
        cases = all_cases()
        if op is not None:
            cases = [c for c in cases if c.name.lower() == op.lower()]
            if not cases:
                names = sorted({c.name for c in all_cases()})
                raise MinigradError(f"no gradcheck case for {op!r}.", hint="Known names: " + ", ".join(names))
        return [check_case(c, seed) for c in cases]

    results = _run(action)
    console.print(gradcheck_table(results))
    failed = [r for r in results if not r.result.ok]
    for r in failed:
        console.print(f"[red]{r.name} ({r.label}):[/] {r.result.message}", highlight=False)
    console.print(f"{len(results) - len(failed)} passed, {len(failed)} failed")
    if failed:
        raise typer.Exit(code=1)


def main():
    app()
