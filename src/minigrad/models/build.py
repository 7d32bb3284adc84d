"""The model a run file describes, built from its ``model`` section:

* recurrent: a ``LanguageModel`` (mode lm) or a ``QuestionAnswerer`` (mode qa),
  see ``models.recurrent``;
* a ``Sequential`` of layers, applied to every time step (lm mode only);
* an end-to-end memory network (``models.memory``), mode memory only;
* a query-reduction network (``models.qrn``), mode memory only.

The config is read by attribute only, so any object shaped like a
``RunConfig`` will do; this package never imports the command-line tool.
"""

from ..errors import ConfigError
from ..nn import Dropout, Embedding, Linear, ReLU, Sequential, Sigmoid, Tanh
from .memory import memn2n
from .qrn import QRN
from .recurrent import LanguageModel, QuestionAnswerer


def _sequential(layers, vocab_size):
    """A Sequential from the run file's layer list; sizes chain from layer to layer."""
    built, size = [], None
    for spec in layers:
        if spec.type == "Embedding":
            built.append(Embedding(vocab_size, spec.dim))
            size = spec.dim
        elif spec.type == "Linear":
            n_outputs = vocab_size if spec.n_outputs == "vocab" else spec.n_outputs
            built.append(Linear(spec.n_inputs or size, n_outputs, bias=spec.bias))
            size = n_outputs
        else:
            built.append(_LAYERS_WITHOUT_SIZES[spec.type](**spec.model_dump(exclude={"type"})))
    return Sequential(built)


_LAYERS_WITHOUT_SIZES = {"Tanh": Tanh, "Sigmoid": Sigmoid, "ReLU": ReLU, "Dropout": Dropout}


def _memn2n(spec, vocab_size):
    """A memory network from the run file's ``model`` section (mode memory; see ``minigrad.models.memory``)."""
    return memn2n(vocab_size, tying=spec.tying, embedding_dim=spec.embedding_dim, hops=spec.hops,
                  position_encoding=spec.position_encoding, temporal_encoding=spec.temporal_encoding,
                  memory_size=spec.memory_size, std=spec.init_std, empty_slots=spec.empty_slots,
                  gates=spec.gates, answer_candidates=spec.answer_candidates)


def _qrn(spec, vocab_size):
    """A query-reduction network from the run file's ``model`` section (mode memory; see ``minigrad.models.qrn``)."""
    std = spec.init_std if spec.init_std is not None else spec.embedding_dim ** -0.5
    return QRN(vocab_size, embedding_dim=spec.embedding_dim, layers=spec.layers, reset_gate=spec.reset_gate,
               bidirectional=spec.bidirectional, gate=spec.gate, memory_size=spec.memory_size, init=spec.init, init_std=std,
               update_bias=spec.update_bias)


def _recurrent(spec, vocab_size, mode):
    """The lesson's language model (mode lm) or the LSTM question answerer (mode qa)."""
    kind = LanguageModel if mode == "lm" else QuestionAnswerer
    return kind(vocab_size, spec.embedding_dim, spec.cell, spec.hidden_size, spec.layers)


def _sequential_model(spec, vocab_size, mode):
    """A Sequential of the run file's layers, applied to every time step."""
    if mode != "lm":
        raise ConfigError(f"model: a sequential model works in mode 'lm' only, not {mode!r}.",
                          hint="Use a recurrent model (embedding_dim, cell, hidden_size) for qa.")
    first = spec.layers[0]
    if first.type != "Embedding":
        raise ConfigError("model.layers[0].type: the first layer must be an Embedding (the inputs are word ids).")
    return _sequential(spec.layers, vocab_size)


# model.type -> a function (model section, vocabulary size, data mode) -> Module.
BUILDERS = {
    "memn2n": lambda spec, vocab_size, mode: _memn2n(spec, vocab_size),
    "qrn": lambda spec, vocab_size, mode: _qrn(spec, vocab_size),
    "recurrent": _recurrent,
    "sequential": _sequential_model,
    # A class of the run file's own: the tool imports it and its section builds it (the framework never
    # imports the tool, so it only calls what the section offers).
    "class": lambda spec, vocab_size, mode: spec.build(vocab_size, mode),
}


def build_model(config, vocab_size):
    """The model a run config describes, for a vocabulary of ``vocab_size`` words."""
    spec = config.model
    return BUILDERS[spec.type](spec, vocab_size, config.data.mode)
