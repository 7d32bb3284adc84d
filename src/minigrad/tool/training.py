"""Training: the loop behind ``minigrad train``.

``train`` reports through callbacks (``on_epoch_start``, ``on_batch``,
``on_eval``) and never prints, so the command line can draw progress bars and
tables while tests simply collect the numbers.
"""

import json
import math
import time

import numpy as np

from ..data import batch_count
from ..errors import CheckpointError, MinigradError, TrainingDiverged
from ..optim import clip_each_matrix, clip_grad_norm
from . import best as best_epoch, per_task, runs
from .evaluation import batch_loss, split_scores
from .suite.report import training_seconds


# optimizer.clip_mode -> (clip each parameter on its own?, how a gradient's size is measured)
CLIP_MODES = {"global": (False, "l2"), "per_parameter": (True, "l2"), "per_parameter_spectral": (True, "spectral")}


class Interrupted(MinigradError):
    """Training was stopped with Ctrl-C; the last complete epoch is saved."""

    exit_code = 130


def train_epoch(session, epoch, on_batch=None):
    """One pass over the training set; returns (mean loss, accuracy, examples)."""
    config, optimizer, clip = session.config, session.optimizer, session.config.optimizer.clip_norm
    per_parameter, norm = CLIP_MODES[config.optimizer.clip_mode]
    summed = config.loss.reduction == "sum"
    rng = np.random.default_rng([config.train.seed, epoch])  # per epoch, so a resumed run shuffles alike
    bound = loss_bound(config.train.max_loss_ratio, len(session.datasets.vocab))
    total_loss = total = right = examples = 0
    matrices = session.model.weight_matrices() if per_parameter else None  # the grouping never changes
    train, size = session.datasets.train, config.data.batch_size
    batches = session.threads.batches(train.batches(size, rng, *_drawing(config.data, len(train))))
    for i, batch in enumerate(batches):
        # Under MPI: this rank's share of the batch, and after backward every rank's gradients summed.
        loss, n, r = batch_loss(session, session.world.share(batch))
        value, n, r = session.world.backward(loss, n, r, summed, optimizer.parameters)
        if not (math.isfinite(value) and (bound is None or value <= bound)):  # the whole batch's loss
            if session.world.is_root:
                _mark_diverged(session, epoch, i + 1)
            raise session.world.every_rank(_diverged(session, value, epoch, i + 1))
        if clip:
            _clip(session, clip, matrices, norm)
        optimizer.step()
        session.model.after_step()
        total_loss, total, right = total_loss + value * n, total + n, right + r
        examples += len(batch[-1])
        if on_batch:
            on_batch(i + 1)
    return total_loss / max(total, 1), right / max(total, 1), examples


def _clip(session, max_norm, matrices, norm):
    """Clip the gradients as optimizer.clip_mode says: each weight matrix of ``matrices`` on its own, or,
    for None, all together."""
    if matrices is not None:
        clip_each_matrix(matrices, max_norm, norm)
    else:
        clip_grad_norm(session.optimizer.parameters, max_norm)


def loss_bound(max_loss_ratio, vocab_size):
    """The largest batch loss that still counts as learning, or None for no bound.

    A model that knows nothing and gives every word the same probability
    scores ln(vocabulary size), and an untrained model starts near that; a
    loss ``max_loss_ratio`` times as large means the weights have blown up
    (a too-large learning rate), even while the loss stays finite.
    """
    return None if max_loss_ratio is None else max_loss_ratio * math.log(vocab_size)


def _diverged(session, value, epoch, batch):
    """The error for a NaN, infinite or exploding loss at ``batch`` of ``epoch``."""
    config, ratio = session.config, session.config.train.max_loss_ratio
    change = f"Lower optimizer.lr (now {config.optimizer.lr:g}) or set optimizer.clip_norm"
    if math.isfinite(value):
        guess = math.log(len(session.datasets.vocab))
        what = (f"the loss exploded to {value:.3g} at epoch {epoch}, batch {batch}: more than {ratio:g} times "
                f"the {guess:.3g} of guessing every word alike (train.max_loss_ratio: {ratio:g}); training stopped.")
        change += "; train.max_loss_ratio sets this limit"
    else:
        what = f"the loss became {value} at epoch {epoch}, batch {batch}; training stopped."
    return TrainingDiverged(what, hint=f"{_what_is_kept(session)} {change}.")


def _mark_diverged(session, epoch, batch):
    """Say in state.json that the run stopped on a diverging loss, for ``minigrad runs``.

    The epoch it names stays the one the checkpoint holds (0 if none); a
    resumed run's next save writes the state afresh, without the mark.
    """
    state = {"epoch": _saved_epoch(session), "diverged": {"epoch": epoch, "batch": batch}}
    runs.write_text_atomic(session.run_dir / "state.json", json.dumps(state))


def _what_is_kept(session):
    saved = _saved_epoch(session)
    if not saved:
        return f"No epoch had finished, so no weights were saved in {session.run_dir}."
    return f"The last good checkpoint (epoch {saved}) is kept in {session.run_dir}."


def _saved_epoch(session):
    """The epoch the run folder's checkpoint holds; 0 before the first is saved (or if it is damaged)."""
    try:
        return runs.checkpoint_epoch(session.run_dir)
    except CheckpointError:
        return 0


def _drawing(data, n):
    """(drop_last, replacement) for ``batches()`` of ``n`` training examples, as the ``data`` section says;
    a set smaller than one batch keeps its short batch."""
    return data.drop_last and n >= data.batch_size, data.sampling == "replacement"


def n_batches(dataset, data):
    """How many batches an epoch of ``dataset`` has, as the ``data`` section draws them."""
    return batch_count(len(dataset), data.batch_size, *_drawing(data, len(dataset)))


def learning_rate(config, epoch):
    """The learning rate of ``epoch`` (counted from 1).

    A linear start (``model.linear_start``) runs its epochs at its own flat
    rate. The main phase starts at ``optimizer.lr`` and, with a step
    schedule, is multiplied by ``factor`` after every ``every`` of its own
    epochs: with a 20-epoch linear start and ``every: 25``, epochs 21-45 run
    at ``lr``, 46-70 at ``lr * factor``, and so on.
    """
    start = getattr(config.model, "linear_start", None)
    if start is not None and epoch <= start.epochs:
        return start.lr
    done = epoch - 1 - (start.epochs if start is not None else 0)  # main-phase epochs before this one
    schedule = config.optimizer.schedule
    return config.optimizer.lr * (schedule.factor ** (done // schedule.every) if schedule else 1.0)


def enter_epoch(session, epoch):
    """Set the learning rate and the phase (linear start or not) that ``epoch`` trains in."""
    session.optimizer.lr = learning_rate(session.config, epoch)
    start = getattr(session.config.model, "linear_start", None)
    if start is not None:
        session.model.linear_start = epoch <= start.epochs


def _evaluation_row(session, epoch, train_loss, train_acc, speed, started):
    """The metrics of ``epoch`` and whether training should stop there (early stopping).

    Training scores, validation ones with a validation split, and test ones
    when due, at an epoch that is the best on validation so far, and at the
    last. Validation alone chooses the best epoch, whose weights are saved.
    """
    datasets, best = session.datasets, session.best
    row = dict(epoch=epoch, train_loss=train_loss, train_acc=train_acc, examples_per_s=speed)
    valid_tasks = None
    if datasets.valid is not None:
        (row["valid_loss"], row["valid_acc"]), valid_tasks = split_scores(session, "valid")
    improved = best is not None and best.improves(row)
    if improved:
        best.take(row)
    stopping = best is not None and best.stops(epoch)
    if improved or stopping or _due(epoch, session.config.train.test_every or session.config.train.eval_every,
                                    session.config):
        (row["test_loss"], row["test_acc"]), test_tasks = split_scores(session, "test")
        if datasets.tasks and session.world.is_root:  # several tasks: each one's errors too
            per_task.save(session.run_dir, test_tasks, valid_tasks)
    row["elapsed_s"] = time.perf_counter() - started
    if improved and session.world.is_root:
        best_epoch.save(session.run_dir, session.model.state_dict(), best_epoch.info(best, row))
    return row, stopping


def _due(epoch, every, config):
    """Whether something done every ``every`` epochs, and at the last, is due at ``epoch``."""
    return epoch % every == 0 or epoch == config.train.epochs


def train(session, on_epoch_start=None, on_batch=None, on_eval=None):
    """Train from ``session.start_epoch`` to the configured number of epochs, or until early stopping.

    After every epoch the weights, optimizer buffers and metrics are saved, so
    Ctrl-C or a diverging loss leaves the last complete epoch on disk. An
    early stop sets ``session.stopped_early`` to its epoch and is a normal end.
    Returns the list of metric rows (one per evaluation).
    """
    config = session.config
    batches = n_batches(session.datasets.train, config.data)
    started = time.perf_counter() - (training_seconds(session.metrics) if session.metrics else 0.0)  # resumed: go on
    for epoch in range(session.start_epoch + 1, config.train.epochs + 1):
        if on_epoch_start:
            on_epoch_start(epoch, batches)
        try:  # Ctrl-C while training or evaluating; the epoch before is on disk
            if _train_and_save(session, epoch, on_batch, on_eval, started):
                session.stopped_early = epoch
                break
        except KeyboardInterrupt:
            raise session.world.every_rank(_interrupted(session, epoch)) from None  # every rank gets Ctrl-C
    return session.metrics


def _train_and_save(session, epoch, on_batch, on_eval, started):
    """Train ``epoch``, score it when due and save it when due; return whether training stops early."""
    config, stopping = session.config, False
    enter_epoch(session, epoch)
    tick = time.perf_counter()
    train_loss, train_acc, examples = train_epoch(session, epoch, on_batch)
    speed = examples / max(time.perf_counter() - tick, 1e-9)
    if _due(epoch, config.train.eval_every, config):
        row, stopping = _evaluation_row(session, epoch, train_loss, train_acc, speed, started)
        session.metrics.append(row)
        if on_eval:
            on_eval(row)
    if session.world.is_root and (stopping or _due(epoch, config.train.checkpoint_every, config)):
        runs.save_checkpoint(session.run_dir, session.model, session.optimizer, epoch, session.metrics,
                             stopped_early=stopping)
    return stopping


def _interrupted(session, epoch):
    """The message for Ctrl-C in ``epoch``, naming the epoch that is safely saved.

    The checkpoint is written atomically, so it holds either the epoch before
    or, if the interrupt came after it was written, this one.
    """
    saved = _saved_epoch(session)
    if not saved:
        return Interrupted(f"interrupted during epoch {epoch}, before any epoch was saved.",
                           hint="Nothing to resume yet: start the run again.")
    return Interrupted(f"interrupted during epoch {epoch}; epoch {saved} is saved in {session.run_dir}.",
                       hint=f"Continue with: minigrad train --resume {session.run_dir}")
