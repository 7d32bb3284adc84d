"""The ``minigrad`` command: train, predict, gradcheck, configs.

Each command parses its options, calls the library, and prints what comes
back. Errors a user can fix (``MinigradError``) become one message and a
non-zero exit code at the single boundary in ``_run``.
"""

import json
from functools import partial
from pathlib import Path
from typing import Annotated, Optional

import typer
from rich.markup import escape

from . import cli_commands, completion
from .cli_support import (ConfigArgument, DeviceOption, EpochsOption, OutOption, PlainCommand, PlainGroup,
                          SeedOption, SetOption, TaskOption, WeightsOption, console, err_console,  # noqa: F401 (cli.*)
                          run_action)

app = typer.Typer(cls=PlainGroup, no_args_is_help=True, help="minigrad: train and check small sequence models.")
_run = run_action
command = partial(app.command, cls=PlainCommand)
RunFolderOption = partial(typer.Option, metavar="RUN", autocompletion=completion.run_folders)
RunFileArgument = partial(typer.Argument, metavar="CONFIG", autocompletion=completion.run_files)


@app.callback()
def _commands(
    version: Annotated[bool, typer.Option("--version", callback=cli_commands.print_version, is_eager=True,
                                          help="Print minigrad's version and exit.")] = False,
):
    """minigrad: train and check small sequence models."""


@command()
def gradcheck(
    op: Annotated[Optional[str], typer.Option("--op", metavar="NAME",
                                              help="Check only the op or layer with this name.")] = None,
    seed: Annotated[int, typer.Option(metavar="N", help="Seed for the random inputs.")] = 0,
):
    """Check every op's and layer's gradient against finite differences."""
    from ..gradcheck import check_case
    from ..models.cases import cases_named
    from .config.limits import check_seed
    from .views.tables import gradcheck_table

    _run(lambda: check_seed(seed, "--seed"))
    results = _run(lambda: [check_case(c, seed) for c in cases_named(op)])
    console.print(gradcheck_table(results))
    failed = [r for r in results if not r.result.ok]
    for r in failed:
        console.print(f"[red]{r.name} ({r.label}):[/] {r.result.message}", highlight=False)
    console.print(f"{len(results) - len(failed)} passed, {len(failed)} failed")
    if failed:
        raise typer.Exit(code=1)


@command()
def train(
    config: ConfigArgument = None,
    task: TaskOption = None,
    epochs: EpochsOption = None,
    device: DeviceOption = None,
    seed: SeedOption = None,
    out: OutOption = None,
    resume: Annotated[Optional[Path], RunFolderOption(help="Continue the run in this folder.")] = None,
    set_fields: SetOption = None,
    threads: Annotated[Optional[int], typer.Option(
        metavar="N", help="BLAS threads, fixed (default: one while other processes use the cores, "
                          "else the faster of 1 and 2).")] = None,
):
    """Train the model a YAML file describes, showing progress and metrics."""
    _train(config, task, epochs, device, seed, out, resume, set_fields, threads)


def _train(config, task, epochs, device, seed, out, resume, set_fields, threads):
    from ..backend import keep_freed_memory
    from . import distributed, training
    from .config.task_option import check_task_option
    from .session import open_session
    from .threads import blas_threads

    # Under MPI, join the job before anything else can fail: a rank that stopped
    # before joining would leave the others waiting for it.
    world = _run(distributed.world)
    _run(lambda: check_task_option(task, config=config))
    options = {"task": task, "epochs": epochs, "device": device, "seed": seed, "out": out}
    session = _run(lambda: open_session(config, resume, set_fields, **options))
    keep_freed_memory()  # this process is ours: let numpy reuse freed blocks
    try:
        limit = _run(lambda: blas_threads(threads if threads is not None else session.config.train.threads))
        with limit as session.threads:
            _train_session(world, training, session)
    finally:
        session.close()  # a suite's worker goes on to other runs: let go of this one's folder
    if not world.is_root:  # rank 0 alone says how training ended
        return
    _print_per_task(session.run_dir)
    cli_commands.print_best(session)
    console.print(f"saved to {session.run_dir}; predict with:", highlight=False, markup=False, soft_wrap=True)
    console.print(f"  minigrad predict --run {session.run_dir}", highlight=False, markup=False, soft_wrap=True)


def _train_session(world, training, session):
    if not world.is_root:  # another rank of an MPI job: rank 0 shows and saves everything
        _run(lambda: training.train(session))
        return
    from .loggers import Loggers

    loggers = _run(lambda: Loggers(session))  # a missing package is said before anything trains
    ended = "failed"
    try:
        console.print(f"run folder: [bold]{escape(str(session.run_dir))}[/]", highlight=False, soft_wrap=True)
        _run(lambda: _train_with_display(loggers.wrap(training.train), session))
        ended = "finished"
    except typer.Exit as exit:
        ended = "interrupted" if exit.exit_code == 130 else "failed"
        raise
    finally:
        loggers.close(ended)


def _print_per_task(run_dir):
    """A run on several tasks ends with each task's errors, as its per_task.csv holds them."""
    from . import per_task
    from .views.tables import per_task_table

    rows = _run(lambda: per_task.load(run_dir))
    if rows:
        console.print(per_task_table(rows, *per_task.summary(rows), per_task.PASS_LIMIT))


def _train_with_display(train, session):
    """Train under the live view in a terminal, or with a plain line per epoch in a log."""
    from ..data.joint import describe_tasks
    from .views.progress import train_with_display

    data = session.config.data
    title = f"{session.config.name}: {describe_tasks(data.task)}, mode {data.mode}"
    train_with_display(train, session, console, title)


@command()
def predict(
    context: Annotated[Optional[str], typer.Option(metavar="WORDS",
                                                   help="Words to continue (language-model runs).")] = None,
    story: Annotated[Optional[str], typer.Option(metavar="TEXT", help="The story (question-answering runs).")] = None,
    story_file: Annotated[Optional[Path], typer.Option(metavar="FILE",
                                                       help="Read the story from this file instead.")] = None,
    question: Annotated[Optional[str], typer.Option(metavar="TEXT",
                                                    help="The question, e.g. 'where is mary?'.")] = None,
    run: Annotated[Path, RunFolderOption(help="The run folder to load.")] = Path("runs/latest"),
    top_k: Annotated[int, typer.Option(min=1, metavar="N", help="How many candidates to list.")] = 5,
    as_json: Annotated[bool, typer.Option("--json", help="Print the prediction as one JSON object "
                                                          "(with --file: one a line, one per question).")] = False,
    weights: WeightsOption = "best",
    file: Annotated[Optional[Path], typer.Option(
        "--file", metavar="FILE",
        help="Answer every question of this bAbI-format file, each from the statements before it.")] = None,
):
    """Predict the next word of --context, or the answer to --question about --story."""
    from .predict import ask
    from .views.tables import attention_table, predictions_table

    if file is not None:
        return _predict_file(run, file, context, story, story_file, question, top_k, as_json, weights)

    what, pairs, reading, used = _run(lambda: ask(run, context, story, story_file, question, top_k, weights))
    word, prob = pairs[0]
    if as_json:
        found = {"answer": word, "p": prob, "candidates": [list(pair) for pair in pairs], "weights": used}
        if reading is not None:
            found["attention"], found["empty_slots"] = reading.attention, reading.empty
        typer.echo(json.dumps(found))
        return
    console.print(f"{what}: [bold]{word}[/] (p={prob:.3f})", highlight=False)
    console.print(f"weights: {escape(used)}", highlight=False, style="dim")
    console.print(predictions_table(pairs, "candidates"))
    if reading is not None:
        console.print(attention_table(reading.statements, reading.attention, reading.empty, reading.labels))


def _predict_file(run, file, context, story, story_file, question, top_k, as_json, weights):
    from .predict_file import answer_file, check_alone, summary

    _run(lambda: check_alone(context, story, story_file, question))
    used, records = _run(lambda: answer_file(run, file, weights, top_k))
    for record in records:
        if as_json:
            typer.echo(json.dumps(record))
        else:
            answer = record.get("answer", f"error: {record.get('error')}")
            console.print(f"story {record['story']} line {record['line']}: {record['question']} -> {answer} "
                          f"(expected {record['expected']})", markup=False, highlight=False, soft_wrap=True)
    if not as_json:
        right, answered, failed = summary(records)
        console.print(f"{right}/{answered} right" + (f", {failed} not answered" if failed else "")
                      + f"; weights: {used}", markup=False, highlight=False)


ColumnsOption = Annotated[Optional[str], typer.Option(
    metavar="KEYS", help="Published columns to show, by key (e.g. memn2n_pe_ls_rn,gmemn2n_hop), or all "
                         "(default: those that fit the run file's model).")]


@command("suite")
def suite_command(
    config: Annotated[str, RunFileArgument(help="The run file or bundled config's name, as train takes it.")],
    tasks: Annotated[str, typer.Option(metavar="TASKS", help="bAbI tasks: a range (1-20), a list (1,4,7) or qa3.")] = "1-20",
    seeds: Annotated[int, typer.Option(metavar="N", help="Train seeds 0..N-1 of each task.")] = 1,
    jobs: Annotated[Optional[int], typer.Option(metavar="J", help="Runs at once (default: the number of cores; "
                                                "under mpiexec, runs at once on each rank, default 1).")] = None,
    out: Annotated[Optional[Path], typer.Option(metavar="DIR", help="The suite folder (default: suites/NAME).")] = None,
    set_fields: SetOption = None,
    columns: ColumnsOption = None,
):
    """Train a run file on many bAbI tasks and seeds; summarize beside the published results."""
    from . import distributed
    from .suite import plan
    from .suite.report import PASS_LIMIT, SELECTION, table
    from .suite.run import run_suite
    from .suite.view import LineView, LiveView
    from .views.tables import suite_summary_table

    world = _run(distributed.world)  # under mpiexec, join the job first, as train does
    _run(lambda: plan.check_counts(seeds, jobs))  # every rank: each uses --jobs
    setup = world.from_root(_run(lambda: plan.prepare(config, set_fields, plan.parse_tasks(tasks), seeds, out, columns))
                            if world.is_root else None)  # only rank 0 checks and creates the suite folder
    workers = plan.jobs_at_once(jobs, world)
    if not world.is_root:  # another rank of an MPI job: trains what rank 0 gives it, silently
        _run(lambda: run_suite(setup, workers, None, world))
        return
    left = plan.unfinished(setup)
    spread = f" ({workers} on each of {world.size} ranks)" if world.size > 1 else ""
    console.print(f"suite folder: {setup.folder}; {len(setup.runs) - left} of {len(setup.runs)} runs finished, "
                  f"{left} to train, {workers * world.size} at a time{spread}.", markup=False, highlight=False)
    console.print(f"Each task reports {SELECTION[setup.select_by]}.", markup=False, highlight=False)
    title = f"{setup.config.name}: {len(setup.runs)} runs"

    def view_for(progress):
        return LiveView(console, progress, title) if console.is_terminal else LineView(console, progress)

    _, summary, baselines = _run(lambda: run_suite(setup, workers, view_for, world))
    header, rows = table(summary, baselines)
    console.print(suite_summary_table(f"test error (%), pass <= {PASS_LIMIT:g}%", header, rows, PASS_LIMIT))
    console.print(f"written: {setup.folder / 'results.csv'}, summary.csv, summary.md", markup=False, highlight=False)


@command()
def graph(
    config: Annotated[Optional[str], RunFileArgument(
        help="A run file (or a bundled one's name) to build the model from.")] = None,
    run: Annotated[Optional[Path], RunFolderOption(help="Build it from this run folder, with its weights.")] = None,
    fmt: Annotated[str, typer.Option("--format", metavar="tree|dot|svg|png",
                                     help="tree (the terminal), dot, svg or png.")] = "tree",
    output: Annotated[Optional[Path], typer.Option("-o", "--output", metavar="FILE",
                                                   help="The file for dot, svg or png (svg and png default to "
                                                         "RUN/graph.svg, or NAME-graph.svg in the run file's train.out).")] = None,
    group: Annotated[bool, typer.Option(help="Draw a run of ops repeated back to back once, as × n.")] = True,
    set_fields: SetOption = None,
):
    """Show the graph of one training step, from the loss down to the parameters, with gradient norms."""
    from .config.overrides import parse_settings
    from .views import graph as graph_view

    shown, written = _run(lambda: graph_view.draw(config, run, parse_settings(set_fields), fmt, output, group))
    if written is not None:
        console.print(f"wrote {written}", markup=False, highlight=False)
    elif fmt == "dot":
        typer.echo(shown, nl=False)  # plain text for a pipe, never wrapped or styled
    else:
        console.print(shown, highlight=False)


@command()
def plot(
    folders: Annotated[list[Path], typer.Argument(metavar="RUN", autocompletion=completion.run_folders,
                                                  help="Run folders to overlay, or one suite folder.")],
    output: Annotated[Optional[Path], typer.Option(
        "-o", "--output", metavar="FILE",
        help="The image (default: RUN/curves.png, SUITE/errors.png, or compare.png in the first RUN).")] = None,
):
    """Plot loss and accuracy per epoch of runs, or a suite's test error per task against published ones."""
    from .views import plot as plotting

    _, written = _run(lambda: plotting.plot(folders, output))
    console.print(f"wrote {written}", markup=False, highlight=False)


command("configs")(cli_commands.list_configs)
command("runs")(cli_commands.list_runs)
command("evaluate")(cli_commands.evaluate)
app.add_typer(cli_commands.config_app, name="config")


def main():
    app()
