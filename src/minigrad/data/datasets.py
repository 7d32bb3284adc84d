"""Build a run's data: from its ``data`` section to padded batches of word ids.

There are three ways to learn from a task (the ``mode`` of a run):

``lm``
    Next-word prediction, the lesson's experiment. Every line of the file
    (statements, and questions without their answers) is one sequence; a
    batch is ``(inputs, targets)`` of shape (batch, time) with ``targets``
    the inputs shifted left by one. Rows are padded on the **right** with
    ``<pad>`` = 0, which the loss skips (``ignore_index=0``). A recurrent
    model reads left to right, so padding after the words never changes
    what it computes at a real word: the output after ``mary moved to the``
    is the same in a padded batch as for that context alone, and predicting
    the next word is simply "feed the context, read the last output".

``qa``
    Question answering. Each question becomes one example: the story's
    statements before it, joined and cut to the last ``story_len`` tokens,
    the question, and the answer's id. Stories and questions are padded on
    the **left**, so the last time step of every row is its last real word
    and an encoder can take its final state without a mask.

``memory``
    Question answering for memory networks: the statements before each
    question, one row of ids per statement; see ``minigrad.data.memory``.

Each mode has its module (``lm``, ``qa``, ``memory``); ``splits`` reads one
task in the run's mode, ``joint`` several tasks as one training set, and
``build_datasets`` below picks between the two.
"""

from .babi import load_task
from .joint import joint_datasets, task_list
from .splits import Datasets, build_vocabulary, hold_out, punctuation, task_datasets


def build_datasets(data, memory_size=50, random_noise=0.0):
    """Load a task (or several: ``minigrad.data.joint``) and build the vocabulary and the splits.

    Args:
        data: the ``data`` section of a run config (anything with ``task``,
            ``mode``, ``train_size``, ``test_size``, ``max_len``,
            ``max_story_len`` and ``max_question_len`` attributes, and
            optionally ``valid_fraction``).
        memory_size, random_noise: mode memory only: the most statements a
            question keeps, and the noise added to training batches' ages
            (see ``minigrad.data.memory``).
    Returns:
        ``Datasets(train, test, vocab, valid)``; the vocabulary comes from the
        training split only, so unseen test words become ``<unk>``.
    """
    if task_list(data.task) is not None:  # several tasks, one model: see minigrad.data.joint
        return joint_datasets(data, memory_size, random_noise)
    train_stories, test_stories = (load_task(data.task, split, punctuation(data)) for split in ("train", "test"))
    vocab = build_vocabulary(train_stories, data.mode)
    train, test = task_datasets(data, train_stories, test_stories, vocab, memory_size, random_noise)
    train, valid = hold_out(train, getattr(data, "valid_fraction", 0.0))
    return Datasets(train, test, vocab, valid)
