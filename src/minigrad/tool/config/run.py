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
an end-to-end memory network (``type: memn2n``) or a query-reduction network
(``type: qrn``), both with ``data.mode: memory``.
Unknown keys are errors, so a typo never passes silently. ``load_config``
turns every problem into one ``ConfigError`` naming the file and the field;
its ``settings`` (``--set optimizer.lr=0.01``, see ``minigrad.tool.config.overrides``)
change any field before the file is checked.
"""

import re
from pathlib import Path
from typing import Literal

import yaml
from pydantic import ValidationError, field_validator, model_validator

from ...errors import ConfigError
from .bases import read_run_file
from .errors import describe_errors, first_error_path
from .limits import MAX_NAME_LENGTH
from .model_sections import Model
from .overrides import set_field
from .sections import DataConfig, LossConfig, OptimizerConfig, Section, TrainConfig, field_error


# The model types that read data.mode: memory (a story's statements as memory slots).
MEMORY_MODELS = ("memn2n", "qrn")


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
        if len(name) > MAX_NAME_LENGTH:
            raise ValueError(f"{len(name):,} characters is over the limit of {MAX_NAME_LENGTH}: it names a folder")
        if not re.fullmatch(r"[A-Za-z0-9][A-Za-z0-9_.-]*", name):
            raise ValueError("use letters, digits, '_', '.' and '-' only: it names a folder")
        return name

    @field_validator("model", mode="before")
    @classmethod
    def _infer_model_type(cls, model):
        """Allow leaving out ``type``: a ``class_path`` is your own class, a list of ``layers`` is
        sequential, anything else recurrent."""
        if isinstance(model, dict) and "type" not in model:
            kind = "class" if "class_path" in model else "sequential" if isinstance(model.get("layers"), list) \
                else "recurrent"
            model = {"type": kind, **model}
        return model

    @model_validator(mode="after")
    def _model_fits_mode(self):
        """The memory network and the query-reduction network read mode memory, and of the built-in
        models only they do (a class of your own may read any mode)."""
        kind, memory = self.model.type, self.data.mode == "memory"
        if kind in MEMORY_MODELS and not memory:
            raise field_error(("model", kind, "type"), f"{kind} reads data.mode: memory, not "
                              f"{self.data.mode!r}", kind)
        if memory and kind not in MEMORY_MODELS + ("class",):
            raise field_error(("data", "mode"), f"memory is read by model.type: {' or '.join(MEMORY_MODELS)}, "
                              f"not {kind} (or by a class of your own, model.class_path)", "memory")
        return self

    @model_validator(mode="after")
    def _epochs_after_linear_start(self):
        start = getattr(self.model, "linear_start", None)
        if start is not None and start.epochs >= self.train.epochs:
            raise field_error(("model", "memn2n", "linear_start", "epochs"),
                              f"{start.epochs} leaves no epoch for the main phase: train.epochs is "
                              f"{self.train.epochs}, which counts the linear start too", start.epochs)
        return self

    @model_validator(mode="after")
    def _early_stopping_needs_validation(self):
        """Early stopping watches the validation split: the test split must never choose anything."""
        if self.train.early_stopping is not None and not self.data.valid_fraction:
            raise field_error(("train", "early_stopping"), "needs a validation split to watch: set "
                              "data.valid_fraction (e.g. 0.1); the test split never chooses", "early_stopping")
        return self


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
            ``minigrad.tool.config.overrides``), applied after ``overrides``; a ``None``
            value sets the field to null.
    A ``base:`` at the top of the file names a run file it builds on (see
    ``minigrad.tool.config.bases``); a problem in a field is reported in the
    file that wrote it.

    Returns:
        The validated ``RunConfig``.
    Raises:
        ConfigError: with one message naming the file and the field at fault.
    """
    path = Path(path)
    raw, sources = read_run_file(path)
    raw.setdefault("name", path.stem)
    named = {OVERRIDES.get(key, key): value for key, value in (overrides or {}).items() if value is not None}
    given = {**_apply(raw, named, path, _OPTIONS), **_apply(raw, settings or {}, path, {})}
    try:
        return RunConfig.model_validate(raw, context={"check_data": check_data, "folder": path.parent})
    except ValidationError as e:
        message, hint = describe_errors(e.errors(), RunConfig, overridden=given)
        raise ConfigError(f"{_file_at_fault(e.errors(), sources, given)}: {message}", hint) from None


def _file_at_fault(errors, sources, given):
    """The run file that wrote the field at fault (a base's, perhaps); the top file for an option's."""
    field = first_error_path(errors, RunConfig)
    if field in given or re.sub(r"\[\d+\]", "", field) in given:
        return sources.top
    return sources.file_of(field)


# The command-line option that sets each overridden field, for messages; another field is set by --set.
_OPTIONS = {field: f"--{short}" for short, field in OVERRIDES.items()}


def _apply(raw, values, path, options):
    """Set each ``{field path: value}`` in the raw mapping; return ``{field path: option}`` for messages."""
    for dotted, value in values.items():
        set_field(raw, dotted, value, path)
    return {dotted: options.get(dotted, "--set") for dotted in values}


def as_yaml(config):
    """A ``RunConfig`` as the text of a run file, fields in the schema's order, nothing left to a default.

    A run folder keeps this as its ``config.yaml``: it names no base, so the run
    never depends on the files it was built from.
    """
    return yaml.safe_dump(config.model_dump(mode="json"), sort_keys=False)
