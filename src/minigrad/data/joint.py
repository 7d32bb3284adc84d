"""Several bAbI tasks as one training set, for one model (``data.task: all`` or a list).

``data.task: all`` means tasks 1-20; a list names the tasks (``[1, 2, 3]``,
``["qa1", "qa4"]``, or ``*_train.txt`` paths). Each task is read as a run on
that task alone reads it: ``data.train_size`` and ``data.test_size`` count
per task, and a task's test set is cut to its own training lengths. Then:

* one vocabulary comes from all the tasks' training stories;
* the validation split is taken per task, the last ``data.valid_fraction``
  of each task's training questions, so every task has validation examples;
* the tasks' training sets are joined into one, so the shuffled order of an
  epoch mixes the tasks within its batches;
* every set is padded to the largest lengths of the tasks' training sets
  (mode memory: the longest sentence, and as many slots as the longest story
  needs, at most ``memory_size``), so that one model reads them all alike.

``Datasets.train``, ``.valid`` and ``.test`` are the unions; ``Datasets.tasks``
keeps each task's own sets (``TaskSplits``), which training scores one by one.
"""

import re
from pathlib import Path
from typing import NamedTuple

from ..errors import DataError
from .babi import NUM_TASKS, load_task
from .splits import Datasets, build_vocabulary, hold_out, punctuation, task_datasets

ALL = "all"

_NUMBERED = re.compile(r"(?:qa)?([0-9]{1,9})")  # 3 or qa3
_BABI_FILE = re.compile(r"(qa[0-9]{1,9})_")  # qa3_three-supporting-facts_train.txt


class TaskSplits(NamedTuple):
    """One task of a joint run: its short name, its entry in ``data.task``, and its sets."""

    name: str  # qa1 ... qa20, or the name of its file
    task: object  # as data.task lists it: 3, "qa3" or a path
    train: object  # as read; the union holds it padded
    valid: object  # None without a validation split
    test: object


def task_list(task):
    """The tasks a ``data.task`` value names when it names several (a list, or ``all``), else None."""
    if isinstance(task, (list, tuple)):
        return list(task)
    if isinstance(task, str) and task.strip().lower() == ALL:
        return list(range(1, NUM_TASKS + 1))
    return None


def task_name(task):
    """``qa3`` for 3, ``"3"``, ``"qa3"`` or a bAbI file of task 3; else the file's name less ``_train.txt``."""
    text = str(task).strip().lower()
    numbered = _NUMBERED.fullmatch(text)
    if numbered:
        return f"qa{int(numbered.group(1))}"
    name = Path(str(task)).name
    babi = _BABI_FILE.match(name.lower())
    return babi.group(1) if babi else name.removesuffix(".txt").replace("_train", "")


def describe_tasks(task):
    """``data.task`` in words: ``task 1``, ``all 20 tasks``, ``tasks qa1, qa4``."""
    tasks = task_list(task)
    if tasks is None:
        return f"task {task}"
    if isinstance(task, str):
        return f"all {len(tasks)} tasks"
    return "tasks " + ", ".join(task_name(t) for t in tasks)


def check_tasks(tasks):
    """Refuse an empty list, or one that names a task twice (``1`` and ``"qa1"`` are one task)."""
    if not tasks:
        raise DataError("the list of tasks is empty",
                        f"List the tasks to train together, e.g. [1, 2, 3], or write {ALL} for tasks 1-{NUM_TASKS}.")
    seen = {}
    for task in tasks:
        name = task_name(task)
        if name in seen:
            raise DataError(f"task {name} is listed twice ({seen[name]!r} and {task!r})", "List each task once.")
        seen[name] = task


def joint_datasets(data, memory_size=50, random_noise=0.0):
    """The ``Datasets`` of the tasks ``data.task`` names; see the module's docstring.

    Args:
        data: the ``data`` section of a run config, as ``build_datasets`` takes it.
        memory_size, random_noise: mode memory only, as for ``build_datasets``.
    """
    tasks = task_list(data.task)
    check_tasks(tasks)
    loaded = [(task, load_task(task, "train", punctuation(data)), load_task(task, "test", punctuation(data)))
              for task in tasks]
    vocab = build_vocabulary([story for _, train, _ in loaded for story in train], data.mode)
    parts = [_task_splits(data, task, train, test, vocab, memory_size, random_noise)
             for task, train, test in loaded]
    join = type(parts[0].train).join
    train = join([p.train for p in parts])  # the largest lengths of all the tasks
    parts = [p._replace(**{split: _padded(getattr(p, split), train.lengths) for split in ("valid", "test")})
             for p in parts]
    valid = join([p.valid for p in parts], train.lengths) if parts[0].valid is not None else None
    return Datasets(train, join([p.test for p in parts], train.lengths), vocab, valid, tasks=parts)


def _task_splits(data, task, train_stories, test_stories, vocab, memory_size, random_noise):
    """One task's sets in the shared vocabulary, with its own validation split."""
    name = task_name(task)
    train, test = task_datasets(data, train_stories, test_stories, vocab, memory_size, random_noise)
    try:
        train, valid = hold_out(train, getattr(data, "valid_fraction", 0.0))
    except DataError as e:  # say which task has too few examples
        raise DataError(f"task {name}: {e.message}", e.hint) from None
    return TaskSplits(name, task, train, valid, test)


def _padded(dataset, lengths):
    """``dataset`` padded to ``lengths`` (None stays None)."""
    return None if dataset is None else type(dataset).join([dataset], lengths)
