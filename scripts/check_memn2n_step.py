"""One step of minigrad's memory network against the PyTorch reference, with the same weights and batch.

    python scripts/check_memn2n_step.py                 # the joint run file, task 16's first 32 questions
    python scripts/check_memn2n_step.py --task 2 --run-file configs/babi_memn2n.yaml

Both models are built for the run file's data (scripts/reference_memn2n.py
parses the bAbI files itself); minigrad's weights are copied into the
reference's tables, word by word (its nil word is minigrad's <pad>; the ages
follow the words). Then both score the same questions, without noise on the
ages, in the linear start (no memory softmax) and with the softmax, and the
script prints the largest differences of the answer scores and of the summed
loss's gradients, the nil rows' included: the gradient that the authors'
clipping measures. Differences at float32 rounding (about 1e-6 of the scale)
mean the two compute the same step. Words met only in the test files are
rows of the reference's tables and <unk> in minigrad; both are set to zero.
Where the counts of answer candidates differ (a single task has no
test-only word, but minigrad's vocabulary still has <unk>), the softmax has
one more zero score on minigrad's side and the gradients differ by up to
1e-2 relative (task 1) or 2e-5 (task 2); the joint run file's counts agree.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

import numpy as np
import torch

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))

import reference_memn2n as R  # noqa: E402
from minigrad.data import PAD_ID, UNK_ID  # noqa: E402
from minigrad.data.memory import MemoryBatch, true_times  # noqa: E402
from minigrad.tool.config import load_config  # noqa: E402
from minigrad.tool.evaluation import forward  # noqa: E402
from minigrad.tool.session import build  # noqa: E402

BATCH = 32


def reference_for(config):
    """The reference set up for the run file's tasks, its untrained model included."""
    tasks = list(range(1, 21)) if str(config.data.task) == "all" else [int(config.data.task)]
    settings = R.Settings(dim=config.model.embedding_dim, hops=config.model.hops)
    return R.setup(tasks, settings, seed=0)


def copy_weights(model, our_vocab, ready):
    """minigrad's tables into the reference's, row by row; returns the (reference id, minigrad id) pairs."""
    ref_vocab, trainer, slots = ready.vocab, ready.trainer, ready.trainer.slots
    shared = [(i, our_vocab.index[w]) for w, i in ref_vocab.ids.items() if w in our_vocab.index]
    for k, table in enumerate(model.tables):
        rows = np.zeros(tuple(trainer.model.tables[k].shape), dtype=np.float32)
        for ref_id, our_id in shared:
            rows[ref_id] = table.weight.data[our_id]
        rows[len(ref_vocab):] = model.times[k].weight.data[:slots]  # the time words follow the words
        trainer.model.tables[k] = torch.from_numpy(rows).requires_grad_(True)
    return shared


def our_batch(datasets, task):
    """minigrad's first BATCH training questions of ``task``, with their true ages."""
    start = sum(len(p.train) for p in datasets.tasks[:task - 1]) if datasets.tasks else 0
    index, data = np.arange(start, start + BATCH), datasets.train
    counts = data.counts[index]
    return MemoryBatch(data.memories[index], data.questions[index], true_times(counts, data.slots),
                       np.arange(data.slots) < counts[:, None], data.answers[index])


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--run-file", default="configs/babi_memn2n_joint.yaml")
    parser.add_argument("--task", type=int, default=16,
                        help="the batch is this task's first 32 training questions (and a single-task run "
                             "file trains on it)")
    args = parser.parse_args(argv)
    config = load_config(args.run_file)
    if str(config.data.task) != "all":  # a single-task run file trains on --task
        config = load_config(args.run_file, {"task": args.task})
    datasets, model, _ = build(config)
    for table in model.tables:
        table.weight.data[UNK_ID] = 0  # the reference's test-only words start at zero too
    ready = reference_for(config)
    vocab, trainer, slots = ready.vocab, ready.trainer, ready.trainer.slots
    shared = copy_weights(model, datasets.vocab, ready)
    print(f"answer candidates: minigrad {len(datasets.vocab) + slots}, the reference {len(vocab) + slots} "
          f"({len(shared)} words in both)")
    start = ready.rows[args.task].start
    reference_batch = trainer.batch_tensors(R.subset(ready.train, np.arange(start, start + BATCH)), noisy=False)
    for linear_start in (True, False):
        compare(model, trainer, our_batch(datasets, args.task), reference_batch, shared, linear_start,
                len(vocab), slots)
    return 0


def compare(model, trainer, batch, reference_batch, shared, linear_start, n_words, slots):
    """Print how far the two models' answer scores and summed-loss gradients are apart."""
    model.linear_start, trainer.model.softmax = linear_start, not linear_start
    model.zero_grad()
    scores, targets = forward(model, batch, "memory")
    (scores.cross_entropy(targets, ignore_index=0) * float(len(targets))).backward()  # the summed loss
    memories, questions, answers = reference_batch
    logits = trainer.model.logits(memories, questions)
    for table in trainer.model.tables:
        table.grad = None
    torch.nn.functional.cross_entropy(logits, answers, reduction="sum").backward()
    ref_ids, our_ids = [r for r, _ in shared], [o for _, o in shared]
    ours, theirs = scores.data[:, our_ids], logits.detach().numpy()[:, ref_ids]
    print(f"{'linear start' if linear_start else 'softmax'}: answer scores differ by at most "
          f"{np.abs(ours - theirs).max():.2g} (largest {np.abs(theirs).max():.2g})")
    for k, table in enumerate(model.tables):
        mine, ref = table.weight.grad.data, trainer.model.tables[k].grad.numpy()
        largest = np.abs(ref[ref_ids]).max()
        words = np.abs(mine[our_ids] - ref[ref_ids]).max() / largest
        ages = np.abs(model.times[k].weight.grad.data[:slots] - ref[n_words:n_words + slots]).max() / largest
        nil = np.abs(mine[PAD_ID] - ref[R.NIL]).max() / np.abs(ref[R.NIL]).max()
        print(f"  table {k}: relative differences of the gradients: words {words:.1e}, ages {ages:.1e}, "
              f"nil {nil:.1e}; largest of nil's {np.abs(ref[R.NIL]).max():.3g}, of a word's {largest:.3g}")


if __name__ == "__main__":
    sys.exit(main())
