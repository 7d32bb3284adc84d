"""The ``model`` section of a run file: a sequential stack of layers, a recurrent
model, an end-to-end memory network, a query-reduction network (``minigrad.models``
builds each), or a class of your own (``class_path``, see ``custom_model``)."""

from typing import Annotated, Literal, Optional, Union

from pydantic import Field, model_validator

from .custom_model import CustomModel
from .limits import MAX_SEQUENTIAL_LAYERS, Epochs, Hops, MemorySize, QRNLayers, RecurrentLayers, Width
from .sections import PositiveFloat, Section, field_error

# ---- model -----------------------------------------------------------------------------


class EmbeddingLayer(Section):
    """Word ids -> vectors; the vocabulary size comes from the data."""

    type: Literal["Embedding"]
    dim: Width


class LinearLayer(Section):
    """x @ W + b.

    ``n_inputs`` defaults to the previous layer's size; ``n_outputs: vocab``
    means one output per word of the vocabulary.
    """

    type: Literal["Linear"]
    n_outputs: Union[Width, Literal["vocab"]]
    n_inputs: Optional[Width] = None
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
    layers: Annotated[list[Layer], Field(min_length=1, max_length=MAX_SEQUENTIAL_LAYERS)]


class RecurrentModel(Section):
    """Embedding, then ``layers`` stacked recurrent cells, then a linear read-out over the vocabulary."""

    type: Literal["recurrent"] = "recurrent"
    embedding_dim: Width
    cell: Literal["rnn", "lstm", "gru"] = "rnn"
    hidden_size: Width
    layers: RecurrentLayers = 1


class LinearStart(Section):
    """Train the first ``epochs`` epochs without the memory softmax, at the rate ``lr``."""

    epochs: Epochs = 20
    lr: PositiveFloat = 0.005


class MemN2NModel(Section):
    """An end-to-end memory network over ``data.mode: memory`` (see ``minigrad.models.memory``)."""

    type: Literal["memn2n"]
    embedding_dim: Width = 20
    hops: Hops = 3
    tying: Literal["adjacent", "layerwise"] = "adjacent"
    position_encoding: Annotated[bool, Field(strict=True)] = True  # else a bag of words
    temporal_encoding: Annotated[bool, Field(strict=True)] = True  # a learned vector per memory age
    memory_size: MemorySize = 50  # the most recent statements a question keeps
    # An empty slot is a zero vector: attend keeps its score (0) in the softmax, as the authors' code does;
    # mask gives it no weight.
    empty_slots: Literal["attend", "mask"] = "attend"
    # Training batches only: up to this fraction of empty places slipped among the memories' ages.
    random_noise: Annotated[float, Field(strict=True, ge=0, lt=1, allow_inf_nan=False)] = 0.0
    linear_start: Optional[LinearStart] = None
    init_std: PositiveFloat = 0.1  # every weight starts from N(0, init_std^2)
    # Gated hops (GMemN2N): u <- o * T + u * (1 - T), T = sigmoid(W_T u + b_T), a gate per hop or one for all.
    gates: Literal["none", "per_hop", "global"] = "none"
    # What the answer's softmax runs over: the words and, with temporal encoding, the ages, which are
    # time words of the vocabulary in the authors' code (never right, but they take a share); or words only.
    answer_candidates: Literal["words_and_times", "words"] = "words_and_times"

    @model_validator(mode="after")
    def _gates_need_adjacent_tying(self):
        if self.gates != "none" and self.tying != "adjacent":
            raise field_error(("gates",), f"{self.gates} gates need tying: adjacent (the paper's), not "
                              f"{self.tying}", self.gates)
        return self


class QRNModel(Section):
    """A query-reduction network over ``data.mode: memory`` (see ``minigrad.models.qrn``)."""

    type: Literal["qrn"]
    embedding_dim: Width = 50
    layers: QRNLayers = 2  # all share one set of weights
    reset_gate: Annotated[bool, Field(strict=True)] = True  # in every layer but the last
    bidirectional: Annotated[bool, Field(strict=True)] = True  # every layer but the last reads both ways
    gate: Literal["scalar", "vector"] = "scalar"  # one update (and reset) gate per statement, or per dim
    memory_size: MemorySize = 50  # the most recent statements a question keeps
    # authors: the released code's draws (A and gate weights with std 1, W_h and W_y with variance
    # 1 / inputs); paper: A and W_y from N(0, init_std^2), gate and candidate weights Glorot.
    init: Literal["authors", "paper"] = "authors"
    init_std: Optional[PositiveFloat] = None  # init: paper only; null: 1 / sqrt(embedding_dim)
    # Added inside the update gate's sigmoid, so that z starts small (-2.5: about 0.08).
    update_bias: Annotated[float, Field(strict=True, ge=-100, le=100, allow_inf_nan=False)] = -2.5


    @model_validator(mode="after")
    def _init_std_needs_the_papers_init(self):
        if self.init_std is not None and self.init != "paper":
            raise field_error(("init_std",), f"init_std is for init: paper; init: {self.init} draws every "
                              "weight at its own scale", self.init_std)
        return self


Model = Annotated[Union[SequentialModel, RecurrentModel, MemN2NModel, QRNModel, CustomModel],
                  Field(discriminator="type")]
