"""Generated bad input: whatever a task file, a run file or a prediction request holds,
minigrad answers with one of its own errors (a ``MinigradError``), never anything else.

Every test is derandomized, so a failure reproduces on every machine and every run.
"""

import shutil

import pytest
import yaml
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from conftest import TINY_LM, TINY_QA
from minigrad.tool.config import load_config
from minigrad.data import build_vocabulary, load_stories
from minigrad.errors import MinigradError
from minigrad.tool.predict import Predictor

FAST = settings(max_examples=80, deadline=None, derandomize=True,
                suppress_health_check=[HealthCheck.too_slow])


@pytest.fixture(scope="module")
def folder(tmp_path_factory):
    """One scratch folder per module: hypothesis runs many examples inside one test call."""
    return tmp_path_factory.mktemp("generated")


def outcome(action):
    """Run ``action``; a MinigradError is a fine answer, any other exception fails the test."""
    try:
        return action()
    except MinigradError as exc:
        assert exc.message, "an error must say what is wrong"
        return exc


# ---- bAbI task files ---------------------------------------------------------------------------

WORDS = st.sampled_from(["Mary", "moved", "to", "the", "bathroom.", "Where", "is", "John?", "?", "", " ",
                         "\t", "é", "²", "١", "<pad>", "\ufeff", "\x00", "\x0b"])
LINE_IDS = st.one_of(st.integers(0, 12).map(str), st.sampled_from(["", "x", "-1", "1.5", "²", "9" * 30]))
ANSWERS = st.one_of(st.sampled_from(["bathroom", "apple,milk", "", "two words"]), st.text(max_size=4))
ID_SEPARATORS = [" ", "", "  ", "\t"]
SUPPORT = st.one_of(st.lists(st.integers(-1, 12).map(str), max_size=3).map(" ".join), st.text(max_size=4))


@st.composite
def babi_line(draw):
    """A line that is often right and often wrong in one way: id, text, tabs, answer, support."""
    text = " ".join(draw(st.lists(WORDS, max_size=6)))
    fields = draw(st.sampled_from([[text], [text, draw(ANSWERS)], [text, draw(ANSWERS), draw(SUPPORT)],
                                   [text, draw(ANSWERS), draw(SUPPORT), "extra"]]))
    return draw(LINE_IDS) + draw(st.sampled_from(ID_SEPARATORS)) + "\t".join(fields)


@st.composite
def babi_file(draw):
    """The bytes of a task file: generated lines, mixed line ends, maybe a BOM, maybe cut short or garbled."""
    lines = draw(st.lists(babi_line(), max_size=12))
    ends = draw(st.lists(st.sampled_from(["\n", "\r\n", "\r", "\n\n"]), min_size=len(lines), max_size=len(lines)))
    data = "".join(line + end for line, end in zip(lines, ends)).encode("utf-8")
    if draw(st.booleans()):
        data = b"\xef\xbb\xbf" + data
    if data and draw(st.booleans()):
        data = data[:draw(st.integers(0, len(data)))]
    if draw(st.integers(0, 4)) == 0:
        data += draw(st.binary(max_size=20))
    return data


@FAST
@given(data=st.one_of(babi_file(), st.binary(max_size=200)))
def test_any_task_file_parses_or_is_refused_with_a_data_error(folder, data):
    path = folder / "generated_train.txt"
    path.write_bytes(data)
    stories = outcome(lambda: load_stories(path))
    if isinstance(stories, MinigradError):
        assert str(path) in stories.message
        return
    assert stories and all(s.sentences or s.questions for s in stories)
    for mode in ("lm", "qa"):
        build_vocabulary(stories, mode)


VALID_LINES = st.lists(st.sampled_from(["Mary moved to the bathroom.", "John went to the hallway."]),
                       min_size=1, max_size=4)


@FAST
@given(statements=VALID_LINES, end=st.sampled_from(["\n", "\r\n"]), trailing=st.booleans())
def test_a_byte_order_mark_changes_nothing(folder, statements, end, trailing):
    lines = [f"{i} {s}" for i, s in enumerate(statements, start=1)]
    lines.append(f"{len(lines) + 1} Where is Mary?\tbathroom\t1")
    text = end.join(lines) + end + (end if trailing else "")
    plain, marked = folder / "plain_train.txt", folder / "marked_train.txt"
    plain.write_bytes(text.encode())
    marked.write_bytes(b"\xef\xbb\xbf" + text.encode())
    assert load_stories(marked) == load_stories(plain)


# ---- run files -----------------------------------------------------------------------------------

# Whole numbers stay small: a valid config asking for a huge model is not damage, just slow.
VALUES = st.one_of(st.none(), st.booleans(), st.integers(-3, 40), st.floats(allow_nan=True),
                   st.sampled_from(["lm", "qa", "rnn", "lstm", "gru", "sgd", "adam", "recurrent",
                                    "sequential", "Embedding", "Linear", "vocab", "cpu", "cuda", "1", "qa1"]),
                   st.text(max_size=6), st.lists(st.integers(0, 4), max_size=2),
                   st.dictionaries(st.sampled_from(["type", "dim", "n_outputs", "x"]), st.integers(1, 9), max_size=2))


def key_paths(config, prefix=()):
    """Every (section, ..., key) path of a nested run config, sections included."""
    for key, value in config.items():
        yield prefix + (key,)
        if isinstance(value, dict):
            yield from key_paths(value, prefix + (key,))


@st.composite
def mutated_config(draw, base):
    """``base`` with a few keys removed, set to other values, or added under unknown names."""
    config = yaml.safe_load(yaml.safe_dump(base))  # a deep copy
    for _ in range(draw(st.integers(1, 3))):
        path = draw(st.sampled_from(sorted(key_paths(config))))
        parent = config
        for key in path[:-1]:
            parent = parent[key]
        if not isinstance(parent, dict):
            continue
        action = draw(st.sampled_from(["remove", "replace", "add"]))
        if action == "remove":
            parent.pop(path[-1], None)
        elif action == "replace":
            parent[path[-1]] = draw(VALUES)
        else:
            parent[draw(st.sampled_from(["extra", "lr ", "Task", "hidden"]))] = draw(VALUES)
    return config


def run_file_text(config, cut):
    """``config`` as YAML, cut after ``cut`` characters unless None."""
    text = yaml.safe_dump(config, sort_keys=False)
    return text[:cut] if cut is not None else text


@FAST
@given(config=st.one_of(mutated_config(TINY_LM), mutated_config(TINY_QA)),
       cut=st.one_of(st.none(), st.integers(0, 200)), check_data=st.booleans())
def test_any_run_file_loads_or_is_refused(folder, config, cut, check_data):
    path = folder / "run.yaml"
    path.write_text(run_file_text(config, cut))
    outcome(lambda: load_config(path, check_data=check_data))


@FAST
@given(text=st.text(max_size=80))
def test_any_text_as_a_run_file_is_refused_or_loads(folder, text):
    path = folder / "text.yaml"
    path.write_text(text, encoding="utf-8")
    outcome(lambda: load_config(path))


@pytest.fixture(scope="module")
def run_copies(lm_run, qa_run, tmp_path_factory):
    """Private copies of the trained runs whose config.yaml the tests below overwrite."""
    folder = tmp_path_factory.mktemp("run-copies")
    return {"lm": shutil.copytree(lm_run, folder / "lm"), "qa": shutil.copytree(qa_run, folder / "qa")}


@settings(FAST, max_examples=40)
@given(mode=st.sampled_from(["lm", "qa"]), data=st.data(), cut=st.one_of(st.none(), st.integers(0, 300)))
def test_predict_from_a_run_with_a_mutated_config(run_copies, mode, data, cut):
    run = run_copies[mode]
    config = data.draw(mutated_config(yaml.safe_load((run / "config.yaml").read_text())))
    original = (run / "config.yaml").read_text()
    try:
        (run / "config.yaml").write_text(run_file_text(config, cut))
        predictor = outcome(lambda: Predictor.load(run))
    finally:
        (run / "config.yaml").write_text(original)
    if isinstance(predictor, Predictor):
        ask = (lambda: predictor.next_word("mary moved to the")) if predictor.mode == "lm" else \
            (lambda: predictor.answer("mary went to the garden.", "where is mary?"))
        outcome(ask)


# ---- what predict is asked -------------------------------------------------------------------------


@pytest.fixture(scope="module")
def lm_predictor(lm_run):
    return Predictor.load(lm_run)


@pytest.fixture(scope="module")
def qa_predictor(qa_run):
    return Predictor.load(qa_run)


KNOWN = ["mary", "john", "moved", "went", "to", "the", "garden", "office", "where", "is", "?", ".", "Mary"]
PHRASES = st.lists(st.one_of(st.sampled_from(KNOWN), st.text(max_size=6)), max_size=8).map(" ".join)


@FAST
@given(context=st.one_of(PHRASES, st.text(max_size=30)), top_k=st.integers(1, 60))
def test_any_context_is_answered_or_refused(lm_predictor, context, top_k):
    pairs = outcome(lambda: lm_predictor.next_word(context, top_k))
    if not isinstance(pairs, MinigradError):
        assert 1 <= len(pairs) <= top_k and sum(p for _, p in pairs) <= 1 + 1e-9


@FAST
@given(story=st.one_of(PHRASES, st.text(max_size=30)), question=st.one_of(PHRASES, st.text(max_size=12)))
def test_any_story_and_question_are_answered_or_refused(qa_predictor, story, question):
    pairs = outcome(lambda: qa_predictor.answer(story, question, 3))
    if not isinstance(pairs, MinigradError):
        assert len(pairs) == 3


@FAST
@given(words=st.lists(st.sampled_from(KNOWN[:8]), min_size=1, max_size=10))
def test_known_words_are_always_answered(lm_predictor, qa_predictor, words):
    assert len(lm_predictor.next_word(" ".join(words), 2)) == 2
    assert len(qa_predictor.answer(" ".join(words) + ".", "where is mary?", 2)) == 2
