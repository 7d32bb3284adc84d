"""bAbI data: parsing task files, the vocabulary, and batches of word ids.

Typical use::

    from minigrad.data import build_datasets
    train, test, vocab = build_datasets(config.data)
    rng = numpy.random.default_rng(config.train.seed)
    for epoch in range(epochs):
        for inputs, targets in train.batches(batch_size, rng):   # mode: lm
            ...
"""

from .babi import (Question, Sentence, Story, data_dir, load_stories, load_task, parse_stories,
                   resolve_task, task_names, tokenize)
from .batching import batch_count, pad
from .datasets import build_datasets
from .lm import LMBatch, LMDataset, encode_context
from .memory import MemoryBatch, MemoryDataset, encode_memory
from .qa import QABatch, QADataset, QAExample, encode_qa
from .splits import Datasets, build_vocabulary
from .vocab import PAD, PAD_ID, UNK, UNK_ID, Vocabulary

__all__ = [
    "Question", "Sentence", "Story", "data_dir", "load_stories", "load_task", "parse_stories",
    "resolve_task", "task_names", "tokenize",
    "Datasets", "LMBatch", "LMDataset", "QABatch", "QADataset", "QAExample",
    "batch_count", "build_datasets", "build_vocabulary", "encode_context", "encode_qa", "pad",
    "MemoryBatch", "MemoryDataset", "encode_memory",
    "PAD", "PAD_ID", "UNK", "UNK_ID", "Vocabulary",
]
