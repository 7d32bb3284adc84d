"""Run files: the schema they are checked against, loading them, and the bundled ones.

* ``run``: ``RunConfig`` (a whole run file) and ``load_config``;
* ``bases``: ``base: NAME_OR_PATH``, run files that build on each other, and which file wrote each field;
* ``sections``, ``model_sections``: the schema of each section;
* ``limits``: the largest value of each size, count, length and seed, as types the sections use;
* ``yaml_limits``: a run file's size, nesting and aliases, checked before the YAML is built;
* ``errors``: reading YAML, and pydantic's errors as one message naming the field;
* ``overrides``: ``--set PATH=VALUE``;
* ``bundled``: the run files that come with minigrad, found by name.
"""

from .model_sections import (DropoutLayer, EmbeddingLayer, LinearLayer, LinearStart, MemN2NModel, RecurrentModel,
                             ReLULayer, SequentialModel, SigmoidLayer, TanhLayer)
from .run import OVERRIDES, RunConfig, load_config
from .sections import DataConfig, LossConfig, OptimizerConfig, StepSchedule, TrainConfig, field_error
