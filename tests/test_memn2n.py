"""The memory network's ops and model: exact values on hand-computed examples,
masking of empty slots, and the nil word that contributes nothing and is held at zero."""

import numpy as np
import pytest

from minigrad import Tensor
from minigrad.nn import Embedding
from minigrad.models.memory import AdjacentMemN2N, LayerwiseMemN2N, memn2n, position_encoding
from minigrad.ops import EmbeddingBag, MaskedSoftmax, ZeroRow
from minigrad.optim import SGD, clip_each_matrix

TABLE = np.array([[9.0, 9.0], [1.0, 2.0], [3.0, 4.0], [5.0, 6.0]])  # row 0 is <pad>


def leaf(array):
    return Tensor(np.array(array, dtype=np.float64), requires_grad=True)


# ---- ops --------------------------------------------------------------------------------


def test_zero_row_forward_and_backward():
    w = leaf(TABLE)
    out = ZeroRow.apply(w, row=0)
    assert out.numpy().tolist() == [[0, 0], [1, 2], [3, 4], [5, 6]]
    out.backward(np.ones((4, 2)))
    assert w.grad.numpy().tolist() == [[0, 0], [1, 1], [1, 1], [1, 1]]
    assert w.numpy()[0].tolist() == [9, 9]  # the table itself is untouched


def test_embedding_bag_sums_word_vectors():
    w = leaf(TABLE)
    out = EmbeddingBag.apply(w, ids=np.array([[1, 2, 1], [3, 3, 3]]))
    assert out.numpy().tolist() == [[5, 8], [15, 18]]
    out.backward(np.array([[1.0, -1.0], [0.5, 2.0]]))
    # word 1 twice in the first bag, word 3 three times in the second
    assert w.grad.numpy().tolist() == [[0, 0], [2, -2], [1, -1], [1.5, 6]]


def test_embedding_bag_with_position_weights():
    w = leaf(TABLE)
    position = np.array([[1.0, 1.0], [2.0, 0.5], [10.0, 10.0]])
    out = EmbeddingBag.apply(w, ids=np.array([[1, 2, 0]]), position=position)
    assert out.numpy().tolist() == [[1 + 2 * 3 + 90, 2 + 0.5 * 4 + 90]]
    out.backward(np.array([[1.0, -1.0]]))
    assert w.grad.numpy().tolist() == [[10, -10], [1, -1], [2, -0.5], [0, 0]]


def test_embedding_bag_reads_tables_side_by_side_and_skips_padding():
    a, b = leaf(TABLE), leaf(TABLE * 10)
    position = np.array([[1.0, 1.0], [2.0, 0.5], [10.0, 10.0]])
    out = EmbeddingBag.apply(a, b, ids=np.array([[1, 2, 0]]), position=position, padding=0)
    # <pad>'s row (9, 9) adds nothing, whatever its weight
    assert out.numpy().tolist() == [[1 + 2 * 3, 2 + 0.5 * 4, 10 + 20 * 3, 20 + 5 * 4]]
    out.backward(np.array([[1.0, -1.0, 2.0, 0.5]]))
    assert a.grad.numpy().tolist() == [[0, 0], [1, -1], [2, -0.5], [0, 0]]
    assert b.grad.numpy().tolist() == [[0, 0], [2, 0.5], [4, 0.25], [0, 0]]
    assert a.numpy()[0].tolist() == [9, 9]  # the table itself is untouched


def test_embedding_bag_of_one_word_is_a_lookup_in_every_table():
    a, b = leaf(TABLE), leaf(-TABLE)
    out = EmbeddingBag.apply(a, b, ids=np.array([[[3], [1]], [[3], [0]]]))
    assert out.shape == (2, 2, 4)
    assert out.numpy()[0].tolist() == [[5, 6, -5, -6], [1, 2, -1, -2]]
    out.backward(np.ones((2, 2, 4)))
    assert a.grad.numpy().tolist() == [[1, 1], [1, 1], [0, 0], [2, 2]]  # no padding: row 0 learns
    assert b.grad.numpy().tolist() == a.grad.numpy().tolist()


@pytest.mark.parametrize("position", [None, np.array([[1.0, 1.0], [2.0, 0.5], [10.0, 10.0]])])
def test_embedding_bag_scatter_path_for_large_vocabularies_agrees(monkeypatch, position):
    """Past ONE_HOT_LIMIT the backward scatter-adds instead; both give the same gradient."""
    ids = np.array([[[1, 2, 0], [3, 3, 1]], [[2, 2, 2], [0, 1, 3]]])
    g = np.random.default_rng(0).standard_normal((2, 2, 2))
    grads = []
    for limit in (1 << 22, 0):
        monkeypatch.setattr("minigrad.ops.memory.ONE_HOT_LIMIT", limit)
        w = leaf(TABLE)
        EmbeddingBag.apply(w, ids=ids, position=position).backward(g)
        a, b = leaf(TABLE), leaf(TABLE[::-1])  # two tables, with padding
        EmbeddingBag.apply(a, b, ids=ids, position=position, padding=0).backward(np.concatenate([g, -g], -1))
        grads.append([w.grad.numpy(), a.grad.numpy(), b.grad.numpy()])
    for one_hot, scattered in zip(*grads):
        np.testing.assert_allclose(one_hot, scattered, rtol=1e-12)


def test_embedding_bag_keeps_float32():
    w = Tensor(TABLE.astype(np.float32), requires_grad=True)
    out = EmbeddingBag.apply(w, ids=np.array([[1, 2]]), position=position_encoding(2, 2))
    assert out.dtype == np.float32


def test_masked_softmax_gives_empty_slots_exactly_zero():
    x = leaf([[0.0, np.log(3.0), 100.0], [5.0, -3.0, 1000.0]])
    mask = np.array([[True, True, False], [False, False, False]])
    y = MaskedSoftmax.apply(x, mask=mask)
    np.testing.assert_allclose(y.numpy(), [[0.25, 0.75, 0.0], [0.0, 0.0, 0.0]], rtol=1e-12)
    assert y.numpy()[0, 2] == 0.0 and not np.isnan(y.numpy()).any()
    y.backward(np.array([[1.0, 0.0, 5.0], [1.0, 2.0, 3.0]]))
    # y * (g - sum(g * y)) with sum(g * y) = 0.25
    np.testing.assert_allclose(x.grad.numpy(), [[0.1875, -0.1875, 0.0], [0.0, 0.0, 0.0]], rtol=1e-12)


def test_position_encoding_values():
    # 1 + 4 (k - 1.5)(j - 1.5) / 4 for J = d = 2
    np.testing.assert_allclose(position_encoding(2, 2), [[1.25, 0.75], [0.75, 1.25]])
    assert position_encoding(6, 20).mean() == pytest.approx(1.0)


# ---- Embedding's padding row --------------------------------------------------------------


def test_embedding_padding_row_is_zero_and_never_learns():
    np.random.seed(0)
    layer = Embedding(5, 3, padding_idx=0, std=0.1)
    assert layer.weight.numpy()[0].tolist() == [0, 0, 0]
    assert layer.weight.numpy()[1:].std() == pytest.approx(0.1, rel=0.5)
    out = layer(np.array([[0, 1, 0], [2, 0, 0]]))
    assert (out.numpy()[0, 0] == 0).all()
    out.sum().backward()
    assert layer.weight.grad.numpy()[0].tolist() == [0, 0, 0]
    assert layer.weight.grad.numpy()[1].tolist() == [1, 1, 1]


# ---- the model ----------------------------------------------------------------------------

MEMORIES = np.array([[[2, 3, 1, 0], [4, 4, 0, 0], [0, 0, 0, 0]],
                     [[5, 6, 2, 3], [6, 1, 0, 0], [3, 2, 5, 0]]])
QUESTIONS = np.array([[6, 2, 0, 0], [1, 3, 4, 0]])
TIMES = np.array([[1, 0, 0], [2, 1, 0]])
MASK = np.array([[True, True, False], [True, True, True]])


def model(tying="adjacent", **options):
    np.random.seed(1)
    return memn2n(7, tying=tying, embedding_dim=4, hops=3, memory_size=5, **options)


@pytest.mark.parametrize("tying", ["adjacent", "layerwise"])
def test_an_empty_slot_is_a_zero_vector_that_keeps_its_place_in_the_softmax(tying):
    """The authors' all-nil memory: score 0, inside the softmax; masking it would move the weights."""
    attend, mask = model(tying), model(tying, empty_slots="mask")
    assert attend.empty_slots == "attend"  # the default
    (_, [p, *_]), (_, [q, *_]) = attend.attend(MEMORIES, QUESTIONS, TIMES, MASK), mask.attend(MEMORIES, QUESTIONS,
                                                                                                 TIMES, MASK)
    p, q = p.numpy(), q.numpy()
    np.testing.assert_allclose(p.sum(axis=1), 1.0, rtol=1e-6)
    assert p[0, 2] > 0.05 and q[0, 2] == 0.0
    np.testing.assert_allclose(p[0, :2] / p[0, :2].sum(), q[0, :2], rtol=1e-5)  # same scores, one slot more
    np.testing.assert_allclose(p[1], q[1], rtol=1e-6)  # a full memory: no difference


@pytest.mark.parametrize("tying", ["adjacent", "layerwise"])
@pytest.mark.parametrize("empty_slots", ["attend", "mask"])
@pytest.mark.parametrize("linear_start", [False, True])
def test_an_empty_slot_has_no_age(tying, empty_slots, linear_start):
    net = model(tying, empty_slots=empty_slots)
    net.linear_start = linear_start
    scores, weights = net.attend(MEMORIES, QUESTIONS, TIMES, MASK)
    assert scores.shape == (2, 7 + 3) and len(weights) == 3  # 7 words, then the ages of 3 slots
    if linear_start or empty_slots == "mask":
        assert all(p.numpy()[0, 2] == 0.0 for p in weights)  # a zero key scores 0; masked: no weight
    times = TIMES.copy()
    times[0, 2] = 4  # an age at a slot the mask calls empty changes nothing
    np.testing.assert_array_equal(net(MEMORIES, QUESTIONS, times, MASK).numpy(), scores.numpy())


def test_the_age_is_the_last_word_of_the_position_encoding():
    """Memory i = sum_j l_j A[w_j] + l_J T[age], with J = words + 1, as in the authors' code."""
    net = model("adjacent")
    table, ages = net.tables[0].weight.numpy(), net.times[0].weight.numpy()
    l = position_encoding(MEMORIES.shape[-1] + 1, 4)
    memory = (table[MEMORIES[1, 2]] * l[:-1]).sum(axis=0) + ages[TIMES[1, 2]] * l[-1]
    embedded = net._embed_memories(MEMORIES, TIMES, MASK)[0].numpy()
    np.testing.assert_allclose(embedded[1, 2], memory, rtol=1e-5)
    np.testing.assert_array_equal(embedded[0, 2], 0.0)  # the empty slot: a zero vector


def _word_tables(net):
    return [p for name, p in net.named_parameters() if name.startswith(("tables", "question"))]


@pytest.mark.parametrize("tying", ["adjacent", "layerwise"])
def test_the_nil_word_adds_nothing_has_a_gradient_and_is_set_back_to_zero(tying):
    """As in the authors' code: nil is an ordinary row held at zero. It adds nothing, it has a
    gradient (which clipping measures), and after every step it is zero again."""
    net = model(tying)
    tables = _word_tables(net)
    assert all((p.numpy()[0] == 0).all() for p in tables)
    before = net(MEMORIES, QUESTIONS, TIMES, MASK).numpy()
    net(MEMORIES, QUESTIONS, TIMES, MASK).cross_entropy(np.array([3, 5])).backward()
    assert all(np.abs(p.grad.numpy()[0]).sum() > 0 for p in tables)
    optimizer = SGD(net.parameters(), lr=0.5)
    for _ in range(3):
        optimizer.zero()
        net(MEMORIES, QUESTIONS, TIMES, MASK).cross_entropy(np.array([3, 5])).backward()
        optimizer.step()
        assert any(np.abs(p.numpy()[0]).sum() > 0 for p in tables)  # the step moved nil...
        net.after_step()
        assert all((p.numpy()[0] == 0).all() for p in tables)  # ...and after_step set it back
    assert all(np.abs(p.numpy()[1:]).sum() > 0 for p in tables)
    assert net(MEMORIES, QUESTIONS, TIMES, MASK).numpy().tolist() != before.tolist()  # it did learn


def test_clipping_measures_the_nil_rows_gradient_with_its_matrix():
    """The authors' Weight.m takes norm() of the whole gradient, the nil row's included, so a
    large nil gradient shortens the word vectors' clipped step."""
    net = model("adjacent")
    net.linear_start = True  # raw scores: large gradients, as in the first epochs
    net(MEMORIES, QUESTIONS, TIMES, MASK).cross_entropy(np.array([3, 5])).backward()
    groups = net.weight_matrices()
    matrix = np.concatenate([p.grad.numpy() for p in groups[0]])  # table 0: its words (nil first), its ages
    assert [p is q for p, q in zip(groups[0], [net.tables[0].weight, net.times[0].weight])] == [True, True]
    without_nil = np.linalg.norm(matrix[1:], 2)
    assert without_nil < 0.95 * np.linalg.norm(matrix, 2)  # nil's gradient raises the norm
    words = net.tables[0].weight.grad.numpy()[1:].copy()
    clip_each_matrix(groups, 0.1, "spectral")
    np.testing.assert_allclose(net.tables[0].weight.grad.numpy()[1:], words * 0.1 / np.linalg.norm(matrix, 2),
                               rtol=1e-4)


def test_adjacent_tying_shares_tables_between_hops():
    net = model("adjacent")
    names = sorted(name for name, _ in net.named_parameters())
    assert names == [f"tables.{i}.weight" for i in range(4)] + [f"times.{i}.weight" for i in range(4)]
    assert isinstance(net, AdjacentMemN2N) and net.pairs == [(0, 1), (1, 2), (2, 3)]
    # the read-out is the last table transposed: a word's score is u . C^K[word]
    scores = net(MEMORIES, QUESTIONS, TIMES, MASK).numpy()
    assert (scores[:, 0] == 0).all()  # <pad>'s row is zero, so is its score


def test_layerwise_tying_has_one_key_and_one_value_table():
    net = model("layerwise", temporal_encoding=False)
    names = sorted(name for name, _ in net.named_parameters())
    assert names == ["answer.weight", "mix.weight", "question.weight", "tables.0.weight", "tables.1.weight"]
    assert isinstance(net, LayerwiseMemN2N) and net.pairs == [(0, 1)] * 3


def test_weights_are_drawn_with_the_given_spread():
    net = memn2n(200, embedding_dim=20, hops=3, memory_size=50, std=0.1)
    values = np.concatenate([p.numpy()[1:].ravel() for p in net.parameters()])
    assert values.std() == pytest.approx(0.1, rel=0.05) and abs(values.mean()) < 0.01
    assert all(p.dtype == np.float32 for p in net.parameters())


def test_temporal_encoding_tells_ages_apart():
    net = model("adjacent")
    older = TIMES.copy()
    older[1] = [4, 3, 2]
    assert not np.allclose(net(MEMORIES, QUESTIONS, older, MASK).numpy(),
                           net(MEMORIES, QUESTIONS, TIMES, MASK).numpy())
    plain = model("adjacent", temporal_encoding=False)
    np.testing.assert_array_equal(plain(MEMORIES, QUESTIONS, older, MASK).numpy(),
                                  plain(MEMORIES, QUESTIONS, TIMES, MASK).numpy())


@pytest.mark.parametrize("tying", ["adjacent", "layerwise"])
def test_the_ages_are_answer_candidates_as_the_authors_time_words_are(tying):
    """The answer's softmax runs over the words and the ages a memory of 3 slots can hold (of the model's 5):
    the authors' vocabulary has one time word per slot."""
    net = model(tying)
    scores = net(MEMORIES, QUESTIONS, TIMES, MASK).numpy()
    assert scores.shape == (2, 7 + 3)
    if tying == "adjacent":  # an age's score is u . (its age vector in the last table)
        words_only = model(tying, answer_candidates="words")
        u_scores = words_only(MEMORIES, QUESTIONS, TIMES, MASK).numpy()
        np.testing.assert_array_equal(scores[:, :7], u_scores)  # the same weights: the words score alike
        table, ages = net.tables[-1].weight.numpy(), net.times[-1].weight.numpy()[:3]
        u = np.linalg.lstsq(table[1:], scores[:, 1:7].T, rcond=None)[0].T  # recover u from the word scores
        np.testing.assert_allclose(scores[:, 7:], u @ ages.T, rtol=1e-3, atol=1e-4)
    # the ages take a share of the probability, so the loss is not the words-only softmax's
    answers = np.array([3, 5])
    loss = float(net(MEMORIES, QUESTIONS, TIMES, MASK).cross_entropy(answers).numpy())
    shifted = scores - scores.max(axis=1, keepdims=True)
    expected = -np.mean(shifted[[0, 1], answers] - np.log(np.exp(shifted).sum(axis=1)))
    assert loss == pytest.approx(expected, rel=1e-5)
    words = shifted[:, :7]
    assert loss > -np.mean(words[[0, 1], answers] - np.log(np.exp(words).sum(axis=1)))


def test_without_ages_or_when_asked_the_answer_is_over_the_words_alone():
    for net in (model("adjacent", temporal_encoding=False), model("adjacent", answer_candidates="words"),
                model("layerwise", answer_candidates="words")):
        assert net(MEMORIES, QUESTIONS, TIMES, MASK).shape == (2, 7)
    with pytest.raises(ValueError, match="answer_candidates"):
        model("adjacent", answer_candidates="times")
