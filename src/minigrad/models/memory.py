"""End-to-end memory networks (Sukhbaatar, Szlam, Weston and Fergus, 2015).

Every statement of a story is one memory. The question u and each memory
are a weighted sum of their word vectors (``EmbeddingBag``). A hop reads the
memory: p = softmax(u . m_i) over the memories, whose keys m_i come from one
table (A) and values c_i from another (C); then u <- u + sum_i p_i c_i. After
the last hop the answer's scores are W u over the vocabulary.

Two ways to share tables between hops (``tying``):

* ``adjacent``: hops + 1 tables T_0 .. T_K; hop k reads keys from T_k and
  values from T_{k+1}, the question uses T_0 (A^1 = B, A^{k+1} = C^k) and the
  read-out is T_K transposed (W^T = C^K).
* ``layerwise``: every hop shares one key table A and one value table C; the
  question has its own table B and the read-out its own W, and a linear map
  H mixes u between hops: u <- H u + o.

With temporal encoding each memory also adds a learned vector for its age
(0 = the most recent statement). As in the authors' code the age is one more
word after the statement's, at position J of the position encoding (the
longest sentence plus one), and the ages are rows of the words' matrix: a
table is read as its word vectors, then its age vectors.

Padding is the authors' nil word: an ordinary row of every table, set back
to zero after every optimizer step (``after_step``). It adds nothing but has
a gradient, which clipping measures with the rest of its matrix, as the
authors' code does. An empty slot is all nil, a zero vector: with
``empty_slots = "attend"`` (the default, the authors' choice) its score, 0,
stays in the softmax, so a hop can put its weight on "no statement matches",
which the yes/no tasks need; ``empty_slots = "mask"`` gives it no weight.

``linear_start = True`` drops the memory softmax: the raw scores (zero at
empty slots) weigh the values, which the paper found easier to start from.

Gated hops (``gates``; Liu and Perez, "Gated End-to-End Memory Networks",
EACL 2017) replace the sum u + o by a highway gate: T = sigmoid(W_T u + b_T),
u <- o * T + u * (1 - T), one (W_T, b_T) per hop (``per_hop``) or one for
every hop (``global``); no T gives back the plain sum. Adjacent tying only,
as in the paper.
"""

import numpy as np

from .. import ops
from ..backend import device_of, get_array_module, to_device
from ..data.vocab import PAD_ID
from ..nn.layers import Embedding, Linear
from ..nn.module import Module, Parameter
from ..tensor import Tensor


def position_encoding(words, dim):
    """(words, dim) weights l_jk = 1 + 4 (k - (d+1)/2) (j - (J+1)/2) / (d J), j and k from 1.

    This is the form of the authors' released code, with J the padded
    sentence length, rather than the paper's (1 - j/J) - (k/d)(1 - 2j/J) with
    J each sentence's own length: one matrix then serves every sentence (the
    bag stays one gather and one sum), and its weights average to 1, so a
    position-encoded bag starts at the scale of a plain bag of words.
    """
    j = np.arange(1, words + 1)[:, None]
    k = np.arange(1, dim + 1)[None, :]
    return 1 + 4 * (k - (dim + 1) / 2) * (j - (words + 1) / 2) / (dim * words)


def _normal_linear(n_inputs, n_outputs, std):
    """A Linear without bias whose weights come from N(0, std^2), as every weight here does."""
    layer = Linear(n_inputs, n_outputs, bias=False)
    layer.weight.data = (np.random.randn(n_inputs, n_outputs) * std).astype(np.float32)
    return layer


def _gate(dim, std):
    """A hop's gate layer: W_T from N(0, std^2) and b_T from N(0.5, std^2), the paper's
    initialisation, so every gate starts a little more open than shut (sigmoid(0.5) = 0.62)."""
    layer = _normal_linear(dim, dim, std)
    layer.bias = Parameter(0.5 + np.random.randn(dim) * std, dtype=np.float32)
    return layer


GATES = {"none": 0, "global": 1, "per_hop": None}  # how many gate layers; None: one per hop


def _array(x):
    """The array of an id, age or mask input, given as an array or a Tensor."""
    return x.data if isinstance(x, Tensor) else x


class MemN2N(Module):
    """The hops of a memory network; subclasses decide how tables are tied.

    ``forward(memories, questions, times, mask)`` takes a ``MemoryBatch``'s
    arrays: memories (batch, slots, words) and questions (batch, words) of
    word ids, each slot's age ``times`` (batch, slots) and ``mask``
    (batch, slots), true where a slot holds a statement. It returns answer
    scores (batch, vocab), then, when the ages are answer candidates, one per
    age of a slot (batch, vocab + slots), as the authors' vocabulary has one
    time word per slot.

    Args:
        vocab_size: words in the vocabulary; id 0 is ``<pad>``, whose vectors stay zero.
        embedding_dim: d, the length of u and of every memory vector.
        hops: memory reads per question.
        position_encoding: weigh words by position (else a plain bag of words).
        temporal_encoding: add a learned vector per memory age.
        memory_size: the most memories (and ages) the model can hold.
        std: every weight is drawn from N(0, std^2).
        empty_slots: ``attend`` (an empty slot scores 0 inside the softmax) or
            ``mask`` (it gets no weight).
        gates: ``none`` (u <- u + o), ``per_hop`` or ``global`` (a highway gate; see the module's docstring).
        answer_candidates: ``words_and_times`` (with temporal encoding, the
            answer's softmax also runs over the age vectors, as over the time
            words of the authors' vocabulary) or ``words``.
    """

    def __init__(self, vocab_size, embedding_dim=20, hops=3, position_encoding=True,
                 temporal_encoding=True, memory_size=50, std=0.1, empty_slots="attend", gates="none",
                 answer_candidates="words_and_times"):
        if empty_slots not in ("attend", "mask"):
            raise ValueError(f"empty_slots must be 'attend' or 'mask', not {empty_slots!r}")
        if gates not in GATES:
            raise ValueError(f"gates must be one of {', '.join(GATES)}, not {gates!r}")
        if answer_candidates not in ("words_and_times", "words"):
            raise ValueError(f"answer_candidates must be 'words_and_times' or 'words', not {answer_candidates!r}")
        self.vocab_size, self.dim, self.hops, self.memory_size = vocab_size, embedding_dim, hops, memory_size
        self.std, self.position_encoding = std, position_encoding
        self.temporal_encoding, self.empty_slots = temporal_encoding, empty_slots
        # In the authors' code the ages are time words, so the answer's softmax runs over them too:
        # they are never the answer, but they take their share of its probability.
        self.answers_times = temporal_encoding and answer_candidates == "words_and_times"
        self.linear_start = False
        self._positions = {}  # (words, device) -> the position weights, built once
        self.tables, self.times = [], []  # set by the subclass: memory tables and their age tables
        self.pairs = []  # (key table, value table) of each hop
        self.gate_kind, self.gates = gates, []  # the gate layers, made after every other weight

    def _gate_layers(self):
        """The gates ``gate_kind`` asks for, drawn last so that an ungated model draws exactly what it did."""
        count = GATES[self.gate_kind]
        self.gates = [_gate(self.dim, self.std) for _ in range(self.hops if count is None else count)]

    def _word_table(self):
        return Embedding(self.vocab_size, self.dim, padding_idx=PAD_ID, std=self.std)

    def _memory_tables(self, count):
        """``count`` word tables for memories, and as many age tables when ages are encoded."""
        self.tables = [self._word_table() for _ in range(count)]
        if self.temporal_encoding:
            self.times = [Embedding(self.memory_size, self.dim, std=self.std) for _ in range(count)]

    def after_step(self):
        """The nil rows back to zero, as the authors' code sets them after every update (call it after each step)."""
        for table in self.tables:
            table.weight.data[PAD_ID] = 0

    def weight_matrices(self):
        """Each table's word vectors and age vectors are the row blocks of one matrix, as in the
        authors' code, whose ages are words of the vocabulary: clipping measures them together."""
        paired = {id(p) for t in self.tables + self.times for p in t.parameters()}
        tables = [[t.weight, a.weight] for t, a in zip(self.tables, self.times)] if self.times else \
            [[t.weight] for t in self.tables]
        return tables + [[p] for p in self.parameters() if id(p) not in paired]

    def forward(self, memories, questions, times, mask):
        return self.attend(memories, questions, times, mask)[0]

    def attend(self, memories, questions, times, mask):
        """(answer scores (batch, candidates), the attention weights (batch, slots) of every hop)."""
        memories, questions, times, mask = (_array(x) for x in (memories, questions, times, mask))
        embedded = self._embed_memories(memories, times, mask)
        u = self._bag([self._question_table()], questions)
        weights = []
        for hop, (key, value) in enumerate(self.pairs):
            p = self._attention(embedded[key], u, mask)
            batch, slots = p.shape
            o = (p.reshape(batch, 1, slots) @ embedded[value]).reshape(batch, self.dim)
            u = self._gated(hop, u, o) if self.gates else self._next(u, o)
            weights.append(p)
        return self._answer(u, memories.shape[1]), weights

    def _gated(self, hop, u, o):
        """u <- o * T + u * (1 - T), T = sigmoid(W_T u + b_T) of this hop's gate (the one gate if global)."""
        t = self.gates[hop % len(self.gates)](u).sigmoid()
        return o * t + u * (1 - t)

    def _bag(self, tables, ids):
        """(..., words) ids -> (..., len(tables) * dim): each table's sums of their (position-weighted)
        vectors, side by side. ``<pad>`` is the nil word: its rows are zero, so it adds nothing."""
        position = self._position(ids.shape[-1], ids)[:-1] if self.position_encoding else None
        return ops.EmbeddingBag.apply(*tables, ids=ids, position=position, nil=PAD_ID)

    def _position(self, words, like):
        """The position weights of sentences of ``words`` words, with one row more for the age word."""
        key = (words, device_of(like))
        if key not in self._positions:
            self._positions[key] = to_device(position_encoding(words + 1, self.dim), key[1])
        return self._positions[key]

    def _embed_memories(self, memories, times, mask):
        """Every memory table's vectors (batch, slots, dim), bagged together as they read the same ids.

        With temporal encoding a statement's age is its last word, at position J: age a is row
        ``vocab_size + a`` of a table read as its words, then its ages; an empty slot's is nil.
        """
        batch, slots, words = memories.shape
        ids, tables = memories, [t.weight for t in self.tables]
        if self.times:
            xp = get_array_module(memories)
            ages = xp.where(mask, times + self.vocab_size, PAD_ID).astype(memories.dtype)
            ids = xp.concatenate([memories, ages[..., None]], axis=-1)
            tables = [ops.Concat.apply(t, a.weight, dim=0) for t, a in zip(tables, self.times)]
        position = self._position(words, ids)[:ids.shape[-1]] if self.position_encoding else None
        bags = ops.EmbeddingBag.apply(*tables, ids=ids, position=position, nil=PAD_ID)
        side = bags.reshape(batch, slots, len(self.tables), self.dim)
        return [side[:, :, i] for i in range(len(self.tables))]

    def _attention(self, keys, u, mask):
        """Weights (batch, slots) of u against every key; an empty slot's key is zero, and so is its score."""
        batch, slots, dim = keys.shape
        scores = (keys @ u.reshape(batch, dim, 1)).reshape(batch, slots)
        if self.linear_start:
            return scores  # the raw scores, as the linear start has no softmax
        if self.empty_slots == "mask":
            return ops.MaskedSoftmax.apply(scores, mask=mask)
        return scores.softmax(dim=-1)

    # ---- what the tying decides ----------------------------------------------------
    def _question_table(self):
        raise NotImplementedError

    def _next(self, u, o):
        raise NotImplementedError

    def _answer(self, u, slots):
        raise NotImplementedError


class AdjacentMemN2N(MemN2N):
    """Adjacent tying: A^1 = B, A^{k+1} = C^k, W^T = C^K (hops + 1 tables)."""

    tying = "adjacent"

    def __init__(self, vocab_size, **options):
        super().__init__(vocab_size, **options)
        self._memory_tables(self.hops + 1)
        self.pairs = [(k, k + 1) for k in range(self.hops)]
        self._gate_layers()

    def _question_table(self):
        return self.tables[0].weight

    def _next(self, u, o):
        return u + o

    def _answer(self, u, slots):
        last = self.tables[-1].weight  # nil is a candidate too, with its zero row, as in the authors' code
        if self.answers_times:  # word scores first, then one per age a memory of ``slots`` can hold
            last = ops.Concat.apply(last, self.times[-1].weight[:slots], dim=0)
        return u @ last.T


class LayerwiseMemN2N(MemN2N):
    """Layer-wise tying: one A and one C for every hop, u <- H u + o, own B and W."""

    tying = "layerwise"

    def __init__(self, vocab_size, **options):
        super().__init__(vocab_size, **options)
        if self.gate_kind != "none":
            raise ValueError("gated hops need adjacent tying (the paper's); layerwise mixes u with H instead")
        self._memory_tables(2)
        self.pairs = [(0, 1)] * self.hops
        self.question = self._word_table()
        self.mix = _normal_linear(self.dim, self.dim, self.std)  # H
        candidates = vocab_size + (self.memory_size if self.answers_times else 0)
        self.answer = _normal_linear(self.dim, candidates, self.std)  # W

    def _question_table(self):
        return self.question.weight

    def after_step(self):
        super().after_step()
        self.question.weight.data[PAD_ID] = 0

    def _next(self, u, o):
        return self.mix(u) + o

    def _answer(self, u, slots):
        scores = self.answer(u)
        return scores[:, :self.vocab_size + slots] if self.answers_times else scores


MODELS = {"adjacent": AdjacentMemN2N, "layerwise": LayerwiseMemN2N}


def memn2n(vocab_size, tying="adjacent", **options):
    """A memory network with the given ``tying`` (adjacent or layerwise); see ``MemN2N``."""
    return MODELS[tying](vocab_size, **options)
