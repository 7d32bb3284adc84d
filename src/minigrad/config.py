"""Run configuration: a YAML file checked against a schema.

A run file has these sections (see ``configs/`` for complete examples)::

    name: babi_rnn            # names the run's folder; defaults to the file's name
    device: cpu               # cpu | cuda
    data:      {task: 1, mode: lm, batch_size: 100}
    model:     {type: recurrent, embedding_dim: 16, cell: rnn, hidden_size: 16}
    loss:      {name: cross_entropy, ignore_index: 0}
    optimizer: {name: sgd, lr: 0.05}
    train:     {epochs: 10, seed: 0, eval_every: 1, out: runs}

``model`` is either recurrent (an embedding, ``layers`` stacked ``cell`` s,
and a linear read-out) or sequential (``type: sequential`` and a list of
``layers``, each ``{type: Embedding|Linear|Tanh|Sigmoid|ReLU|Dropout, ...}``).
Unknown keys are errors, so a typo never passes silently. ``load_config``
turns every problem into one ``ConfigError`` naming the file and the field.
"""

import re
from pathlib import Path
from typing import Annotated, Literal, Optional, Union

from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator, model_validator

from .config_errors import describe_errors, read_yaml
from .data.babi import resolve_task
from .errors import ConfigError, DataError

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

    task: Union[Int, str] = 1  # 1-20, "qa1", or the path of a *_train.txt file (from the cwd)
    mode: Literal["lm", "qa"] = "lm"
    batch_size: PositiveInt = 32
    train_size: Optional[PositiveInt] = None  # use only the first N examples
    test_size: Optional[PositiveInt] = None
    max_len: Optional[PositiveInt] = None  # lm: cut sentences to N tokens
    max_story_len: Optional[PositiveInt] = None  # qa: keep a story's last N tokens
    max_question_len: Optional[PositiveInt] = None

    @field_validator("task")
    @classmethod
    def _task_exists(cls, task):
        """Fail now, not after a model is built, if either split of the task is missing."""
        try:
            resolve_task(task, "train")
            resolve_task(task, "test")
        except DataError as e:
            raise ValueError(f"{e.message}. {e.hint or ''}".strip()) from None
        return task

    @model_validator(mode="after")
    def _lengths_match_mode(self):
        wrong = ["max_story_len", "max_question_len"] if self.mode == "lm" else ["max_len"]
        for name in wrong:
            if getattr(self, name) is not None:
                raise ValueError(f"{name} does not apply to mode {self.mode!r}")
        return self


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


Model = Annotated[Union[SequentialModel, RecurrentModel], Field(discriminator="type")]


# ---- loss, optimizer, training -----------------------------------------------------------


class LossConfig(Section):
    name: Literal["cross_entropy", "mse"] = "cross_entropy"
    ignore_index: Optional[Int] = 0  # cross_entropy: targets equal to this (<pad>) add nothing
    reduction: Literal["mean", "sum"] = "mean"


class OptimizerConfig(Section):
    name: Literal["sgd", "adam"] = "sgd"
    lr: PositiveFloat
    momentum: NonNegativeFloat = 0.0  # sgd only
    weight_decay: NonNegativeFloat = 0.0
    clip_norm: Optional[PositiveFloat] = None  # rescale gradients whose global norm is larger

    @model_validator(mode="after")
    def _momentum_is_sgd(self):
        if self.momentum and self.name != "sgd":
            raise ValueError(f"momentum applies to sgd only, not {self.name}")
        return self


class TrainConfig(Section):
    epochs: PositiveInt = 10
    seed: Int = 0
    eval_every: PositiveInt = 1  # evaluate on the test split every N epochs
    out: str = "runs"  # folder that receives one folder per run


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


# ---- loading ---------------------------------------------------------------------------

# Short override names (the command line's options) and the field each one sets.
OVERRIDES = {"task": "data.task", "epochs": "train.epochs", "device": "device",
             "seed": "train.seed", "out": "train.out"}


def load_config(path, overrides=None):
    """Read, override and validate a run file.

    Args:
        path: the YAML file.
        overrides: values that replace the file's, keyed by a short name
            (``task``, ``epochs``, ``device``, ``seed``, ``out``) or a dotted
            field path (``"data.batch_size"``); ``None`` values are ignored.
    Returns:
        The validated ``RunConfig``.
    Raises:
        ConfigError: with one message naming the file and the field at fault.
    """
    path = Path(path)
    raw = read_yaml(path)
    raw.setdefault("name", path.stem)
    given = _apply_overrides(raw, overrides or {}, path)
    try:
        return RunConfig.model_validate(raw)
    except ValidationError as e:
        message, hint = describe_errors(e.errors(), RunConfig, overridden=given)
        raise ConfigError(f"{path}: {message}", hint) from None


def _apply_overrides(raw, overrides, path):
    """Set each override in the raw mapping; return the dotted paths that were set."""
    given = set()
    for key, value in overrides.items():
        if value is None:
            continue
        dotted = OVERRIDES.get(key, key)
        *parents, leaf = dotted.split(".")
        section = raw
        for name in parents:
            section = section.setdefault(name, {})
            if not isinstance(section, dict):
                raise ConfigError(f"{path}: {name}: must be a mapping to set {dotted}")
        section[leaf] = value
        given.add(dotted)
    return given
