"""A run's session: its config, data, model, optimizer and folder, new or resumed.

``start_session(config)`` builds everything from a run file's config and
creates the run folder; ``resume_session(folder)`` rebuilds the same from a
saved run and restores its last checkpoint. ``minigrad.tool.training`` trains
either.
"""

import itertools
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from ..backend import check_device
from ..data import build_datasets, resolve_task
from ..data.splits import punctuation
from ..errors import CheckpointError, ConfigError, DataError
from ..models import build_model
from ..optim import SGD, Adagrad, Adam
from . import distributed, runs
from .best import Best
from .lock import RunLock, released_on_error
from .loggers import check_installed
from .threads import FixedThreads
from .config import RunConfig, bundled, load_config
from .config.overrides import parse_settings


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
    world: object = distributed.ALONE  # the processes training together (see minigrad.tool.distributed)
    lock: object = None  # rank 0's hold on run_dir (see minigrad.tool.lock), let go by close()
    best: object = None  # the best epoch on validation so far (minigrad.tool.best), None without validation
    stopped_early: int = 0  # the epoch early stopping ended training at, 0 if it did not
    threads: object = field(default_factory=lambda: FixedThreads(1))  # the BLAS thread plan (minigrad.tool.threads), set by the command line

    def close(self):
        if self.lock is not None:
            self.lock.release()


# optimizer.name -> a function (optimizer section, parameters) -> Optimizer.
OPTIMIZERS = {
    "sgd": lambda spec, ps: SGD(ps, lr=spec.lr, momentum=spec.momentum, weight_decay=spec.weight_decay),
    "adam": lambda spec, ps: Adam(ps, lr=spec.lr, weight_decay=spec.weight_decay),
    "adagrad": lambda spec, ps: Adagrad(ps, lr=spec.lr, initial_accumulator=spec.initial_accumulator,
                                        weight_decay=spec.weight_decay),
}


def make_optimizer(spec, parameters):
    """The optimizer a run file's ``optimizer`` section names."""
    return OPTIMIZERS[spec.name](spec, parameters)


def _meta(config, datasets):
    meta = {"mode": config.data.mode}
    if config.data.mode == "qa":
        meta.update(story_len=datasets.train.story_len, question_len=datasets.train.question_len)
    if config.data.mode == "memory":
        meta.update(sentence_len=datasets.train.sentence_len, slots=datasets.train.slots,
                    punctuation=punctuation(config.data))
    return meta


def _memory_options(model):
    """What mode memory's data takes from a memory model: how much it holds, the noise on ages (memn2n)."""
    if not hasattr(model, "memory_size"):
        return {}
    return {"memory_size": model.memory_size, "random_noise": getattr(model, "random_noise", 0.0)}


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
    check_installed(config.train.loggers)  # before a folder is made for a run that cannot start
    datasets, model, optimizer = build(config)
    run_dir = lock = None
    if world.is_root:  # under MPI, rank 0 alone writes the run folder
        run_dir = runs.new_run_dir(config.train.out, config.name)
        lock = RunLock(run_dir).acquire()
        with lock.released_on_error():
            runs.save_setup(run_dir, config, datasets.vocab, _meta(config, datasets))
    world.broadcast(model.parameters())  # identical from the same seed; rank 0's copy makes it certain
    return Session(config, datasets, model, optimizer, world.from_root(run_dir), world=world, lock=lock,
                   best=Best.for_run(config, datasets.valid is not None))


def resume_session(run_path, overrides=None):
    """Continue a saved run from its last complete epoch (``overrides`` may raise ``epochs``)."""
    world = distributed.world()
    # Rank 0 holds the folder before reading it: no other process may be writing it meanwhile.
    lock = RunLock(runs.run_folder(run_path)).acquire() if world.is_root else None
    with released_on_error(lock):
        return _resumed(run_path, overrides, world, lock)


def _resumed(run_path, overrides, world, lock):
    saved = runs.load_run(run_path)
    runs.remove_temporaries(saved.path)  # left by a process killed while writing; none is writing now
    config = load_config(saved.path / "config.yaml", overrides)
    datasets, model, optimizer = build(config)
    if datasets.vocab != saved.vocab:
        raise CheckpointError(f"{saved.path}: the task's vocabulary no longer matches the saved one.",
                              hint="The data files changed since the run was saved; start a new run.")
    epoch = runs.restore_checkpoint(saved.path, model, optimizer)
    new_total = (overrides or {}).get("epochs")
    _check_epochs_left(saved.path, epoch, config.train.epochs, new_total is not None)
    if world.is_root:
        if new_total is not None:  # the run's plan is now the new total, for minigrad runs and later resumes
            runs.set_planned_epochs(saved.path, new_total)
        runs.point_latest(saved.path)
    world.broadcast(model.parameters())
    metrics = [row for row in saved.metrics if row["epoch"] <= epoch]
    best = Best.for_run(config, datasets.valid is not None)
    return Session(config, datasets, model, optimizer, saved.path, epoch, metrics, world, lock,
                   best=best and best.restore(saved.path, epoch))


def _check_epochs_left(run_dir, done, wanted, from_option):
    """Refuse a resume that would train nothing: ``wanted`` epochs in all, ``done`` already."""
    if wanted > done:
        return
    had = f"{run_dir} already has {done} epoch{'s' if done != 1 else ''}"
    if not from_option:
        raise ConfigError(f"{had}; its train.epochs ({wanted}) asks for no more.",
                          hint=f"To train longer, give the new total with --epochs M, M > {done}; for 10 more: "
                               f"minigrad train --resume {run_dir} --epochs {done + 10}")
    # --epochs N reads naturally as "N more": say that it is the total, and give the total for N more.
    raise ConfigError(f"{had}; --epochs {wanted} asks for no more: on --resume, --epochs is the new total, "
                      f"not the epochs to add.",
                      hint=f"To train {wanted} more: minigrad train --resume {run_dir} --epochs {done + wanted}")


def open_session(config, resume=None, set_texts=None, **options):
    """The session ``minigrad train`` asks for: a run file (a path or a bundled name) or ``--resume RUN``.

    ``options`` are the command's: ``task``, ``epochs``, ``device``, ``seed``
    and ``out`` (None when not given); ``set_texts`` the ``--set`` values.
    A resumed run takes only ``epochs`` (the new total) and ``device``.
    """
    settings = parse_settings(set_texts)
    if resume is not None:
        given = [("--task", options.get("task")), ("--seed", options.get("seed")), ("--out", options.get("out")),
                 ("--set", set_texts or None)]
        fixed = [name for name, value in given if value is not None]
        if fixed or config is not None:
            raise ConfigError(f"{', '.join(fixed) or 'a config file'} cannot change a run being resumed.",
                              hint="--resume takes --epochs (the new total) and --device only.")
        return resume_session(resume, {"epochs": options.get("epochs"), "device": options.get("device")})
    if config is None:
        raise ConfigError("give a config file or --resume RUN.",
                          hint="e.g. minigrad train babi_rnn (minigrad configs lists the bundled run files).")
    return start_session(resolve_config(config, settings, **options))


def resolve_config(config, settings=None, **options):
    """The ``RunConfig`` a new run of ``config`` (a path or a bundled name) trains with.

    Its bases are merged, the command's ``options`` (``task``, ``epochs``,
    ``device``, ``seed``, ``out``; None when not given) and ``settings``
    (``--set``, parsed) applied, and every default filled in.
    """
    task, out = options.get("task"), options.get("out")
    overrides = {"task": _task_value(task), "epochs": options.get("epochs"), "device": options.get("device"),
                 "seed": options.get("seed"), "out": None if out is None else str(out)}
    return load_config(bundled.find_config(config), overrides, settings=settings)


def _task_value(task):
    """A task option as the config expects it: a number stays a number."""
    return int(task) if task is not None and task.isascii() and task.isdigit() and len(task) < 10 else task
