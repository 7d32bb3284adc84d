"""``minigrad suite``: one run file trained on many bAbI tasks and seeds, in parallel.

Each (task, seed) is an ordinary run folder, ``SUITE/task01-seed0/``, made by
``minigrad train`` itself, so ``predict`` and ``--resume`` work on it. A suite
folder holds::

    suite.json     the run file and --set values it was made with
    task01-seed0/  one run folder per task and seed
    logs/          what each run printed, one file per run
    results.csv    one row per run; summary.csv and summary.md, one row per task

A run is finished when its state.json names the configured number of
epochs, or says early stopping ended it; running the same command again skips finished runs and resumes the
others from their checkpoints. This module plans a suite: its runs, its
folder, and which runs are finished. ``run`` trains them, several at once,
with ``workers`` (in ``local`` or over ``mpi``); ``report`` writes what
comes out, and ``view`` shows progress.
"""

import json
import os
import re
from dataclasses import dataclass
from pathlib import Path

from pydantic import BaseModel

from ...errors import ConfigError
from ...serialization import write_text_atomic
from .. import runs
from ..folders import SUITE_FILE
from ..config import bundled, load_config
from ..config.wording import short_repr
from ..config.limits import MAX_JOBS, MAX_SUITE_SEEDS
from ..config.overrides import parse_settings
from .baselines import default_columns, load_baselines, parse_columns
from .report import run_result
from .workers import saved_epoch

MAX_TASK = 20
# Fields the suite sets for each run itself; a --set on them would be silently overridden.
RESERVED = {"name": "each run is named after its task and seed", "data.task": "use --tasks",
            "train.seed": "use --seeds", "train.out": "use --out"}


@dataclass(frozen=True)
class Run:
    """One (task, seed) of a suite and the folder it trains in."""

    task: int
    seed: int
    folder: Path

    @property
    def name(self):
        return f"task{self.task:02d}-seed{self.seed}"


@dataclass
class Suite:
    """A suite ready to run: its folder, run file, settings and runs."""

    folder: Path
    config_path: Path
    config: object
    set_texts: list
    runs: list
    columns: list = None  # the keys of the published columns shown beside the suite's (see .baselines)

    @property
    def epochs(self):
        return self.config.train.epochs

    @property
    def select_by(self):
        """The split seeds are chosen on: validation when the run file holds one out, else training."""
        return "valid" if self.config.data.valid_fraction > 0 else "train"


def parse_tasks(text):
    """``"1-20"``, ``"1,4,7"``, ``"qa3"`` or a mix (``"1-3,qa7"``) -> sorted task numbers."""
    tasks = set()
    for part in (text or "").split(","):
        part = part.strip().lower()
        match = _TASK_RANGE.fullmatch(part)
        if not match:
            raise ConfigError(f"--tasks {short_repr(text)}: {short_repr(part or 'an empty item')} is not a task "
                              "or a range of tasks.", hint="Give task numbers 1-20 as a range or a list: "
                                                           "--tasks 1-20, --tasks 1,4,7, --tasks qa3.")
        low, high = _task_number(match.group(1)), _task_number(match.group(2) or match.group(1))
        if not 1 <= low <= high <= MAX_TASK:
            raise ConfigError(f"--tasks {short_repr(text)}: {short_repr(part)} is outside the bAbI tasks "
                              f"1-{MAX_TASK}.", hint="The tasks are numbered 1-20, e.g. --tasks 1-20 or --tasks 1,4,7.")
        tasks.update(range(low, high + 1))
    return sorted(tasks)


# A task or a range of them, in ASCII digits (str.isdigit takes '²', which int() refuses).
_TASK_RANGE = re.compile(r"(?:qa)?([0-9]+)(?:\s*-\s*(?:qa)?([0-9]+))?")


def _task_number(digits):
    """The number ``digits`` writes; one past the last task for more digits than any task has."""
    return int(digits) if len(digits) <= 3 else MAX_TASK + 1


def check_counts(seeds, jobs):
    """Refuse a --seeds or --jobs outside what one suite can run."""
    if not 1 <= seeds <= MAX_SUITE_SEEDS:
        raise ConfigError(f"--seeds {short_repr(seeds)}: a suite trains 1 to {MAX_SUITE_SEEDS} seeds of each task.",
                          hint="e.g. --seeds 5")
    if jobs is not None and not 1 <= jobs <= MAX_JOBS:
        raise ConfigError(f"--jobs {short_repr(jobs)}: runs at once must be 1 to {MAX_JOBS}.",
                          hint="Leave --jobs out for one run per core.")


def prepare(config_name, set_texts, tasks, seeds, out=None, columns=None):
    """Check the run file and settings, create or check the suite folder, and list its runs.

    ``columns`` is ``--columns``' text (the published columns to show), None for the model's default.
    """
    check_counts(seeds, None)
    published = load_baselines()
    chosen = parse_columns(columns, published) if columns is not None else None
    settings = parse_settings(set_texts)
    for key in settings:
        if key in RESERVED:
            raise ConfigError(f"--set {key}: the suite sets this field for each run; {RESERVED[key]}.")
    path = bundled.find_config(config_name).resolve()
    config = load_config(path, settings=settings)
    set_texts = list(set_texts or ())
    speed = _speed_settings(config)
    if speed:
        set_texts += speed
        config = load_config(path, settings=parse_settings(set_texts))
    if config.data.mode == "lm":
        raise ConfigError(f"{path}: data.mode is lm; a suite compares answers to the published bAbI results.",
                          hint="Use a question-answering run file (data.mode: qa or memory), e.g. babi_memn2n.")
    folder = Path(out) if out is not None else Path("suites") / config.name
    _check_folder(folder, path, set_texts, _identity(config), config)
    runs = [Run(task, seed, folder / f"task{task:02d}-seed{seed}") for task in tasks for seed in range(seeds)]
    return Suite(folder, path, config, set_texts, runs, chosen or default_columns(config.model))


# A run of a suite is judged by its last epoch, and its seed chosen on validation, so unless the run file
# or --set says otherwise it scores the test split once, at the end, and saves every few epochs.
CHECKPOINT_EVERY = 10


def _speed_settings(config):
    """The --set texts that make a suite's runs score test at the end and checkpoint every few epochs."""
    chosen = config.train.model_fields_set
    texts = [] if "test_every" in chosen else [f"train.test_every={config.train.epochs}"]
    return texts + ([] if "checkpoint_every" in chosen else [f"train.checkpoint_every={CHECKPOINT_EVERY}"])


def _identity(config):
    """What makes two suites the same: the resolved run file, less what differs from run to run."""
    resolved = config.model_dump(mode="json")
    resolved.pop("name")
    for section, key in (("data", "task"), ("train", "seed"), ("train", "out")):
        resolved[section].pop(key)
    return resolved


def _without_added_defaults(identity, saved, section):
    """``identity`` less the fields a suite folder's saved identity lacks and ``section`` holds at their
    defaults: fields added to the schema since the folder was made (``model.gates``) that change nothing."""
    if not isinstance(saved, dict):
        return identity
    kept = {}
    for key, value in identity.items():
        field = type(section).model_fields.get(key) if isinstance(section, BaseModel) else None
        if key not in saved and field is not None and value == _json(field.get_default(call_default_factory=True)):
            continue
        child = getattr(section, key, None)
        kept[key] = _without_added_defaults(value, saved.get(key), child) if isinstance(value, dict) else value
    return kept


def _json(value):
    return value.model_dump(mode="json") if isinstance(value, BaseModel) else value


def _read_suite_file(file):
    try:
        saved = json.loads(file.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, ValueError, RecursionError) as exc:
        raise ConfigError(f"{file} is damaged ({getattr(exc, 'strerror', None) or exc}).",
                          hint="Restore it, or give another --out for a new suite.") from None
    if not isinstance(saved, dict):
        raise ConfigError(f"{file} is damaged (not a mapping).", hint="Restore it, or give another --out.")
    return saved


def _check_folder(folder, config_path, set_texts, identity, config):
    """Refuse a folder made by another run file or other settings; remember ours in a new one."""
    file = folder / SUITE_FILE
    if file.is_file():
        saved = _read_suite_file(file)
        if saved.get("run") != _without_added_defaults(identity, saved.get("run"), config):
            before = " ".join([saved.get("config", "?")] + [f"--set {t}" for t in saved.get("set", [])])
            raise ConfigError(f"{folder} holds a suite of another run file or other --set values "
                              f"({_first_difference(saved.get('run'), identity)}).",
                              hint=f"Continue it with the same ones ({before}), or give another --out.")
        return
    if folder.is_dir() and any(folder.iterdir()):
        raise ConfigError(f"{folder} is not empty and has no {SUITE_FILE}, so it is not a suite folder.",
                          hint="Give an empty or new folder with --out.")
    try:
        folder.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        reason = "it is not a folder" if isinstance(exc, FileExistsError) else exc.strerror or exc
        raise ConfigError(f"cannot create the suite folder {folder}: {reason}.",
                          hint="Give a folder that can be made with --out, e.g. --out suites/mine.") from None
    saved = {"config": str(config_path), "set": list(set_texts or ()), "run": identity}
    write_text_atomic(file, json.dumps(saved, indent=2) + "\n")


def _first_difference(old, new, path=""):
    """``"optimizer.lr was 0.01, now 0.1"`` for the first field where two mappings differ."""
    if isinstance(old, dict) and isinstance(new, dict):
        for key in sorted(set(old) | set(new)):
            if old.get(key) != new.get(key):
                return _first_difference(old.get(key), new.get(key), f"{path}.{key}" if path else key)
    return f"{path or 'the run file'} was {json.dumps(old)}, now {json.dumps(new)}"


def is_finished(suite, run):
    """A run that trained its epochs, or that early stopping ended (a normal end)."""
    return saved_epoch(run.folder) >= suite.epochs or runs.stopped_early(run.folder)


def status_of(suite, run, outcome=None):
    """``done``, or how this attempt ended (``failed``, ``interrupted``), or ``pending`` if never started."""
    if is_finished(suite, run):
        return "done"
    if outcome is None:
        return "interrupted" if saved_epoch(run.folder) else "pending"
    return "failed" if outcome.status == "done" else outcome.status  # exit 0 short of its epochs is no success


def result_of(suite, run, outcome=None):
    """The results.csv row of a run; a failed run's message comes from ``outcome``."""
    status = status_of(suite, run, outcome)
    message = (outcome.message or "stopped before its last epoch") if status == "failed" and outcome else ""
    return run_result(run, status, saved_epoch(run.folder), message)


def jobs_at_once(jobs, world):
    """Runs at once on this rank: ``--jobs``, else one per core, or one under mpiexec (a rank per core)."""
    return jobs or (1 if world.size > 1 else len(os.sched_getaffinity(0)))


def unfinished(suite):
    """How many of the suite's runs are still to train."""
    return sum(not is_finished(suite, run) for run in suite.runs)
