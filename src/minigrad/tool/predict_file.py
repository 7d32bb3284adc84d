"""``minigrad predict --file STORIES``: answer every question of a bAbI-format file.

Each question is answered from the statements before it in its story, as in
training; the result is one record per question, with the file's own answer
beside the model's. A question the run cannot read (a word it never saw)
gets its error in its record instead of stopping the others.
"""

from ..data.babi import load_stories
from ..errors import MinigradError
from .predict import Predictor


def check_alone(*others):
    """``--file`` with ``--context``, ``--story``, ``--story-file`` or ``--question``: one would be ignored."""
    if any(option is not None for option in others):
        raise MinigradError("--file answers the questions of a file: give it without --context, --story, "
                            "--story-file or --question.")


def answer_file(run, path, weights="best", top_k=1):
    """``(the weights used, [record, ...])``, a record per question of ``path``, in file order."""
    predictor = Predictor.load(run, weights)
    records = []
    for number, story in enumerate(load_stories(path), start=1):
        for question in story.questions:
            records.append(_answer(predictor, number, story, question, top_k))
    return predictor.weights, records


def _answer(predictor, number, story, question, top_k):
    record = {"story": number, "line": question.id, "question": " ".join(question.tokens),
              "expected": question.answer}
    statements = [" ".join(s.tokens) + ("" if s.tokens[-1:] == (".",) else " .")  # a statement ends its sentence
                  for s in story.context(question)]
    try:
        pairs = predictor.answer(" ".join(statements), " ".join(question.tokens), top_k)
    except MinigradError as exc:
        return {**record, "error": exc.message}
    word, p = pairs[0]
    return {**record, "answer": word, "p": p, "correct": word == question.answer,
            "candidates": [list(pair) for pair in pairs]}


def summary(records):
    """``(right, answered, failed)`` over the records."""
    answered = [r for r in records if "error" not in r]
    return sum(r["correct"] for r in answered), len(answered), len(records) - len(answered)
