"""Scoring a model: a batch's scores, and loss and accuracy over a dataset or a split.

Under MPI (``minigrad.tool.distributed``) each rank scores its share of every
batch and the sums are added up, so every rank gets the same figures.
"""

import numpy as np

from ..autograd import no_grad
from ..backend import to_device
from . import distributed


def forward(model, batch, mode, device="cpu"):
    """(scores, targets) of a batch: next-word scores for lm, answer scores for qa and memory."""
    arrays = [to_device(a, device) for a in batch]
    if mode == "lm":
        inputs, targets = arrays
        return model(inputs), targets
    *inputs, answers = arrays  # qa: stories, questions; memory: memories, questions, times, mask
    return model(*inputs), answers


def _counts(scores, targets, ignore_index):
    """(number of counted targets, number predicted right) for accuracy."""
    counted = targets != ignore_index if ignore_index is not None else np.ones(targets.shape, bool)
    right = (scores.data.argmax(axis=-1) == targets) & counted
    return int(counted.sum()), int(right.sum())


def evaluate(model, dataset, config, world=distributed.ALONE):
    """Mean loss and accuracy over a dataset, without building a graph."""
    return _means(*evaluate_sums(model, dataset, config, world))


def evaluate_sums(model, dataset, config, world=distributed.ALONE):
    """(summed loss, counted targets, right predictions) over a dataset: sums pool across datasets.

    Under MPI each rank scores its share of every batch and the sums are added up.
    """
    ignore = config.loss.ignore_index
    total_loss = total = right = 0
    model.eval()
    with no_grad():
        for batch in map(world.share, dataset.batches(config.data.batch_size)):
            if not len(batch[-1]):  # a last batch with fewer rows than ranks leaves some none
                continue
            scores, targets = forward(model, batch, config.data.mode, config.device)
            n, r = _counts(scores, targets, ignore)
            total_loss += scores.cross_entropy(targets, ignore_index=ignore).item() * n
            total, right = total + n, right + r
    model.train()
    return world.sum((total_loss, total, right))


def _means(total_loss, total, right):
    """(mean loss, accuracy) from ``evaluate_sums``' figures."""
    return total_loss / max(total, 1), right / max(total, 1)


def batch_loss(session, batch):
    """(mean loss, counted targets, right predictions) of a batch; (None, 0, 0) for one without rows."""
    config, ignore = session.config, session.config.loss.ignore_index
    if not len(batch[-1]):  # under MPI, a last batch with fewer rows than ranks leaves some none
        return None, 0, 0
    scores, targets = forward(session.model, batch, config.data.mode, config.device)
    return (scores.cross_entropy(targets, ignore_index=ignore), *_counts(scores, targets, ignore))


def split_scores(session, split):
    """(mean loss, accuracy) over a split, and each task's accuracy when the run has several tasks, else {}.

    With several tasks each task's part is scored once and the sums pooled, so
    the figures are still over all the tasks' examples.
    """
    model, config, tasks, world = session.model, session.config, session.datasets.tasks, session.world
    if not tasks:
        return evaluate(model, getattr(session.datasets, split), config, world), {}
    sums = {t.name: evaluate_sums(model, getattr(t, split), config, world) for t in tasks}
    pooled = [sum(column) for column in zip(*sums.values())]
    return _means(*pooled), {name: _means(*figures)[1] for name, figures in sums.items()}
