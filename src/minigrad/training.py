"""Training and evaluation: the loop behind ``minigrad train``.

``train`` reports through callbacks (``on_epoch_start``, ``on_batch``,
``on_eval``) and never prints, so the command line can draw progress bars and
tables while tests simply collect the numbers.
"""

import math
import time
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from . import runs
from .autograd import no_grad
from .backend import check_device, to_device
from .config import RunConfig, load_config
from .data import build_datasets
from .errors import CheckpointError, ConfigError, MinigradError, TrainingDiverged
from .models import build_model
from .optim import SGD, Adam, clip_grad_norm


class Interrupted(MinigradError):
    """Training was stopped with Ctrl-C; the last complete epoch is saved."""

    exit_code = 130


@dataclass
class Session:
    """Everything one run needs, built from its config (and, when resuming, its folder)."""

    config: RunConfig
    datasets: object
    model: object
    optimizer: object
    run_dir: Path
    start_epoch: int = 0
    metrics: list = field(default_factory=list)


def make_optimizer(spec, parameters):
    """The optimizer a run file's ``optimizer`` section names."""
    if spec.name == "adam":
        return Adam(parameters, lr=spec.lr, weight_decay=spec.weight_decay)
    return SGD(parameters, lr=spec.lr, momentum=spec.momentum, weight_decay=spec.weight_decay)


def _meta(config, datasets):
    meta = {"mode": config.data.mode}
    if config.data.mode == "qa":
        meta.update(story_len=datasets.train.story_len, question_len=datasets.train.question_len)
    return meta


def _build(config):
    """Seeded data, model and optimizer for ``config`` (the same seed gives the same run)."""
    check_device(config.device)
    if config.loss.name != "cross_entropy":
        raise ConfigError(f"loss.name: {config.loss.name!r} does not fit word targets.",
                          hint="Use loss.name: cross_entropy for modes lm and qa.")
    np.random.seed(config.train.seed)  # layers draw their initial weights from numpy's global generator
    datasets = build_datasets(config.data)
    model = build_model(config, len(datasets.vocab)).to(config.device)
    return datasets, model, make_optimizer(config.optimizer, model.parameters())


def start_session(config):
    """A new run: build everything and create its folder."""
    datasets, model, optimizer = _build(config)
    run_dir = runs.new_run_dir(config.train.out, config.name)
    runs.save_setup(run_dir, config, datasets.vocab, _meta(config, datasets))
    return Session(config, datasets, model, optimizer, run_dir)


def resume_session(run_path, overrides=None):
    """Continue a saved run from its last complete epoch (``overrides`` may raise ``epochs``)."""
    saved = runs.load_run(run_path)
    config = load_config(saved.path / "config.yaml", overrides)
    datasets, model, optimizer = _build(config)
    if datasets.vocab != saved.vocab:
        raise CheckpointError(f"{saved.path}: the task's vocabulary no longer matches the saved one.",
                              hint="The data files changed since the run was saved; start a new run.")
    weights, buffers, epoch = runs.load_checkpoint(saved.path)
    model.load_state_dict(weights)
    optimizer.load_state_dict(buffers)
    runs.point_latest(saved.path)
    metrics = [row for row in saved.metrics if row["epoch"] <= epoch]
    return Session(config, datasets, model, optimizer, saved.path, epoch, metrics)


def forward(model, batch, mode, device="cpu"):
    """(scores, targets) of a batch: next-word scores for lm, answer scores for qa."""
    arrays = [to_device(a, device) for a in batch]
    if mode == "lm":
        inputs, targets = arrays
        return model(inputs), targets
    stories, questions, answers = arrays
    return model(stories, questions), answers


def _counts(scores, targets, ignore_index):
    """(number of counted targets, number predicted right) for accuracy."""
    counted = targets != ignore_index if ignore_index is not None else np.ones(targets.shape, bool)
    right = (scores.data.argmax(axis=-1) == targets) & counted
    return int(counted.sum()), int(right.sum())


def evaluate(model, dataset, config):
    """Mean loss and accuracy over a dataset, without building a graph."""
    ignore = config.loss.ignore_index
    total_loss = total = right = 0
    model.eval()
    with no_grad():
        for batch in dataset.batches(config.data.batch_size):
            scores, targets = forward(model, batch, config.data.mode, config.device)
            n, r = _counts(scores, targets, ignore)
            total_loss += scores.cross_entropy(targets, ignore_index=ignore).item() * n
            total, right = total + n, right + r
    model.train()
    return total_loss / max(total, 1), right / max(total, 1)


def train_epoch(session, epoch, on_batch=None):
    """One pass over the training set; returns (mean loss, accuracy, examples)."""
    config, model, optimizer = session.config, session.model, session.optimizer
    ignore, clip = config.loss.ignore_index, config.optimizer.clip_norm
    rng = np.random.default_rng([config.train.seed, epoch])  # per epoch, so a resumed run shuffles alike
    total_loss = total = right = examples = 0
    for i, batch in enumerate(session.datasets.train.batches(config.data.batch_size, rng)):
        scores, targets = forward(model, batch, config.data.mode, config.device)
        loss = scores.cross_entropy(targets, ignore_index=ignore)
        value = loss.item()
        if not math.isfinite(value):
            raise TrainingDiverged(
                f"the loss became {value} at epoch {epoch}, batch {i + 1}; training stopped.",
                hint=f"The last good checkpoint (epoch {epoch - 1}) is kept in {session.run_dir}. "
                     "Lower optimizer.lr or set optimizer.clip_norm.")
        loss.backward()
        if clip:
            clip_grad_norm(optimizer.parameters, clip)
        optimizer.step()
        n, r = _counts(scores, targets, ignore)
        total_loss, total, right = total_loss + value * n, total + n, right + r
        examples += len(targets)
        if on_batch:
            on_batch(i + 1)
    return total_loss / max(total, 1), right / max(total, 1), examples


def n_batches(dataset, batch_size):
    return math.ceil(len(dataset) / batch_size)


def train(session, on_epoch_start=None, on_batch=None, on_eval=None):
    """Train from ``session.start_epoch`` to the configured number of epochs.

    After every epoch the weights, optimizer buffers and metrics are saved, so
    Ctrl-C or a diverging loss leaves the last complete epoch on disk.
    Returns the list of metric rows (one per evaluation).
    """
    config = session.config
    batches = n_batches(session.datasets.train, config.data.batch_size)
    started = time.perf_counter()
    for epoch in range(session.start_epoch + 1, config.train.epochs + 1):
        if on_epoch_start:
            on_epoch_start(epoch, batches)
        try:  # Ctrl-C while training or evaluating; the epoch before is on disk
            tick = time.perf_counter()
            train_loss, train_acc, examples = train_epoch(session, epoch, on_batch)
            speed = examples / max(time.perf_counter() - tick, 1e-9)
            if epoch % config.train.eval_every == 0 or epoch == config.train.epochs:
                test_loss, test_acc = evaluate(session.model, session.datasets.test, config)
                row = dict(epoch=epoch, train_loss=train_loss, train_acc=train_acc, test_loss=test_loss,
                           test_acc=test_acc, examples_per_s=speed, elapsed_s=time.perf_counter() - started)
                session.metrics.append(row)
                if on_eval:
                    on_eval(row)
            runs.save_checkpoint(session.run_dir, session.model, session.optimizer, epoch, session.metrics)
        except KeyboardInterrupt:
            raise _interrupted(session, epoch) from None
    return session.metrics


def _interrupted(session, epoch):
    """The message for Ctrl-C in ``epoch``, naming the epoch that is safely saved.

    The checkpoint is written atomically, so it holds either the epoch before
    or, if the interrupt came after it was written, this one.
    """
    try:
        saved = runs.load_checkpoint(session.run_dir)[2]
    except CheckpointError:
        saved = 0
    if not saved:
        return Interrupted(f"interrupted during epoch {epoch}, before any epoch was saved.",
                           hint="Nothing to resume yet: start the run again.")
    return Interrupted(f"interrupted during epoch {epoch}; epoch {saved} is saved in {session.run_dir}.",
                       hint=f"Continue with: minigrad train --resume {session.run_dir}")
