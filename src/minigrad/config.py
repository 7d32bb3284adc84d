"""Run configuration: a YAML file checked against a schema.

A run file has these sections (see ``configs/`` for complete examples)::

    name: babi_rnn            # names the run's folder; defaults to the file's name
    device: cpu               # cpu | cuda
    data:      {task: 1, mode: lm, batch_size: 100}
    model:     {type: recurrent, embedding_dim: 16, cell: rnn, hidden_size: 16}
    loss:      {name: cross_entropy, ignore_index: 0}
    optimizer: {name: sgd, lr: 0.05}
    train:     {epochs: 10, seed: 0, eval_every: 1, out: runs, max_loss_ratio: 10}

``train.max_loss_ratio`` stops a run whose loss explodes while staying
finite: training stops when a batch's loss exceeds that many times
ln(vocabulary size), the loss of a model that guesses every word alike. An
untrained model starts near it and training goes down from there; ten times
as much means the model gives the right words a probability of about
(1/vocabulary size)^10, which only weights blown up by a too-large learning
rate do. ``null`` turns the check off; a NaN or infinite loss always stops.

``model`` is either recurrent (an embedding, ``layers`` stacked ``cell`` s,
and a linear read-out), sequential (``type: sequential`` and a list of
``layers``, each ``{type: Embedding|Linear|Tanh|Sigmoid|ReLU|Dropout, ...}``),
or an end-to-end memory network (``type: memn2n``, with ``data.mode: memory``).
Unknown keys are errors, so a typo never passes silently. ``load_config``
turns every problem into one ``ConfigError`` naming the file and the field;
its ``settings`` (``--set optimizer.lr=0.01``, see ``minigrad.overrides``)
change any field before the file is checked.
"""

import re
from pathlib import Path
from typing import Annotated, Literal, Optional, Union

from pydantic import (BaseModel, ConfigDict, Field, ValidationError, ValidationInfo, field_validator,
                      model_validator)

from pydantic_core import InitErrorDetails, PydanticCustomError

from .config_errors import describe_errors, read_yaml
from .data.babi import resolve_task
from .data.joint import check_tasks, task_list
from .errors import ConfigError, DataError
from .overrides import set_field

# Whole numbers must be written as numbers: strict, so `true` or "3" is not taken for 1 or 3.
PositiveInt = Annotated[int, Field(strict=True, gt=0)]
Int = Annotated[int, Field(strict=True)]
PositiveFloat = Annotated[float, Field(strict=True, gt=0, allow_inf_nan=False)]
NonNegativeFloat = Annotated[float, Field(strict=True, ge=0, allow_inf_nan=False)]


class Section(BaseModel):
    """Base of every section: unknown keys are errors."""

    model_config = ConfigDict(extra="forbid")


# ---- data ------------------------------------------------------------------------------


class DataConfig(Section):
    """Which task to read and how to batch it (see ``minigrad.data.batching``)."""

    # 1-20, "qa1", or the path of a *_train.txt file (from the cwd); several tasks for one model:
    # a list of those, or "all" for tasks 1-20 (see minigrad.data.joint)
    task: Union[Int, str, list[Union[Int, str]]] = 1
    mode: Literal["lm", "qa", "memory"] = "lm"  # memory: one row of ids per statement, for memn2n
    batch_size: PositiveInt = 32
    train_size: Optional[PositiveInt] = None  # use only the first N examples
    test_size: Optional[PositiveInt] = None
    max_len: Optional[PositiveInt] = None  # lm: cut sentences to N tokens
    max_story_len: Optional[PositiveInt] = None  # qa: keep a story's last N tokens
    max_question_len: Optional[PositiveInt] = None
    # Hold out the last part of the training examples (0.1: a tenth) and report loss and accuracy on it.
    valid_fraction: Annotated[float, Field(strict=True, ge=0, lt=1, allow_inf_nan=False)] = 0.0
    # The '.' and '?' ending each sentence: strip them (the authors' memory-network code does) or keep them
    # as words. Unset: strip in mode memory, keep in lm (where they are words to predict) and qa.
    punctuation: Optional[Literal["strip", "keep"]] = None

    @field_validator("task", mode="before")
    @classmethod
    def _listed_tasks_are_tasks(cls, task):
        """Name the entry of a list that is no task; the union's own errors would blame the whole list."""
        for entry in task if isinstance(task, list) else ():
            if isinstance(entry, bool) or not isinstance(entry, (int, str)):
                raise ValueError(f"{entry!r} in the list is not a task: list numbers 1-20, names qa1-qa20 "
                                 "or *_train.txt paths")
        return task

    @field_validator("task")
    @classmethod
    def _task_exists(cls, task, info: ValidationInfo):
        """Fail now, not after a model is built, if either split of a task is missing.

        A saved run is read with ``check_data=False``: predicting needs no data files.
        """
        tasks, check_data = task_list(task), (info.context or {}).get("check_data", True)
        try:
            if tasks is not None:
                check_tasks(tasks)
            for one in (tasks or [task]) if check_data else ():
                resolve_task(one, "train")
                resolve_task(one, "test")
        except DataError as e:
            raise ValueError(f"{e.message}. {e.hint or ''}".strip()) from None
        return task

    @model_validator(mode="after")
    def _lengths_match_mode(self):
        for name in sorted(set(_LENGTHS) - {n for n, modes in _LENGTHS.items() if self.mode in modes}):
            if getattr(self, name) is not None:
                raise ValueError(f"{name} does not apply to mode {self.mode!r}")
        return self


# The modes each length limit applies to.
_LENGTHS = {"max_len": ("lm",), "max_story_len": ("qa",), "max_question_len": ("qa",)}


# ---- model -----------------------------------------------------------------------------


class EmbeddingLayer(Section):
    """Word ids -> vectors; the vocabulary size comes from the data."""

    type: Literal["Embedding"]
    dim: PositiveInt


class LinearLayer(Section):
    """x @ W + b.

    ``n_inputs`` defaults to the previous layer's size; ``n_outputs: vocab``
    means one output per word of the vocabulary.
    """

    type: Literal["Linear"]
    n_outputs: Union[PositiveInt, Literal["vocab"]]
    n_inputs: Optional[PositiveInt] = None
    bias: Annotated[bool, Field(strict=True)] = True


class TanhLayer(Section):
    type: Literal["Tanh"]


class SigmoidLayer(Section):
    type: Literal["Sigmoid"]


class ReLULayer(Section):
    type: Literal["ReLU"]


class DropoutLayer(Section):
    type: Literal["Dropout"]
    p: Annotated[float, Field(strict=True, ge=0, lt=1)] = 0.5


Layer = Annotated[Union[EmbeddingLayer, LinearLayer, TanhLayer, SigmoidLayer, ReLULayer,
                        DropoutLayer], Field(discriminator="type")]


class SequentialModel(Section):
    """Layers applied one after another to each time step."""

    type: Literal["sequential"] = "sequential"
    layers: Annotated[list[Layer], Field(min_length=1)]


class RecurrentModel(Section):
    """Embedding, then ``layers`` stacked recurrent cells, then a linear read-out over the vocabulary."""

    type: Literal["recurrent"] = "recurrent"
    embedding_dim: PositiveInt
    cell: Literal["rnn", "lstm", "gru"] = "rnn"
    hidden_size: PositiveInt
    layers: PositiveInt = 1


class LinearStart(Section):
    """Train the first ``epochs`` epochs without the memory softmax, at the rate ``lr``."""

    epochs: PositiveInt = 20
    lr: PositiveFloat = 0.005


class MemN2NModel(Section):
    """An end-to-end memory network over ``data.mode: memory`` (see ``minigrad.models.memory``)."""

    type: Literal["memn2n"]
    embedding_dim: PositiveInt = 20
    hops: PositiveInt = 3
    tying: Literal["adjacent", "layerwise"] = "adjacent"
    position_encoding: Annotated[bool, Field(strict=True)] = True  # else a bag of words
    temporal_encoding: Annotated[bool, Field(strict=True)] = True  # a learned vector per memory age
    memory_size: PositiveInt = 50  # the most recent statements a question keeps
    # An empty slot is a zero vector: attend keeps its score (0) in the softmax, as the authors' code does;
    # mask gives it no weight.
    empty_slots: Literal["attend", "mask"] = "attend"
    # Training batches only: up to this fraction of empty places slipped among the memories' ages.
    random_noise: Annotated[float, Field(strict=True, ge=0, lt=1, allow_inf_nan=False)] = 0.0
    linear_start: Optional[LinearStart] = None
    init_std: PositiveFloat = 0.1  # every weight starts from N(0, init_std^2)


Model = Annotated[Union[SequentialModel, RecurrentModel, MemN2NModel], Field(discriminator="type")]


# ---- loss, optimizer, training -----------------------------------------------------------


class LossConfig(Section):
    # Every mode predicts word ids, so cross-entropy is the one loss that fits.
    name: Literal["cross_entropy"] = "cross_entropy"
    ignore_index: Optional[Int] = 0  # targets equal to this (<pad>) add nothing
    # Minimise the mean over the counted targets of a batch, or their sum (the gradient times
    # their number); the metrics report the mean either way.
    reduction: Literal["mean", "sum"] = "mean"


class StepSchedule(Section):
    """Multiply the learning rate by ``factor`` after every ``every`` epochs.

    The epochs count from the start of the main phase: a linear start
    (``model.linear_start``) runs at its own flat rate first.
    """

    type: Literal["step"] = "step"
    every: PositiveInt
    factor: Annotated[float, Field(strict=True, gt=0, le=1, allow_inf_nan=False)] = 0.5


class OptimizerConfig(Section):
    name: Literal["sgd", "adam"] = "sgd"
    lr: PositiveFloat
    momentum: NonNegativeFloat = 0.0  # sgd only
    weight_decay: NonNegativeFloat = 0.0
    clip_norm: Optional[PositiveFloat] = None  # rescale gradients whose norm is larger
    # global: one norm over all gradients together; per_parameter: each weight's gradient on its own
    clip_mode: Literal["global", "per_parameter"] = "global"
    schedule: Optional[StepSchedule] = None

    @model_validator(mode="after")
    def _momentum_is_sgd(self):
        if self.momentum and self.name != "sgd":
            raise ValueError(f"momentum applies to sgd only, not {self.name}")
        return self

    @model_validator(mode="after")
    def _clip_mode_needs_norm(self):
        if self.clip_mode != "global" and self.clip_norm is None:
            raise field_error(("clip_mode",), f"{self.clip_mode} clipping needs optimizer.clip_norm", self.clip_mode)
        return self


class TrainConfig(Section):
    epochs: PositiveInt = 10
    seed: Int = 0
    eval_every: PositiveInt = 1  # a metrics row (training and validation scores) every N epochs
    # Score the test split every N epochs (null: at every row) and always at the last epoch; the test
    # split is the largest, and choosing anything needs only validation.
    test_every: Optional[PositiveInt] = None
    # Save the checkpoint every N epochs and at the last; Ctrl-C or a crash keeps the last one saved.
    checkpoint_every: PositiveInt = 1
    out: str = "runs"  # folder that receives one folder per run
    # Stop when a batch's loss exceeds this many times ln(vocabulary size), the loss of a model
    # that knows nothing and guesses every word alike; null turns the check off (NaN still stops).
    max_loss_ratio: Optional[Annotated[float, Field(strict=True, gt=1, allow_inf_nan=False)]] = 10.0


class RunConfig(Section):
    """A complete run: everything ``minigrad train`` needs."""

    name: str
    device: Literal["cpu", "cuda"] = "cpu"
    data: DataConfig
    model: Model
    loss: LossConfig = LossConfig()
    optimizer: OptimizerConfig
    train: TrainConfig = TrainConfig()

    @field_validator("name")
    @classmethod
    def _name_is_folder_safe(cls, name):
        if not re.fullmatch(r"[A-Za-z0-9][A-Za-z0-9_.-]*", name):
            raise ValueError("use letters, digits, '_', '.' and '-' only: it names a folder")
        return name

    @field_validator("model", mode="before")
    @classmethod
    def _infer_model_type(cls, model):
        """Allow leaving out ``type``: a list of ``layers`` is sequential, anything else recurrent."""
        if isinstance(model, dict) and "type" not in model:
            kind = "sequential" if isinstance(model.get("layers"), list) else "recurrent"
            model = {"type": kind, **model}
        return model

    @model_validator(mode="after")
    def _model_fits_mode(self):
        """A memory network reads mode memory, and only it does."""
        memn2n, memory = self.model.type == "memn2n", self.data.mode == "memory"
        if memn2n and not memory:
            raise field_error(("model", "memn2n", "type"), f"memn2n reads data.mode: memory, not "
                              f"{self.data.mode!r}", "memn2n")
        if memory and not memn2n:
            raise field_error(("data", "mode"), f"memory is read by model.type: memn2n, not "
                              f"{self.model.type}", "memory")
        return self

    @model_validator(mode="after")
    def _epochs_after_linear_start(self):
        start = getattr(self.model, "linear_start", None)
        if start is not None and start.epochs >= self.train.epochs:
            raise field_error(("model", "memn2n", "linear_start", "epochs"),
                              f"{start.epochs} leaves no epoch for the main phase: train.epochs is "
                              f"{self.train.epochs}, which counts the linear start too", start.epochs)
        return self


def field_error(loc, reason, value):
    """A validation error at ``loc``, for checks that look at more than one field.

    ``loc`` is pydantic's location, with the ``type`` tag of a model section
    after ``model`` (as pydantic writes it), so messages name the field.
    """
    detail = InitErrorDetails(type=PydanticCustomError("value_error", "{reason}", {"reason": reason}),
                              loc=loc, input=value)
    return ValidationError.from_exception_data("RunConfig", [detail])


# ---- loading ---------------------------------------------------------------------------

# Short override names (the command line's options) and the field each one sets.
OVERRIDES = {"task": "data.task", "epochs": "train.epochs", "device": "device",
             "seed": "train.seed", "out": "train.out"}


def load_config(path, overrides=None, check_data=True, settings=None):
    """Read, override and validate a run file.

    Args:
        path: the YAML file.
        overrides: values that replace the file's, keyed by a short name
            (``task``, ``epochs``, ``device``, ``seed``, ``out``) or a dotted
            field path (``"data.batch_size"``); ``None`` values are ignored.
        check_data: whether the task's data files must exist (not for predicting).
        settings: ``{field path: value}`` from ``--set`` (see
            ``minigrad.overrides``), applied after ``overrides``; a ``None``
            value sets the field to null.
    Returns:
        The validated ``RunConfig``.
    Raises:
        ConfigError: with one message naming the file and the field at fault.
    """
    path = Path(path)
    raw = read_yaml(path)
    raw.setdefault("name", path.stem)
    named = {OVERRIDES.get(key, key): value for key, value in (overrides or {}).items() if value is not None}
    given = {**_apply(raw, named, path, "an override"), **_apply(raw, settings or {}, path, "--set")}
    try:
        return RunConfig.model_validate(raw, context={"check_data": check_data})
    except ValidationError as e:
        message, hint = describe_errors(e.errors(), RunConfig, overridden=given)
        raise ConfigError(f"{path}: {message}", hint) from None


def _apply(raw, values, path, origin):
    """Set each ``{field path: value}`` in the raw mapping; return ``{field path: origin}`` for messages."""
    for dotted, value in values.items():
        set_field(raw, dotted, value, path)
    return dict.fromkeys(values, origin)
