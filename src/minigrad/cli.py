"""The ``minigrad`` command: train, predict, gradcheck, configs.

Each command parses its options, calls the library, and prints what comes
back. Errors a user can fix (``MinigradError``) become one message and a
non-zero exit code at the single boundary in ``_run``.
"""

from pathlib import Path
from typing import Annotated, Optional

import typer
from rich.console import Console, Group
from rich.live import Live
from rich.markup import escape
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn

from .errors import ConfigError, MinigradError

app = typer.Typer(add_completion=False, no_args_is_help=True, help="minigrad: train and check small sequence models.")
console = Console()
err_console = Console(stderr=True)

# ``--set PATH=VALUE``, repeatable: any command that reads a run file can take it and pass
# ``overrides.parse_settings(values)`` to ``load_config(..., settings=...)``.
SetOption = Annotated[Optional[list[str]], typer.Option(
    "--set", metavar="PATH=VALUE",
    help="Set any field of the run file, e.g. --set optimizer.lr=0.01 --set model.layers[0].dim=8 "
         "(repeatable; the value is read as YAML).")]


@app.callback()
def _commands():
    """minigrad: train and check small sequence models."""


def _run(action):
    """Call ``action()``, turning a MinigradError into a message and an exit code."""
    try:
        return action()
    except MinigradError as exc:
        # escape: a hint such as "pip install 'minigrad[cuda]'" is text, not rich markup
        err_console.print(f"[bold red]error:[/] {escape(exc.message)}", highlight=False)
        if exc.hint:
            err_console.print(escape(exc.hint), highlight=False)
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


@app.command()
def train(
    config: Annotated[Optional[str], typer.Argument(
        help="The run's YAML file, e.g. configs/babi_rnn.yaml, or a bundled config's name (minigrad configs).")] = None,
    task: Annotated[Optional[str], typer.Option(help="bAbI task: 1-20, qa1-qa20, or a *_train.txt path.")] = None,
    epochs: Annotated[Optional[int], typer.Option(help="Number of epochs (with --resume: the new total).")] = None,
    device: Annotated[Optional[str], typer.Option(help="cpu or cuda.")] = None,
    seed: Annotated[Optional[int], typer.Option(help="Seed for weights and shuffling.")] = None,
    out: Annotated[Optional[Path], typer.Option(help="Folder that receives run folders (default: runs).")] = None,
    resume: Annotated[Optional[Path], typer.Option(help="Continue the run in this folder.")] = None,
    set_fields: SetOption = None,
):
    """Train the model a YAML file describes, showing progress and metrics."""
    from . import bundled, training
    from .backend import keep_freed_memory
    from .config import load_config
    from .overrides import parse_settings

    def start():
        settings = parse_settings(set_fields)
        if resume is not None:
            given = (("--task", task), ("--seed", seed), ("--out", out), ("--set", set_fields or None))
            fixed = [name for name, value in given if value is not None]
            if fixed or config is not None:
                raise ConfigError(f"{', '.join(fixed) or 'a config file'} cannot change a run being resumed.",
                                    hint="--resume takes --epochs (the new total) and --device only.")
            return training.resume_session(resume, {"epochs": epochs, "device": device})
        if config is None:
            raise ConfigError("give a config file or --resume RUN.", hint="e.g. minigrad train configs/babi_rnn.yaml")
        overrides = {"task": _task_value(task), "epochs": epochs, "device": device, "seed": seed,
                     "out": None if out is None else str(out)}
        return training.start_session(load_config(bundled.find_config(config), overrides, settings=settings))

    session = _run(start)
    keep_freed_memory()  # this process is ours: let numpy reuse freed blocks
    console.print(f"run folder: [bold]{escape(str(session.run_dir))}[/]", highlight=False)
    _run(lambda: _train_with_display(training, session))
    console.print(f"saved to {session.run_dir}  (predict with: minigrad predict --run {session.run_dir})",
                  highlight=False, markup=False)


def _task_value(task):
    """A task option as the config expects it: a number stays a number."""
    return int(task) if task is not None and task.isdigit() else task


def _train_with_display(training, session):
    """Run training under a live view: the metrics table above a progress bar."""
    from .report import add_metrics_row, metrics_table

    table = metrics_table(f"{session.config.name}: task {session.config.data.task}, mode {session.config.data.mode}",
                          valid=session.datasets.valid is not None)
    for row in session.metrics:
        add_metrics_row(table, row)
    progress = Progress(TextColumn("epoch {task.fields[epoch]}"), BarColumn(), MofNCompleteColumn(),
                        TextColumn("batches"), TimeElapsedColumn(), console=console)
    bar = progress.add_task("train", total=1, epoch=0)
    with Live(Group(table, progress), console=console, refresh_per_second=8):
        training.train(
            session,
            on_epoch_start=lambda epoch, total: progress.reset(bar, total=total, epoch=epoch),
            on_batch=lambda done: progress.update(bar, completed=done),
            on_eval=lambda row: add_metrics_row(table, row),
        )
    console.print()  # end the progress line, which a non-terminal output leaves open


@app.command()
def predict(
    context: Annotated[Optional[str], typer.Option(help="Words to continue (language-model runs).")] = None,
    story: Annotated[Optional[str], typer.Option(help="The story (question-answering runs).")] = None,
    story_file: Annotated[Optional[Path], typer.Option(help="Read the story from this file instead.")] = None,
    question: Annotated[Optional[str], typer.Option(help="The question, e.g. 'where is mary?'.")] = None,
    run: Annotated[Path, typer.Option(help="The run folder to load.")] = Path("runs/latest"),
    top_k: Annotated[int, typer.Option(min=1, help="How many candidates to list.")] = 5,
):
    """Predict the next word of --context, or the answer to --question about --story."""
    from .predict import Predictor
    from .report import predictions_table

    def action():
        predictor = Predictor.load(run)
        if context is not None:
            return "next word", predictor.next_word(context, top_k)
        if question is None:
            raise MinigradError("nothing to predict.", hint="Pass --context \"mary moved to the\", "
                                "or --story \"...\" --question \"where is mary?\".")
        return "answer", predictor.answer(_story_text(story, story_file), question, top_k)

    what, pairs = _run(action)
    word, prob = pairs[0]
    console.print(f"{what}: [bold]{word}[/] (p={prob:.3f})", highlight=False)
    console.print(predictions_table(pairs, "candidates"))


def _story_text(story, story_file):
    if story_file is None:
        return story or ""
    try:
        return story_file.read_text(encoding="utf-8")
    except OSError as exc:
        raise MinigradError(f"cannot read --story-file {story_file}: {exc.strerror}.") from None


@app.command("configs")
def list_configs():
    """List the run files that come with minigrad, one line each on what it trains."""
    from . import bundled

    found = bundled.configs()
    width = max((len(c.name) for c in found), default=0)
    for c in found:
        console.print(f"{c.name:<{width}}  {c.description}", markup=False, highlight=False)
    console.print(f"\nTrain one with: minigrad train NAME. To change one, copy it from "
                  f"{bundled.folder('configs')} and edit it, or use --set.", markup=False, highlight=False)


def main():
    app()
