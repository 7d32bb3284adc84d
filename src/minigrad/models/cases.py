"""The gradcheck cases of the models: each checks every weight of a whole model at once.

The recurrent models run on word ids through both paths of their first layer.
The memory network runs in both tyings, with and without position and temporal
encoding, in its linear-start form and with gated hops (per hop or global),
against a plain-numpy forward written hop by hop. The query-reduction network's
cases are in ``qrn_cases``.

``all_cases()`` is the whole list ``minigrad gradcheck`` runs: the framework's
(``minigrad.gradcheck.all_cases``), then these.
"""

import difflib

import numpy as np

from ..errors import MinigradError
from ..gradcheck import Case, Trial
from ..gradcheck import all_cases as framework_cases
from ..gradcheck.layer_cases import _float64_parameters
from ..gradcheck.recurrent_cases import BATCH, N_HIDDEN, N_IN, STEPS
from . import qrn_cases
from .memory import LayerwiseMemN2N, memn2n, position_encoding
from .recurrent import LanguageModel, QuestionAnswerer

VOCAB, DIM, SLOTS, WORDS, MEMORY_SIZE = 7, 4, 3, 4, 5
MEMORIES = np.array([[[2, 3, 1, 0], [4, 4, 0, 0], [0, 0, 0, 0]],   # the last slot is empty
                     [[5, 6, 2, 3], [6, 1, 0, 0], [3, 2, 5, 0]]])
QUESTIONS = np.array([[6, 2, 0, 0], [1, 3, 4, 0]])
TIMES = np.array([[1, 0, 0], [4, 2, 0]])  # ages, with a gap in the second row (random noise)
MASK = MEMORIES.any(axis=-1)


def _nil_zeroed(weight):
    table = weight.copy()
    table[0] = 0
    return table


def _masked_softmax(x, mask):
    e = np.where(mask, np.exp(x - x.max(axis=-1, keepdims=True)), 0.0)
    return e / e.sum(axis=-1, keepdims=True)


def _reference(model):
    """The model's forward in numpy, reading its current weights.

    As in the authors' code, the age is one more word after a statement's
    words, at position J = words + 1 of the position encoding, and an empty
    slot is all nil, so it adds nothing.
    """
    def weights(words):
        return position_encoding(words + 1, DIM) if model.position_encoding else np.ones((words + 1, DIM))

    def bag(table, ids):
        return (table[ids] * weights(ids.shape[-1])[:-1]).sum(axis=-2)

    def age(i, times, mask, words):
        if not model.times:
            return 0
        return model.times[i].weight.data[times] * weights(words)[-1] * mask[..., None]

    def run(memories, questions, times, mask):
        tables = [_nil_zeroed(t.weight.data) for t in model.tables]
        embedded = [bag(t, memories) + age(i, times, mask, memories.shape[-1]) for i, t in enumerate(tables)]
        layerwise = isinstance(model, LayerwiseMemN2N)
        u = bag(_nil_zeroed(model.question.weight.data) if layerwise else tables[0], questions)
        everywhere = np.ones_like(mask)
        for hop, (key, value) in enumerate(model.pairs):
            scores = np.einsum("bmd,bd->bm", embedded[key], u)
            p = scores if model.linear_start else _masked_softmax(
                scores, mask if model.empty_slots == "mask" else everywhere)
            o = np.einsum("bm,bmd->bd", p, embedded[value])
            u = _gated(model, hop, u, o) if model.gates else (u @ model.mix.weight.data if layerwise else u) + o
        candidates = VOCAB + (memories.shape[1] if model.answers_times else 0)  # the words, then one age per slot
        if layerwise:
            return (u @ model.answer.weight.data)[:, :candidates]
        ages = [model.times[-1].weight.data] if model.answers_times else []
        return (u @ np.concatenate([tables[-1]] + ages).T)[:, :candidates]

    return run


def _gated(model, hop, u, o):
    """A gated hop in numpy: u <- o T + u (1 - T), T = sigmoid(u W_T + b_T)."""
    gate = model.gates[hop % len(model.gates)]
    t = 1 / (1 + np.exp(-(u @ gate.weight.data + gate.bias.data)))
    return o * t + u * (1 - t)


def _memn2n_case(tying, hops=2, linear_start=False, **options):
    def setup(rng):
        model = memn2n(VOCAB, tying=tying, embedding_dim=DIM, hops=hops, memory_size=MEMORY_SIZE, **options)
        model.linear_start = linear_start
        params = model.parameters()
        for p in params:
            p.data = rng.standard_normal(p.shape) * 0.4
        model.after_step()  # the nil rows back to zero; their gradient is checked with the rest
        return Trial(model, [MEMORIES, QUESTIONS, TIMES, MASK], _reference(model), params)

    encodings = " ".join(name for name, on in (("PE", options.get("position_encoding", True)),
                                              ("TE", options.get("temporal_encoding", True))) if on)
    label = f"{tying}, {hops} hops, {encodings or 'bag of words'}" + (", linear start" if linear_start else "")
    if options.get("empty_slots") == "mask":
        label += ", empty slots masked"
    if options.get("gates", "none") != "none":
        label += f", {options['gates']} gates"
    if options.get("answer_candidates") == "words":
        label += ", words-only answers"
    return Case("MemN2N", label, setup)


def _recurrent_case(kind, cell, n_layers, vocab=6):
    """A recurrent model on word ids: every weight checked at once.

    For RNN and LSTM cells, a vocabulary of at most twice the embedding
    width (N_IN) takes the path where the first layer projects the embedding
    table; a larger one, the path where it projects each token's vector
    (``Cell.run_on_ids``). A GRU always takes the second.
    """
    path = ""
    if cell != "gru":
        path = ", table projected" if vocab <= 2 * N_IN else ", tokens projected"

    def setup(rng):
        if kind == "LanguageModel":
            model = LanguageModel(vocab, N_IN, cell, N_HIDDEN, n_layers)
            ids = rng.integers(0, vocab, (BATCH, STEPS))
            fn = lambda: model(ids)  # noqa: E731
        else:
            model = QuestionAnswerer(vocab, N_IN, cell, N_HIDDEN, n_layers)
            stories, questions = rng.integers(0, vocab, (BATCH, STEPS)), rng.integers(0, vocab, (BATCH, 3))
            fn = lambda: model(stories, questions)  # noqa: E731
        return Trial(fn, [], None, _float64_parameters(model, rng))

    return Case(kind, f"{cell} x{n_layers} on word ids{path}", setup)


CASES = [
    _recurrent_case("LanguageModel", "rnn", 1),
    _recurrent_case("LanguageModel", "lstm", 2),
    _recurrent_case("QuestionAnswerer", "lstm", 1),
    _recurrent_case("QuestionAnswerer", "lstm", 1, vocab=2 * N_IN + 2),
    _recurrent_case("LanguageModel", "rnn", 1, vocab=2 * N_IN + 2),
    _recurrent_case("QuestionAnswerer", "gru", 1),
    _memn2n_case("adjacent"),
    _memn2n_case("adjacent", hops=3, position_encoding=False, temporal_encoding=False),
    _memn2n_case("adjacent", position_encoding=False),
    _memn2n_case("adjacent", linear_start=True),
    _memn2n_case("adjacent", empty_slots="mask"),
    _memn2n_case("adjacent", answer_candidates="words"),
    _memn2n_case("adjacent", hops=3, gates="per_hop"),
    _memn2n_case("adjacent", hops=3, gates="global"),
    _memn2n_case("adjacent", linear_start=True, gates="per_hop"),
    _memn2n_case("layerwise"),
    _memn2n_case("layerwise", hops=3, position_encoding=False, temporal_encoding=False),
    _memn2n_case("layerwise", temporal_encoding=False),
    _memn2n_case("layerwise", linear_start=True),
    _memn2n_case("layerwise", answer_candidates="words"),
    *qrn_cases.CASES,
]


def all_cases() -> list[Case]:
    """Every case ``minigrad gradcheck`` runs: the framework's ops, layers and lesson, then the models'."""
    return framework_cases() + CASES


def cases_named(name=None):
    """Every case (``all_cases``), or only those of the op or layer ``name``, in any case of letters."""
    cases = all_cases()
    if name is None:
        return cases
    chosen = [c for c in cases if c.name.lower() == name.lower()]
    if not chosen:
        names = sorted({c.name for c in cases})
        raise MinigradError(f"no gradcheck case for {name!r}{_close_names(name, names) or '.'}",
                            hint=f"minigrad gradcheck without --op checks all {len(names)}; their names: "
                                 + ", ".join(names))
    return chosen


def _close_names(name, names):
    """'; did you mean 'tanh'?' (or 'tanh' or 'exp', ...) for the names most like ``name``, ignoring case."""
    lowered = {}
    for n in names:  # 'Linear' (the layer) and 'linear' (the op) are both offered
        lowered.setdefault(n.lower(), []).append(n)
    close = [n for low in difflib.get_close_matches(name.lower(), lowered, n=3, cutoff=0.6) for n in lowered[low]]
    return f"; did you mean {' or '.join(map(repr, close))}?" if close else ""
