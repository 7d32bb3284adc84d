"""The ``--task`` option of ``train`` and ``evaluate``, checked before any run file is read.

A run file's ``data.task`` takes one task, a list of tasks, or ``all``; the
option takes one, so ``--task 1,2`` is a list written where one task goes.
Catching that here lets the message name the option the user typed and say
how to ask for several tasks, instead of blaming ``data.task`` of a file the
user never opened. A path is left to the run file's own checks, which say
which of its files is missing.
"""

import re
import shlex

from ...data.babi import NUM_TASKS
from ...errors import ConfigError
from .wording import short_repr

# What each command's --task takes, and how to ask it for several tasks ({listed}: "1, 2";
# {config}: the run file train was given). evaluate scores every task of the run when not given one.
_TAKES = {
    "train": (f"a number 1-{NUM_TASKS}, a name qa1-qa{NUM_TASKS}, all (one model for every task), "
              "or the path of a '*_train.txt' file",
              "One model on several tasks: minigrad train {config} --set 'data.task=[{listed}]'; "
              "a run for each: --task {first}, then the others one at a time."),
    "evaluate": (f"a number 1-{NUM_TASKS} or a name qa1-qa{NUM_TASKS} (without --task: every task the run "
                 "trained on)",
                 "Without --task, evaluate scores every task the run trained on; "
                 "or score them one at a time: --task {first}."),
}
_NAME = re.compile(r"(?:qa)?([0-9]{1,4})")
_RANGE = re.compile(r"(?:qa)?([0-9]{1,4})-(?:qa)?([0-9]{1,4})")


def check_task_option(task, option="--task", command="train", config=None):
    """Raise ConfigError, naming ``option``, for a ``task`` text that is no task ``command`` takes.

    ``config``, the run file given with it, goes into the commands the message suggests.
    """
    if task is None or "/" in task or task.endswith(".txt"):  # a path: the run file's checks say the rest
        return
    takes, several = _TAKES[command]
    name = task.strip().lower()
    items = [item for item in re.split(r"[,\s]+", name) if item]
    if len(items) > 1 or _RANGE.fullmatch(name):
        tasks = _expanded(items)
        raise ConfigError(f"{option} {short_repr(task)}: {option} takes one task, not a list.",
                          several.format(listed=", ".join(tasks), first=tasks[0],
                                         config=shlex.quote(config) if config else "CONFIG"))
    number = _NAME.fullmatch(name)
    if name == "all" and command == "train" or number and 1 <= int(number.group(1)) <= NUM_TASKS:
        return
    raise ConfigError(f"{option} {short_repr(task)}: unknown task; the bAbI tasks are 1-{NUM_TASKS}.",
                      f"Use {takes}.")


def _expanded(items):
    """``["1-3", "qa7"]`` -> ``["1", "2", "3", "7"]``; an item that is no task or range stays as written."""
    tasks = []
    for item in items:
        span, number = _RANGE.fullmatch(item), _NAME.fullmatch(item)
        if span and 0 <= int(span.group(2)) - int(span.group(1)) < NUM_TASKS:
            tasks += [str(n) for n in range(int(span.group(1)), int(span.group(2)) + 1)]
        else:
            tasks.append(number.group(1) if number else item)
    return tasks
