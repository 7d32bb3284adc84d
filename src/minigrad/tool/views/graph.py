"""What ``minigrad graph`` looks at: one training step of a run file's model.

The model is built as training builds it (same seed, so the same weights as
epoch 1 of ``minigrad train``), or from a run folder with its saved weights;
one training batch goes forward, the loss backward with the graph kept, and
``minigrad.viz`` records it as a graph, drawn here as DOT text or a tree.
"""

import shlex
from pathlib import Path

import numpy as np

from ... import viz
from ...errors import ConfigError, MinigradError
from .. import runs, training
from ..config import bundled, load_config
from ..evaluation import batch_loss
from ..session import Session, build
from .tree import to_tree


def from_config(path, settings=None):
    """A session (no run folder) for a run file, seeded as ``minigrad train`` seeds it."""
    config = load_config(path, settings=settings)
    return Session(config, *build(config), run_dir=None)


def from_run(path):
    """A session for a run folder, with its saved weights, at the epoch it would train next."""
    saved = runs.load_run(path)
    config = load_config(saved.path / "config.yaml")
    session = Session(config, *build(config), run_dir=saved.path)
    runs.load_weights(session.model, saved.weights, Path(saved.path) / "weights.npz")
    session.start_epoch = min(saved.epoch, config.train.epochs - 1)
    return session


def training_step(session):
    """The loss that the first training batch of the session's next epoch backpropagates in ``minigrad train``."""
    config, epoch = session.config, session.start_epoch + 1
    training.enter_epoch(session, epoch)  # e.g. a memory network's linear start has no softmax
    rng = np.random.default_rng([config.train.seed, epoch])  # that epoch's shuffle
    batch = next(iter(session.datasets.train.batches(config.data.batch_size, rng)))
    loss, counted, _ = batch_loss(session, batch)
    return loss * counted if config.loss.reduction == "sum" else loss  # a summed loss is n times the mean


def traced_graph(session, group=True):
    """The ``viz.Graph`` of one training step, with the norm of the gradient that reached every node."""
    loss = training_step(session)
    norms = viz.record_gradients(loss)
    return viz.build(loss, viz.parameter_names(session.model), norms, group=group)


# ---- writing it out ---------------------------------------------------------------
def draw(config, run, settings, fmt, output, group=True):
    """What ``minigrad graph`` shows: (a rich Tree or DOT text to print, or None; the file written, or None)."""
    check_format(fmt, output)
    check_source(config, run, settings)
    session = from_run(run) if run is not None else from_config(bundled.find_config(config), settings)
    traced = traced_graph(session, group=group)
    if fmt == "tree":
        return to_tree(traced, f"{session.config.name}: one training step"), None
    text = viz.to_dot(traced)
    if fmt == "dot" and output is None:
        return text, None
    if fmt == "dot":
        write_text(output, text)
        return None, output
    target = output or default_image(session, run, fmt)
    write_image(text, fmt, target)
    return None, target


def default_image(session, run, fmt):
    """Where a picture goes without -o: into the run folder drawn, or for a run file into the folder
    that receives its runs (train.out), never the current folder."""
    if run is not None:
        return Path(run) / f"graph.{fmt}"
    folder = Path(session.config.train.out)
    try:
        folder.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise MinigradError(f"cannot create {folder} for the picture: {exc.strerror}.",
                            hint="Name the file with -o, e.g. -o graph.svg.") from None
    return folder / f"{session.config.name}-graph.{fmt}"


def check_source(config, run, settings):
    """Exactly one model to draw: a run file's (``--set`` may change it) or a run folder's, as saved."""
    quoted = shlex.quote(str(run)) if run is not None else None
    if config is not None and run is not None:
        raise ConfigError(f"both a run file ({config}) and --run {run} were given; graph draws one model.",
                          hint=f"Pick one: minigrad graph {shlex.quote(config)} (a new model from the run file), "
                               f"or minigrad graph --run {quoted} (the run's model with its saved weights).")
    if config is None and run is None:
        raise ConfigError("give a run file or --run RUN.",
                          hint="e.g. minigrad graph babi_rnn, or minigrad graph --run runs/latest")
    if run is not None and settings:
        raise ConfigError(f"--set changes a run file, and --run {run} draws a saved run as it is.",
                          hint=f"Draw the run as saved: minigrad graph --run {quoted}; or its run file, changed: "
                               f"minigrad graph {shlex.quote(str(run / 'config.yaml'))} --set PATH=VALUE")


IMAGE_FORMATS = ("svg", "png")
FORMATS = ("tree", "dot") + IMAGE_FORMATS


def check_format(fmt, output):
    if fmt not in FORMATS:
        raise MinigradError(f"unknown --format {fmt!r}.", hint=f"Use one of: {', '.join(FORMATS)}.")
    if fmt == "tree" and output is not None:
        raise MinigradError("-o writes a file, and --format tree only prints.",
                            hint="Use --format dot, svg or png with -o.")


def write_image(dot_text, fmt, output):
    """Render DOT text to ``output`` with Graphviz's ``dot`` program.

    Without the program, the DOT text is written beside (``output`` with a
    .dot suffix) and the error says so: the picture asked for was not made.
    """
    import shutil
    import subprocess

    output = Path(output)
    if shutil.which("dot") is None:
        fallback = output.with_suffix(".dot")
        write_text(fallback, dot_text)
        raise MinigradError(f"Graphviz's dot program is not on PATH, so no {fmt} was drawn; "
                            f"the graph's DOT text is in {fallback} instead.",
                            hint="Install Graphviz (apt-get install graphviz, brew install graphviz or "
                                 f"conda install graphviz), then run again or: dot -T{fmt} {fallback} -o {output}")
    done = subprocess.run(["dot", f"-T{fmt}", "-o", str(output)], input=dot_text, text=True,
                          capture_output=True, check=False)
    if done.returncode != 0:
        raise MinigradError(f"dot could not draw {output}: {done.stderr.strip() or 'exit ' + str(done.returncode)}.")


def write_text(path, text):
    try:
        Path(path).write_text(text, encoding="utf-8")
    except OSError as exc:
        raise MinigradError(f"cannot write {path}: {exc.strerror}.") from None
