"""The commands that read finished runs: ``minigrad runs`` and ``minigrad evaluate``; and what
``minigrad train`` says at its end about the best epoch. ``cli`` registers them on the app."""

import json
from pathlib import Path
from typing import Annotated, Optional

import typer
from rich.markup import escape

from .cli_support import WeightsOption, console, run_action


def list_runs(
    folder: Annotated[Path, typer.Argument(help="Where to look: run folders and suite folders below it.")] = Path("runs"),
):
    """List the runs under a folder, newest first: model, task, epochs, the best epoch on validation
    with its validation and test accuracy, time, status."""
    from . import run_list
    from .views.tables import runs_table

    found = run_action(lambda: run_list.list_runs(folder))
    if not found:
        console.print(f"no run folders under {folder}", markup=False, highlight=False)
        return
    console.print(runs_table(f"runs under {folder}", found))


def evaluate(
    run: Annotated[Path, typer.Argument(help="The run folder to score, e.g. runs/latest.")],
    task: Annotated[Optional[str], typer.Option(help="Score this bAbI task's test file (1-20 or qa1-qa20).")] = None,
    data: Annotated[Optional[Path], typer.Option(help="Score this file in the bAbI format.")] = None,
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
