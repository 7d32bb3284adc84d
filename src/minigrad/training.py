"""Training and evaluation: the loop behind ``minigrad train``.

``train`` reports through callbacks (``on_epoch_start``, ``on_batch``,
``on_eval``) and never prints, so the command line can draw progress bars and
tables while tests simply collect the numbers.
"""

import itertools
import json
import math
import time
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from . import distributed, per_task, runs
from .autograd import no_grad
from .backend import check_device, to_device
from .config import RunConfig, load_config
from .data import build_datasets, resolve_task
from .data.batching import punctuation
from .errors import CheckpointError, ConfigError, DataError, MinigradError, TrainingDiverged
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
    world: object = distributed.ALONE  # the processes training together (see minigrad.distributed)


def make_optimizer(spec, parameters):
    """The optimizer a run file's ``optimizer`` section names."""
    if spec.name == "adam":
        return Adam(parameters, lr=spec.lr, weight_decay=spec.weight_decay)
    return SGD(parameters, lr=spec.lr, momentum=spec.momentum, weight_decay=spec.weight_decay)


def _meta(config, datasets):
    meta = {"mode": config.data.mode}
    if config.data.mode == "qa":
        meta.update(story_len=datasets.train.story_len, question_len=datasets.train.question_len)
    if config.data.mode == "memory":
        meta.update(sentence_len=datasets.train.sentence_len, slots=datasets.train.slots,
                    punctuation=punctuation(config.data))
    return meta


def _memory_options(model):
    """What mode memory's data takes from a memory network: how much it holds, the noise on ages."""
    if model.type != "memn2n":
        return {}
    return {"memory_size": model.memory_size, "random_noise": model.random_noise}


def build(config):
    """Seeded data, model and optimizer for ``config`` (the same seed gives the same run)."""
    check_device(config.device)
    np.random.seed(config.train.seed)  # layers draw their initial weights from numpy's global generator
    datasets = build_datasets(config.data, **_memory_options(config.model))
    _check_not_empty(config.data, datasets)
    model = build_model(config, len(datasets.vocab)).to(config.device)
    return datasets, model, make_optimizer(config.optimizer, model.parameters())


# What each mode learns from, to say what a split without examples lacks.
_EXAMPLES = {
    "lm": ("no line has two words or more", "Give it numbered lines such as '1 Mary moved to the bathroom.'"),
    "qa": ("it has no questions",
           "Question lines read 'ID question?<TAB>answer<TAB>supporting ids'; or train with data.mode: lm."),
}
_EXAMPLES["memory"] = _EXAMPLES["qa"]


def _check_not_empty(data, datasets):
    """Refuse a split with no examples (of any task): training or testing on nothing would look like success."""
    parts = [(t.task, t) for t in datasets.tasks] if datasets.tasks else [(data.task, datasets)]
    for (task, part), split in itertools.product(parts, ("train", "test")):
        if len(getattr(part, split)) == 0:
            lack, hint = _EXAMPLES[data.mode]
            raise DataError(f"{resolve_task(task, split)}: nothing to {split} on in mode "
                            f"{data.mode}: {lack}.", hint)


def start_session(config):
    """A new run: build everything and create its folder."""
    world = distributed.world()
    datasets, model, optimizer = build(config)
    run_dir = None
    if world.is_root:  # under MPI, rank 0 alone writes the run folder
        run_dir = runs.new_run_dir(config.train.out, config.name)
        runs.save_setup(run_dir, config, datasets.vocab, _meta(config, datasets))
    world.broadcast(model.parameters())  # identical from the same seed; rank 0's copy makes it certain
    return Session(config, datasets, model, optimizer, world.from_root(run_dir), world=world)


def resume_session(run_path, overrides=None):
    """Continue a saved run from its last complete epoch (``overrides`` may raise ``epochs``)."""
    saved = runs.load_run(run_path)
    config = load_config(saved.path / "config.yaml", overrides)
    datasets, model, optimizer = build(config)
    if datasets.vocab != saved.vocab:
        raise CheckpointError(f"{saved.path}: the task's vocabulary no longer matches the saved one.",
                              hint="The data files changed since the run was saved; start a new run.")
    epoch = runs.restore_checkpoint(saved.path, model, optimizer)
    _check_epochs_left(saved.path, epoch, config.train.epochs, (overrides or {}).get("epochs") is not None)
    world = distributed.world()
    if world.is_root:
        runs.point_latest(saved.path)
    world.broadcast(model.parameters())
    metrics = [row for row in saved.metrics if row["epoch"] <= epoch]
    return Session(config, datasets, model, optimizer, saved.path, epoch, metrics, world)


def _check_epochs_left(run_dir, done, wanted, from_option):
    """Refuse a resume that would train nothing: ``wanted`` epochs in all, ``done`` already."""
    if wanted > done:
        return
    asked = f"--epochs {wanted}" if from_option else f"its train.epochs ({wanted})"
    raise ConfigError(f"{run_dir} already has {done} epoch{'s' if done != 1 else ''}; {asked} asks for no more.",
                      hint=f"To train longer, give the new total with --epochs M, M > {done}: "
                           f"minigrad train --resume {run_dir} --epochs {done + 10}")


def forward(model, batch, mode, device="cpu"):
    """(scores, targets) of a batch: next-word scores for lm, answer scores for qa and memory."""
    arrays = [to_device(a, device) for a in batch]
    if mode == "lm":
        inputs, targets = arrays
        return model(inputs), targets
    *inputs, answers = arrays  # qa: stories, questions; memory: memories, questions, times, mask
    return model(*inputs), answers


def _counts(scores, targets, ignore_index):
    """(number of counted targets, number predicted right) for accuracy."""
    counted = targets != ignore_index if ignore_index is not None else np.ones(targets.shape, bool)
    right = (scores.data.argmax(axis=-1) == targets) & counted
    return int(counted.sum()), int(right.sum())


def evaluate(model, dataset, config, world=distributed.ALONE):
    """Mean loss and accuracy over a dataset, without building a graph."""
    return _means(*evaluate_sums(model, dataset, config, world))


def evaluate_sums(model, dataset, config, world=distributed.ALONE):
    """(summed loss, counted targets, right predictions) over a dataset: sums pool across datasets.

    Under MPI each rank scores its share of every batch and the sums are added up.
    """
    ignore = config.loss.ignore_index
    total_loss = total = right = 0
    model.eval()
    with no_grad():
        for batch in map(world.share, dataset.batches(config.data.batch_size)):
            if not len(batch[-1]):  # a last batch with fewer rows than ranks leaves some none
                continue
            scores, targets = forward(model, batch, config.data.mode, config.device)
            n, r = _counts(scores, targets, ignore)
            total_loss += scores.cross_entropy(targets, ignore_index=ignore).item() * n
            total, right = total + n, right + r
    model.train()
    return world.sum((total_loss, total, right))


def _means(total_loss, total, right):
    """(mean loss, accuracy) from ``evaluate_sums``' figures."""
    return total_loss / max(total, 1), right / max(total, 1)


def train_epoch(session, epoch, on_batch=None):
    """One pass over the training set; returns (mean loss, accuracy, examples)."""
    config, optimizer, clip = session.config, session.optimizer, session.config.optimizer.clip_norm
    per_parameter, summed = config.optimizer.clip_mode == "per_parameter", config.loss.reduction == "sum"
    rng = np.random.default_rng([config.train.seed, epoch])  # per epoch, so a resumed run shuffles alike
    bound = loss_bound(config.train.max_loss_ratio, len(session.datasets.vocab))
    total_loss = total = right = examples = 0
    for i, batch in enumerate(session.datasets.train.batches(config.data.batch_size, rng)):
        # Under MPI: this rank's share of the batch, and after backward every rank's gradients summed.
        loss, n, r = batch_loss(session, session.world.share(batch))
        value, n, r = session.world.backward(loss, n, r, summed, optimizer.parameters)
        if not (math.isfinite(value) and (bound is None or value <= bound)):  # the whole batch's loss
            if session.world.is_root:
                _mark_diverged(session, epoch, i + 1)
            raise session.world.every_rank(_diverged(session, value, epoch, i + 1))
        if clip:
            clip_grad_norm(optimizer.parameters, clip, per_parameter)
        optimizer.step()
        total_loss, total, right = total_loss + value * n, total + n, right + r
        examples += len(batch[-1])
        if on_batch:
            on_batch(i + 1)
    return total_loss / max(total, 1), right / max(total, 1), examples


def batch_loss(session, batch):
    """(mean loss, counted targets, right predictions) of a batch; (None, 0, 0) for one without rows."""
    config, ignore = session.config, session.config.loss.ignore_index
    if not len(batch[-1]):  # under MPI, a last batch with fewer rows than ranks leaves some none
        return None, 0, 0
    scores, targets = forward(session.model, batch, config.data.mode, config.device)
    return (scores.cross_entropy(targets, ignore_index=ignore), *_counts(scores, targets, ignore))


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
    """The epoch the run folder's checkpoint holds; 0 before the first is saved."""
    try:
        return runs.load_checkpoint(session.run_dir)[2]
    except CheckpointError:
        return 0


def n_batches(dataset, batch_size):
    return math.ceil(len(dataset) / batch_size)


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
    """The metrics of ``epoch``: training, (with a validation split) validation and, when due, test scores."""
    datasets = session.datasets
    row = dict(epoch=epoch, train_loss=train_loss, train_acc=train_acc, examples_per_s=speed)
    valid_tasks = None
    if datasets.valid is not None:
        (row["valid_loss"], row["valid_acc"]), valid_tasks = _split_scores(session, "valid")
    if _due(epoch, session.config.train.test_every or session.config.train.eval_every, session.config):
        (row["test_loss"], row["test_acc"]), test_tasks = _split_scores(session, "test")
        if datasets.tasks and session.world.is_root:  # several tasks: each one's errors too
            per_task.save(session.run_dir, test_tasks, valid_tasks)
    row["elapsed_s"] = time.perf_counter() - started
    return row


def _due(epoch, every, config):
    """Whether something done every ``every`` epochs, and at the last, is due at ``epoch``."""
    return epoch % every == 0 or epoch == config.train.epochs


def _split_scores(session, split):
    """(mean loss, accuracy) over a split, and each task's accuracy when the run has several tasks, else {}.

    With several tasks each task's part is scored once and the sums pooled, so
    the figures are still over all the tasks' examples.
    """
    model, config, tasks, world = session.model, session.config, session.datasets.tasks, session.world
    if not tasks:
        return evaluate(model, getattr(session.datasets, split), config, world), {}
    sums = {t.name: evaluate_sums(model, getattr(t, split), config, world) for t in tasks}
    pooled = [sum(column) for column in zip(*sums.values())]
    return _means(*pooled), {name: _means(*figures)[1] for name, figures in sums.items()}


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
            enter_epoch(session, epoch)
            tick = time.perf_counter()
            train_loss, train_acc, examples = train_epoch(session, epoch, on_batch)
            speed = examples / max(time.perf_counter() - tick, 1e-9)
            if _due(epoch, config.train.eval_every, config):
                row = _evaluation_row(session, epoch, train_loss, train_acc, speed, started)
                session.metrics.append(row)
                if on_eval:
                    on_eval(row)
            if session.world.is_root and _due(epoch, config.train.checkpoint_every, config):
                runs.save_checkpoint(session.run_dir, session.model, session.optimizer, epoch, session.metrics)
        except KeyboardInterrupt:
            raise session.world.every_rank(_interrupted(session, epoch)) from None  # every rank gets Ctrl-C
    return session.metrics


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
