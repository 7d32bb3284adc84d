"""The commands that read finished runs or run files: ``minigrad runs``, ``minigrad evaluate``,
``minigrad configs`` and ``minigrad config show``; ``minigrad --version``; and what ``minigrad
train`` says at its end about the best epoch. ``cli`` registers them on the app."""

import json
from pathlib import Path
from typing import Annotated, Optional

import typer
from rich.markup import escape

from . import completion
from .cli_support import (ConfigArgument, DeviceOption, EpochsOption, OutOption, PlainCommand, PlainGroup,
                          SeedOption, SetOption, TaskOption, WeightsOption, console, run_action)


def print_version(asked: bool):
    """``minigrad --version``: the installed package's version, from its metadata."""
    if not asked:
        return
    from importlib.metadata import PackageNotFoundError, version

    try:
        found = version("minigrad")
    except PackageNotFoundError:  # run from a source tree that was never installed
        found = "unknown (not installed)"
    typer.echo(f"minigrad {found}")
    raise typer.Exit()


def list_configs():
    """List the run files that come with minigrad, one line each on what it trains."""
    from rich.table import Table

    from .config import bundled

    listing = Table.grid(padding=(0, 2))  # a description wraps inside its own column, never under the names
    listing.add_column(no_wrap=True)
    listing.add_column()
    for found in bundled.configs():
        listing.add_row(found.name, found.description)
    console.print(listing, markup=False, highlight=False)
    console.print()
    # Commands and paths go on lines of their own, never wrapped: they are for copying.
    for words, command in (("Train one with:", "minigrad train NAME"),
                           ("See one whole, with every default:", "minigrad config show NAME"),
                           ("Change one with --set, or in a run file of your own that starts with "
                            "base: NAME and holds only what differs. Their files:", str(bundled.folder("configs")))):
        console.print(words, markup=False, highlight=False)
        console.print(f"  {command}", markup=False, highlight=False, soft_wrap=True)


def list_runs(
    folder: Annotated[Path, typer.Argument(
        metavar="DIR", autocompletion=completion.run_folders,
        help="Where to look: run folders and suite folders below it.")] = Path("runs"),
):
    """List the runs under a folder, newest first, with their best epoch on validation and status.

    Each run's model, task, epochs, the best epoch with its validation and test accuracy, time and status."""
    from . import run_list
    from .views.tables import runs_table

    found = run_action(lambda: run_list.list_runs(folder))
    if not found:
        console.print(f"no run folders under {folder}", markup=False, highlight=False)
        return
    console.print(runs_table(f"runs under {folder}", found))


def evaluate(
    run: Annotated[Path, typer.Argument(metavar="RUN", autocompletion=completion.run_folders,
                                        help="The run folder to score, e.g. runs/latest.")],
    task: Annotated[Optional[str], typer.Option(metavar="TASK", autocompletion=completion.tasks,
                                                help="Score this bAbI task's test file (1-20 or qa1-qa20).")] = None,
    data: Annotated[Optional[Path], typer.Option(metavar="FILE", help="Score this file in the bAbI format.")] = None,
    weights: WeightsOption = "best",
    as_json: Annotated[bool, typer.Option("--json", help="Print the figures as one JSON object.")] = False,
):
    """Loss, accuracy and error of a saved run on its tasks' test files, on --task N, or on --data FILE."""
    from .evaluate_run import evaluate_run
    from .views.tables import evaluation_table

    found = run_action(lambda: evaluate_run(run, task, data, weights))
    if as_json:
        result = {"run": str(found.run_dir), "weights": found.weights, "scores": [s.as_dict() for s in found.scores]}
        if found.pooled is not None:
            result["all"] = found.pooled.as_dict()
        typer.echo(json.dumps(result))
        return
    console.print(f"run {escape(str(found.run_dir))}, weights: {escape(found.weights)}", highlight=False)
    console.print(evaluation_table(found.scores, found.pooled))


def print_best(session):
    """After training: where it stopped early, and which epoch validation chose (best.npz)."""
    best = session.best
    if session.stopped_early:
        stopping = session.config.train.early_stopping
        epochs = f"{stopping.patience} epoch{'s' if stopping.patience != 1 else ''}"
        console.print(f"stopped early at epoch {session.stopped_early}: {stopping.monitor} has not improved "
                      f"for {epochs}.", markup=False, highlight=False)
    if best is not None and best.epoch:
        console.print(f"best epoch on validation: {best.epoch} ({best.monitor} {best.value:.4g}), weights in "
                      f"{session.run_dir / 'best.npz'}", markup=False, highlight=False)


config_app = typer.Typer(cls=PlainGroup, no_args_is_help=True, help="Look at run files without training anything.")


@config_app.command("show", cls=PlainCommand)
def show_config(
    config: ConfigArgument = None,
    task: TaskOption = None,
    epochs: EpochsOption = None,
    device: DeviceOption = None,
    seed: SeedOption = None,
    out: OutOption = None,
    set_fields: SetOption = None,
):
    """Print the run file train would use, as YAML: its bases merged, the options and --set applied,
    every default filled in, all of it checked. Trains nothing."""
    from .config.task_option import check_task_option
    from .config.overrides import parse_settings
    from .config.run import as_yaml
    from .session import resolve_config

    if config is None:
        run_action(_no_config)
    run_action(lambda: check_task_option(task, config=config))
    options = {"task": task, "epochs": epochs, "device": device, "seed": seed, "out": out}
    resolved = run_action(lambda: resolve_config(config, parse_settings(set_fields), **options))
    typer.echo(as_yaml(resolved), nl=False)  # plain text: a pipe or a file gets a run file as it is


def _no_config():
    from ..errors import ConfigError

    raise ConfigError("give a run file or a bundled config's name.", hint="e.g. minigrad config show babi_rnn")
