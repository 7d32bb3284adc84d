"""The sections of a run file other than ``model``: data, loss, optimizer, training.

Each is a pydantic model; unknown keys are errors, so a typo never passes
silently. ``field_error`` reports a check that looks at several fields as
an error of one of them.
"""

import re
from typing import Annotated, Literal, Optional, Union

from pydantic import (BaseModel, ConfigDict, Field, ValidationError, ValidationInfo, field_validator,
                      model_validator)
from pydantic_core import InitErrorDetails, PydanticCustomError

from ...data.babi import resolve_task
from ...data.joint import check_tasks, task_list
from ...errors import DataError
from .wording import short_repr, short_text
from .limits import BatchSize, Epochs, ExampleCount, Index, Length, Seed, Threads

# Whole numbers must be written as numbers: strict, so `true` or "3" is not taken for 1 or 3. Sizes, counts
# and lengths have a maximum too: see .limits.
Int = Annotated[int, Field(strict=True)]
PositiveFloat = Annotated[float, Field(strict=True, gt=0, allow_inf_nan=False)]
NonNegativeFloat = Annotated[float, Field(strict=True, ge=0, allow_inf_nan=False)]


class Section(BaseModel):
    """Base of every section: unknown keys are errors."""

    model_config = ConfigDict(extra="forbid")


def field_error(loc, reason, value):
    """A validation error at ``loc``, for checks that look at more than one field.

    ``loc`` is pydantic's location, with the ``type`` tag of a model section
    after ``model`` (as pydantic writes it), so messages name the field.
    """
    detail = InitErrorDetails(type=PydanticCustomError("value_error", "{reason}", {"reason": reason}),
                              loc=loc, input=value)
    return ValidationError.from_exception_data("RunConfig", [detail])


# ---- data ------------------------------------------------------------------------------


class DataConfig(Section):
    """Which task to read and how to batch it (see ``minigrad.data.datasets``)."""

    # 1-20, "qa1", or the path of a *_train.txt file (from the cwd); several tasks for one model:
    # a list of those, or "all" for tasks 1-20 (see minigrad.data.joint)
    task: Union[Int, str, list[Union[Int, str]]] = 1
    mode: Literal["lm", "qa", "memory"] = "lm"  # memory: one row of ids per statement, for memn2n
    batch_size: BatchSize = 32
    train_size: Optional[ExampleCount] = None  # use only the first N examples
    test_size: Optional[ExampleCount] = None
    max_len: Optional[Length] = None  # lm: cut sentences to N tokens
    max_story_len: Optional[Length] = None  # qa: keep a story's last N tokens
    max_question_len: Optional[Length] = None
    # Hold out the last part of the training examples (0.1: a tenth) and report loss and accuracy on it.
    valid_fraction: Annotated[float, Field(strict=True, ge=0, lt=1, allow_inf_nan=False)] = 0.0
    # The '.' and '?' ending each sentence: strip them (the authors' memory-network code does) or keep them
    # as words. Unset: strip in mode memory, keep in lm (where they are words to predict) and qa.
    punctuation: Optional[Literal["strip", "keep"]] = None
    # Training only: skip each epoch's last batch when it is short (the authors' QRN code does: a batch
    # of 4 after 28 of 32 would take as large a step as they). A set smaller than one batch still trains.
    drop_last: Annotated[bool, Field(strict=True)] = False
    # Training only: how an epoch's batches are drawn. shuffle: every example once, in random order;
    # replacement: len // batch_size batches, each of batch_size examples drawn at random (the
    # memory network authors' code does), so an epoch may repeat some examples and miss others.
    sampling: Literal["shuffle", "replacement"] = "shuffle"

    @field_validator("task", mode="before")
    @classmethod
    def _listed_tasks_are_tasks(cls, task):
        """Name the entry of a list that is no task; the union's own errors would blame the whole list."""
        for entry in task if isinstance(task, list) else ():
            if isinstance(entry, bool) or not isinstance(entry, (int, str)):
                raise ValueError(f"{short_repr(entry)} in the list is not a task: list numbers 1-20, names "
                                 "qa1-qa20 or *_train.txt paths")
        return task

    @field_validator("task")
    @classmethod
    def _task_exists(cls, task, info: ValidationInfo):
        """Fail now, not after a model is built, if either split of a task is missing.

        A saved run is read with ``check_data=False``: predicting needs no data files.
        """
        tasks, check_data = task_list(task), (info.context or {}).get("check_data", True)
        one = task  # the task a message names
        for one in [task] if tasks is None else tasks:
            _check_task_shape(one)
        try:
            if tasks is not None:
                check_tasks(tasks)
            for one in (tasks or [task]) if check_data else ():
                resolve_task(one, "train")
                resolve_task(one, "test")
        except DataError as e:  # the message holds a path: shortened, as every value in a message is
            hint = _TASK_FORMS if e.message.startswith("unknown task") else e.hint or ""  # a file also takes all
            message = f"{e.message}. {hint}".strip().replace(str(one), short_text(str(one), 60))
            raise ValueError(short_text(message, 300)) from None
        except OSError as e:  # a path too long for the system, say
            raise ValueError(f"cannot read the task file {short_repr(one)}: {e.strerror or e}") from None
        return task

    @model_validator(mode="after")
    def _lengths_match_mode(self):
        for name in sorted(set(_LENGTHS) - {n for n, modes in _LENGTHS.items() if self.mode in modes}):
            if getattr(self, name) is not None:
                raise ValueError(f"{name} does not apply to mode {self.mode!r}")
        return self


# A task written as a number: ASCII digits only (str.isdigit, which the task files' lookup uses, takes '²'
# and '٣'), and few of them; a task's text no longer than a path can be.
_TASK_DIGITS = re.compile(r"[0-9]{1,4}")
MAX_TASK_TEXT = 1024
_TASK_FORMS = ("Use a number 1-20, a name qa1-qa20, the path of a '*_train.txt' file, a list of those, "
               "or all (every task)")


def _check_task_shape(task):
    """Refuse a task no file could be before anything turns it into a number or a file name."""
    if isinstance(task, int):
        fits = abs(task) < 10**4
    else:
        number = task.strip().lower().removeprefix("qa")
        fits = len(task) <= MAX_TASK_TEXT and (not number.isdigit() or _TASK_DIGITS.fullmatch(number))
    if not fits:
        raise ValueError(f"unknown task {short_repr(task)}. {_TASK_FORMS}")


# The modes each length limit applies to.
_LENGTHS = {"max_len": ("lm",), "max_story_len": ("qa",), "max_question_len": ("qa",)}


# ---- loss, optimizer, training -----------------------------------------------------------


class LossConfig(Section):
    # Every mode predicts word ids, so cross-entropy is the one loss that fits.
    name: Literal["cross_entropy"] = "cross_entropy"
    ignore_index: Optional[Index] = 0  # targets equal to this (<pad>) add nothing
    # Minimise the mean over the counted targets of a batch, or their sum (the gradient times
    # their number); the metrics report the mean either way.
    reduction: Literal["mean", "sum"] = "mean"


class StepSchedule(Section):
    """Multiply the learning rate by ``factor`` after every ``every`` epochs.

    The epochs count from the start of the main phase: a linear start
    (``model.linear_start``) runs at its own flat rate first.
    """

    type: Literal["step"] = "step"
    every: Epochs
    factor: Annotated[float, Field(strict=True, gt=0, le=1, allow_inf_nan=False)] = 0.5


class OptimizerConfig(Section):
    name: Literal["sgd", "adam", "adagrad"] = "sgd"
    lr: PositiveFloat
    momentum: NonNegativeFloat = 0.0  # sgd only
    # adagrad only: where each weight's sum of squared gradients starts (PyTorch 0, TensorFlow 0.1)
    initial_accumulator: NonNegativeFloat = 0.0
    weight_decay: NonNegativeFloat = 0.0
    clip_norm: Optional[PositiveFloat] = None  # rescale gradients whose norm is larger
    # global: one norm over all gradients together; per_parameter: each weight's gradient on its own;
    # per_parameter_spectral: each on its own, a matrix measured by its largest singular value
    clip_mode: Literal["global", "per_parameter", "per_parameter_spectral"] = "global"
    schedule: Optional[StepSchedule] = None

    @model_validator(mode="after")
    def _momentum_is_sgd(self):
        if self.momentum and self.name != "sgd":
            raise ValueError(f"momentum applies to sgd only, not {self.name}")
        if self.initial_accumulator and self.name != "adagrad":
            raise ValueError(f"initial_accumulator applies to adagrad only, not {self.name}")
        return self

    @model_validator(mode="after")
    def _clip_mode_needs_norm(self):
        if self.clip_mode != "global" and self.clip_norm is None:
            raise field_error(("clip_mode",), f"{self.clip_mode} clipping needs optimizer.clip_norm", self.clip_mode)
        return self


class EarlyStopping(Section):
    """Stop when the validation figure ``monitor`` has not improved for ``patience`` epochs.

    An epoch improves on the best so far when its figure is lower by more than
    ``min_delta`` (in the figure's own unit: valid_loss in nats, valid_error in
    percent). The run keeps the best epoch's weights as ``best.npz`` either way.
    """

    monitor: Literal["valid_loss", "valid_error"] = "valid_loss"
    patience: Epochs
    min_delta: Annotated[float, Field(strict=True, ge=0, le=100, allow_inf_nan=False)] = 0.0


class TrainConfig(Section):
    epochs: Epochs = 10
    seed: Seed = 0
    eval_every: Epochs = 1  # a metrics row (training and validation scores) every N epochs
    # Score the test split every N epochs (null: at every row) and always at the last epoch; the test
    # split is the largest, and choosing anything needs only validation.
    test_every: Optional[Epochs] = None
    # Save the checkpoint every N epochs and at the last; Ctrl-C or a crash keeps the last one saved.
    checkpoint_every: Epochs = 1
    out: str = "runs"  # folder that receives one folder per run
    # Stop when a batch's loss exceeds this many times ln(vocabulary size), the loss of a model
    # that knows nothing and guesses every word alike; null turns the check off (NaN still stops).
    max_loss_ratio: Optional[Annotated[float, Field(strict=True, gt=1, allow_inf_nan=False)]] = 10.0
    # Stop when validation stops improving (needs data.valid_fraction > 0); see EarlyStopping.
    early_stopping: Optional[EarlyStopping] = None
    # BLAS threads while training; auto (or null): one while other processes use the cores, else
    # the faster of 1 and 2, measured once (minigrad.tool.threads); --threads wins over it.
    threads: Optional[Union[Threads, Literal["auto"]]] = "auto"
    # Where the metrics go besides metrics.csv (always written): see minigrad.tool.loggers.
    loggers: Annotated[list[Literal["csv", "tensorboard", "mlflow"]], Field(max_length=3)] = ["csv"]
