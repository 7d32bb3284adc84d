"""The training loops that ``scripts/bench.py`` times, in minigrad and in PyTorch.

Every builder returns a ``Runner``: ``unit()`` runs one unit of work (one
training iteration, or one epoch) and ``warmup()`` a short run before the
clock starts. A PyTorch builder takes the ``torch`` module as its argument,
so this file never imports PyTorch itself and minigrad's workloads can run
in a process that has not loaded it (``bench.py`` measures minigrad's peak
memory that way).

One iteration is always forward, backward and an optimizer step. Both
frameworks get the same data, sizes and learning rates; their initial
weights differ (each draws its own), which does not change the work done.
"""

import functools
import os
import subprocess
import sys
import tempfile
import warnings
from pathlib import Path
from typing import Callable, NamedTuple

import numpy as np

import minigrad as mg
from minigrad.tool.config import load_config
from minigrad.data import PAD_ID, MemoryDataset, QADataset, build_datasets, build_vocabulary, load_task, resolve_task
from minigrad.models import QuestionAnswerer, build_model
from minigrad.models.memory import position_encoding
from minigrad.nn.recurrent import RNNCell
from minigrad.optim import clip_each_matrix
from minigrad.tool.training import learning_rate

ROOT = Path(__file__).resolve().parents[1]
LESSON_LINES, LESSON_WIDTH, LESSON_BATCH, LESSON_DIM = 1000, 6, 100, 16
QA_EMBED, QA_BATCH = 50, 32


class Runner(NamedTuple):
    unit: Callable[[], object]  # one iteration or one epoch
    warmup: Callable[[], object]  # a short run before timing


# ---- workloads 1 and 2: the lesson's RNN --------------------------------------------------


def lesson_tokens():
    """The lesson's reading of bAbI task 1: its first 1000 lines, lower-cased,
    split on spaces after the line id, left-padded with '-' to 6 tokens."""
    with open(resolve_task(1, "train"), encoding="utf-8") as f:
        raw = f.readlines()[:LESSON_LINES]
    lines = [line.lower().replace("\n", "").split(" ")[1:] for line in raw]
    return [["-"] * (LESSON_WIDTH - len(line)) + line for line in lines]


def lesson_rows(steps):
    """(word ids of shape (100, steps + 1), vocabulary size) for an RNN unrolled ``steps`` times.

    At 5 steps these are the lesson's own rows, ``data[0:100]``. Longer rows
    are cut from the lesson's padded lines read one after another as a single
    stream of tokens (row i holds tokens i*(steps+1) .. (i+1)*(steps+1) - 1),
    so every row is real text in the same vocabulary.
    """
    tokens = lesson_tokens()
    vocab = sorted({word for line in tokens for word in line})  # sorted: the same ids every run
    index = {word: i for i, word in enumerate(vocab)}
    if steps + 1 == LESSON_WIDTH:
        ids = np.array([[index[w] for w in line] for line in tokens])
    else:
        stream = np.array([index[w] for line in tokens for w in line])
        ids = stream[: (len(stream) // (steps + 1)) * (steps + 1)].reshape(-1, steps + 1)
    if len(ids) < LESSON_BATCH:
        raise ValueError(f"only {len(ids)} rows of {steps + 1} tokens; need {LESSON_BATCH}")
    return ids[:LESSON_BATCH], len(vocab)


def _iterations(step):
    return Runner(step, lambda: [step() for _ in range(10)])


def minigrad_lesson_step(steps):
    """The lesson's training iteration, in the lesson's own API (``forward``, ``alpha``)."""
    data, vocab_size = lesson_rows(steps)
    np.random.seed(0)
    embed = mg.Embedding(vocab_size=vocab_size, dim=LESSON_DIM)
    model = RNNCell(n_inputs=LESSON_DIM, n_hidden=LESSON_DIM, n_output=vocab_size)  # sigmoid
    criterion = mg.CrossEntropyLoss()
    optimizer = mg.SGD(parameters=model.get_parameters() + embed.get_parameters(), alpha=0.05)

    def step():
        hidden = model.init_hidden(batch_size=LESSON_BATCH)
        for t in range(steps):
            rnn_input = embed.forward(mg.Tensor(data[:, t], autograd=True))
            output, hidden = model.forward(rnn_input, hidden)
        loss = criterion.forward(output, mg.Tensor(data[:, steps], autograd=True))
        loss.backward()
        optimizer.step()  # also clears the gradients, as in the lesson
        return loss

    return step


def minigrad_lesson(steps):
    return _iterations(minigrad_lesson_step(steps))


def pytorch_lesson(torch, steps):
    """The same iteration in PyTorch, written step by step like the lesson's RNNCell."""
    nn, data = torch.nn, lesson_rows(steps)
    ids, vocab_size = torch.from_numpy(data[0]), data[1]
    torch.manual_seed(0)
    embed, w_ih, w_hh = nn.Embedding(vocab_size, LESSON_DIM), nn.Linear(LESSON_DIM, LESSON_DIM), nn.Linear(
        LESSON_DIM, LESSON_DIM)
    w_ho = nn.Linear(LESSON_DIM, vocab_size)
    optimizer = torch.optim.SGD([p for m in (embed, w_ih, w_hh, w_ho) for p in m.parameters()], lr=0.05)

    def step():
        hidden = torch.zeros(LESSON_BATCH, LESSON_DIM)
        for t in range(steps):
            hidden = torch.sigmoid(w_ih(embed(ids[:, t])) + w_hh(hidden))
            output = w_ho(hidden)  # every step, as RNNCell.forward does
        loss = nn.functional.cross_entropy(output, ids[:, steps])
        optimizer.zero_grad()
        loss.backward()
        optimizer.step()
        return loss

    return _iterations(step)


# ---- workloads 3 and 4: LSTM question answering ---------------------------------------------


class QAData(NamedTuple):
    train: list  # (stories, questions, answers) numpy batches, in one fixed shuffled order
    test: QADataset
    vocab_size: int
    questions: int  # training questions in one epoch


def qa_data():
    """bAbI task 1 for question answering: stories left-padded to the longest (66 tokens).

    The batches are cut once, in one shuffled order, and reused every epoch,
    so an epoch times the frameworks and not the padding of batches.
    """
    train_stories, test_stories = load_task(1, "train"), load_task(1, "test")
    vocab = build_vocabulary(train_stories, "qa")
    train = QADataset.from_stories(train_stories, vocab)
    test = QADataset.from_stories(test_stories, vocab, train.story_len, train.question_len)
    batches = list(train.batches(QA_BATCH, np.random.default_rng(0)))
    return QAData(batches, test, len(vocab), len(train))


def _epochs(train_on, batches):
    return Runner(lambda: train_on(batches), lambda: train_on(batches[:2]))


def minigrad_qa_model(data, hidden):
    """(model, function that trains it on a list of batches) in minigrad."""
    np.random.seed(0)
    model = QuestionAnswerer(data.vocab_size, QA_EMBED, "lstm", hidden)
    optimizer = mg.Adam(model.parameters(), lr=1e-3)

    def train_on(batches):
        for stories, questions, answers in batches:
            loss = model(stories, questions).cross_entropy(answers)
            loss.backward()
            optimizer.step()

    return model, train_on


def minigrad_qa(hidden, data=None):
    data = data or qa_data()
    return _epochs(minigrad_qa_model(data, hidden)[1], data.train)


def _torch_qa_module(torch, vocab_size, hidden, fused):
    """The QA model in PyTorch: nn.LSTM encoders (``fused``) or nn.LSTMCell in a Python loop."""
    nn = torch.nn

    class QA(nn.Module):
        def __init__(self):
            super().__init__()
            self.embedding = nn.Embedding(vocab_size, QA_EMBED)
            kind = (lambda: nn.LSTM(QA_EMBED, hidden, batch_first=True)) if fused else (
                lambda: nn.LSTMCell(QA_EMBED, hidden))
            self.story, self.question = kind(), kind()
            self.output = nn.Linear(2 * hidden, vocab_size)

        def encode(self, encoder, ids):
            x = self.embedding(ids)
            if fused:
                return encoder(x)[1][0][-1]  # last layer's final h
            h = c = x.new_zeros(x.shape[0], hidden)
            for t in range(x.shape[1]):
                h, c = encoder(x[:, t], (h, c))
            return h

        def forward(self, stories, questions):
            both = [self.encode(self.story, stories), self.encode(self.question, questions)]
            return self.output(torch.cat(both, dim=-1))

    return QA()


def pytorch_qa_model(torch, data, hidden, fused=True):
    """(model, function that trains it on a list of numpy batches) in PyTorch."""
    torch.manual_seed(0)
    model = _torch_qa_module(torch, data.vocab_size, hidden, fused)
    optimizer = torch.optim.Adam(model.parameters(), lr=1e-3)
    converted = {}  # numpy batch id -> torch tensors, converted once

    def train_on(batches):
        for batch in batches:
            if id(batch) not in converted:
                converted[id(batch)] = [torch.from_numpy(a) for a in batch]
            stories, questions, answers = converted[id(batch)]
            loss = torch.nn.functional.cross_entropy(model(stories, questions), answers)
            optimizer.zero_grad()
            loss.backward()
            optimizer.step()

    return model, train_on


def pytorch_qa(torch, hidden, fused=True, data=None):
    data = data or qa_data()
    return _epochs(pytorch_qa_model(torch, data, hidden, fused)[1], data.train)


def pytorch_qa_without_onednn(torch, hidden, data=None):
    """nn.LSTM with oneDNN turned off: on CPU, PyTorch otherwise runs the
    whole layer in oneDNN's fused LSTM kernel; off, it runs its own
    step-by-step products and gate ops, the path minigrad's op is written like."""
    runner = pytorch_qa(torch, hidden, data=data)

    def off(fn):
        def run():
            with warnings.catch_warnings():  # the switch warns about Intel GPUs, which this is not about
                warnings.simplefilter("ignore", UserWarning)
                with torch.backends.mkldnn.flags(enabled=False):
                    return fn()
        return run

    return Runner(off(runner.unit), off(runner.warmup))


def minigrad_accuracy(model, test):
    """Share of test questions answered right, without a graph."""
    right = 0
    with mg.no_grad():
        for stories, questions, answers in test.batches(256):
            right += int((model(stories, questions).data.argmax(axis=-1) == answers).sum())
    return right / len(test)


def pytorch_accuracy(torch, model, test):
    right = 0
    with torch.no_grad():
        for batch in test.batches(256):
            stories, questions, answers = (torch.from_numpy(a) for a in batch)
            right += int((model(stories, questions).argmax(dim=-1) == answers).sum())
    return right / len(test)


def train_for_accuracy(torch, hidden, epochs):
    """Test accuracy of minigrad's and PyTorch's (fused) QA model after ``epochs`` epochs.

    Returns {"minigrad": accuracy, "pytorch": accuracy or None}.
    """
    data = qa_data()
    model, train_on = minigrad_qa_model(data, hidden)
    for _ in range(epochs):
        train_on(data.train)
    result = {"minigrad": minigrad_accuracy(model, data.test), "pytorch": None}
    if torch is not None:
        model, train_on = pytorch_qa_model(torch, data, hidden)
        for _ in range(epochs):
            train_on(data.train)
        result["pytorch"] = pytorch_accuracy(torch, model, data.test)
    return result


# ---- workload 5: the command line ---------------------------------------------------------


CLI_COMMAND = ["train", "configs/babi_rnn.yaml", "--out"]


def minigrad_cli():
    """Runner for workload 5: ``python -m minigrad train configs/babi_rnn.yaml`` in a fresh process."""

    def run():
        with tempfile.TemporaryDirectory() as out:
            done = subprocess.run([sys.executable, "-m", "minigrad", *CLI_COMMAND, out], cwd=ROOT,
                                  capture_output=True, text=True)
        if done.returncode != 0:
            raise RuntimeError(f"minigrad train failed:\n{done.stdout[-2000:]}{done.stderr[-2000:]}")

    return Runner(run, run)


def minigrad_cli_in_process():
    """Workload 5 inside this process, as ``python -m minigrad`` runs it (for its peak memory)."""
    import runpy

    with tempfile.TemporaryDirectory() as out:
        sys.argv = ["minigrad", *CLI_COMMAND, out]
        os.chdir(ROOT)
        try:
            runpy.run_module("minigrad", run_name="__main__")
        except SystemExit as e:
            if e.code:
                raise


# ---- workload 6: the end-to-end memory network ----------------------------------------------


MEMORY_CONFIG = ROOT / "configs" / "babi_memn2n.yaml"


class MemoryData(NamedTuple):
    config: object  # the RunConfig: configs/babi_memn2n.yaml with its task replaced
    train: list  # MemoryBatch es in one fixed shuffled order, with the config's noise on the ages
    train_set: MemoryDataset  # the training questions (after the validation hold-out)
    test: MemoryDataset
    vocab_size: int


@functools.lru_cache(maxsize=None)
def memory_data(task=2):
    """configs/babi_memn2n.yaml's data on bAbI ``task``, as ``minigrad train`` builds it.

    The batches are cut once (seed 0) and reused every epoch, so both
    frameworks train on the very same numpy arrays and an epoch times the
    frameworks, not the shuffling. Cached: minigrad's and PyTorch's runners
    share one copy.
    """
    config = load_config(MEMORY_CONFIG, {"task": task})
    datasets = build_datasets(config.data, memory_size=config.model.memory_size,
                              random_noise=config.model.random_noise)
    batches = list(datasets.train.batches(config.data.batch_size, np.random.default_rng(0)))
    if any((batch.answers == PAD_ID).any() for batch in batches):
        raise ValueError("an answer is <pad>: the summed loss would count it")
    return MemoryData(config, batches, datasets.train, datasets.test, len(datasets.vocab))


def minigrad_memory_trainer(data):
    """(model, optimizer, function that trains on a list of batches), as ``minigrad train`` steps.

    One step is the run file's: summed cross-entropy (the batch mean times
    the batch size, as ``training.train_epoch`` does), every weight matrix's
    gradient clipped on its own by its largest singular value, then plain SGD,
    then the nil rows set back to zero.
    """
    config = data.config
    np.random.seed(config.train.seed)
    model = build_model(config, data.vocab_size)
    optimizer = mg.SGD(model.parameters(), lr=config.optimizer.lr)
    clip = config.optimizer.clip_norm
    matrices = model.weight_matrices()

    def train_on(batches):
        for *inputs, answers in batches:
            loss = model(*inputs).cross_entropy(answers, ignore_index=PAD_ID)
            (loss * len(answers)).backward()
            clip_each_matrix(matrices, clip, norm="spectral")
            optimizer.step()
            model.after_step()  # the nil rows back to zero, as minigrad train does after every step

    return model, optimizer, train_on


def _memory_runner(train_on, batches):
    return Runner(lambda: train_on(batches), lambda: [train_on(batches[:2]) for _ in range(3)])


def minigrad_memory(linear_start=False, data=None):
    """Workload 6 in minigrad: one epoch, in the main phase (softmax attention) or the linear start."""
    data = data or memory_data()
    model, _, train_on = minigrad_memory_trainer(data)
    model.linear_start = linear_start
    return _memory_runner(train_on, data.train)


def _torch_memory_module(torch, spec, vocab_size, sentence_len):
    """MemN2N with adjacent tying, position and temporal encoding, in PyTorch.

    ``spec`` is the run file's ``model`` section. Tables T_0..T_K: hop k
    reads keys from T_k and values from T_k+1, the question is a bag in T_0
    and the answer scores are u T_K^T.

    Rows are looked up with ``index_select``: ``F.embedding`` (nn.Embedding's
    lookup) gives the same result, but its CPU backward made a whole epoch
    about 1.4 times slower in our runs, and the comparison should be with the
    faster of PyTorch's plain ways.
    """
    if spec.tying != "adjacent" or not (spec.position_encoding and spec.temporal_encoding):
        raise ValueError("the PyTorch memory network is written for adjacent tying with PE and TE")
    nn = torch.nn

    def lookup(table, ids):  # table[ids], shape ids.shape + (d,)
        return table.index_select(0, ids.reshape(-1)).view(*ids.shape, table.shape[1])

    def normal(rows):
        table = nn.Embedding(rows, spec.embedding_dim)
        nn.init.normal_(table.weight, std=spec.init_std)
        return table

    class MemN2N(nn.Module):
        def __init__(self):
            super().__init__()
            self.words = nn.ModuleList(normal(vocab_size) for _ in range(spec.hops + 1))
            self.ages = nn.ModuleList(normal(spec.memory_size) for _ in range(spec.hops + 1))
            # padding_idx would only stop the lookups' gradient; the tied read-out uses the
            # whole table as a matrix, so <pad>'s row is masked out wherever a table is read.
            keep = torch.ones(vocab_size, 1)
            keep[PAD_ID] = 0
            self.register_buffer("keep", keep)
            # Words at positions 1..J-1, the age word at J, as in the authors' code.
            position = position_encoding(sentence_len + 1, spec.embedding_dim)
            self.register_buffer("position", torch.tensor(position, dtype=torch.float32))
            self.empty_slots, self.linear_start = spec.empty_slots, False

        def bag(self, table, ids):  # (..., words) ids -> (..., d), position-weighted sums
            return (lookup(table, ids) * self.position[:-1]).sum(dim=-2)

        def forward(self, memories, questions, times, mask):
            tables = [words.weight * self.keep for words in self.words]
            filled = mask.unsqueeze(-1).to(tables[0].dtype)  # an empty slot has no age: a zero vector
            memory = [self.bag(table, memories) + lookup(ages.weight, times) * self.position[-1] * filled
                      for table, ages in zip(tables, self.ages)]
            u = self.bag(tables[0], questions)
            for keys, values in zip(memory, memory[1:]):
                scores = torch.bmm(keys, u.unsqueeze(2)).squeeze(2)
                if self.linear_start:
                    p = scores
                elif self.empty_slots == "mask":
                    p = scores.masked_fill(~mask, float("-inf")).softmax(dim=-1)
                else:
                    p = scores.softmax(dim=-1)
                u = u + torch.bmm(p.unsqueeze(1), values).squeeze(1)
            return u @ tables[-1].T

    return MemN2N()


def memory_batches_to_torch(torch, batches):
    """MemoryBatch es as tuples of tensors sharing the numpy arrays' memory."""
    return [tuple(torch.from_numpy(a) for a in batch) for batch in batches]


def pytorch_memory_trainer(torch, data):
    """(model, optimizer, function that trains on a list of batches of tensors): the same step in PyTorch."""
    config = data.config
    torch.manual_seed(config.train.seed)
    model = _torch_memory_module(torch, config.model, data.vocab_size, data.train_set.sentence_len)
    optimizer = torch.optim.SGD(model.parameters(), lr=config.optimizer.lr)
    clip = config.optimizer.clip_norm

    def train_on(batches):
        for *inputs, answers in batches:
            scores = model(*inputs)
            loss = torch.nn.functional.cross_entropy(scores, answers, ignore_index=PAD_ID, reduction="sum")
            optimizer.zero_grad()
            loss.backward()
            for p in model.parameters():  # by the spectral norm, as the minigrad side
                norm = torch.linalg.matrix_norm(p.grad, ord=2) if p.grad.dim() == 2 else p.grad.norm()
                if norm > clip:
                    p.grad.mul_(clip / norm)
            optimizer.step()

    return model, optimizer, train_on


def pytorch_memory(torch, linear_start=False, data=None):
    data = data or memory_data()
    model, _, train_on = pytorch_memory_trainer(torch, data)
    model.linear_start = linear_start
    return _memory_runner(train_on, memory_batches_to_torch(torch, data.train))


def _memory_test_error(predict, test):
    """Share of test questions answered wrong; ``predict`` maps a batch to predicted ids."""
    wrong = sum(int((predict(batch) != batch.answers).sum()) for batch in test.batches(256))
    return wrong / len(test)


def memory_train_for_error(torch, task=1):
    """Test error of minigrad's and PyTorch's memory network after the run file's whole schedule.

    Both train on the same batches, reshuffled every epoch as ``minigrad
    train`` does (with fresh noise on the ages), and follow its schedule:
    the linear start's epochs without the memory softmax at its own rate,
    then SGD at ``optimizer.lr``, stepped down by its schedule.
    Returns {"minigrad": error, "pytorch": error or None, "epochs": epochs}.
    """
    data = memory_data(task)
    config, start = data.config, data.config.model.linear_start
    mg_model, mg_optimizer, mg_train = minigrad_memory_trainer(data)
    if torch is not None:
        pt_model, pt_optimizer, pt_train = pytorch_memory_trainer(torch, data)
    for epoch in range(1, config.train.epochs + 1):
        rng = np.random.default_rng([config.train.seed, epoch])
        batches = list(data.train_set.batches(config.data.batch_size, rng))
        lr, linear = learning_rate(config, epoch), start is not None and epoch <= start.epochs
        mg_model.linear_start, mg_optimizer.lr = linear, lr
        mg_train(batches)
        if torch is not None:
            pt_model.linear_start = linear
            for group in pt_optimizer.param_groups:
                group["lr"] = lr
            pt_train(memory_batches_to_torch(torch, batches))
    with mg.no_grad():
        result = {"minigrad": _memory_test_error(lambda b: mg_model(*b[:-1]).data.argmax(axis=-1), data.test),
                  "pytorch": None, "epochs": config.train.epochs}
    if torch is not None:
        with torch.no_grad():
            result["pytorch"] = _memory_test_error(
                lambda b: pt_model(*memory_batches_to_torch(torch, [b])[0][:-1]).argmax(dim=-1).numpy(), data.test)
    return result
