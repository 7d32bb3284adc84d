"""A PyTorch end-to-end memory network on bAbI, following the authors' Matlab release.

Sukhbaatar, Szlam, Weston, Fergus, "End-To-End Memory Networks" (NIPS 2015).
The model, the data handling and the training loop follow the authors' Matlab
code (facebookarchive/MemNN, folder MemN2N-babi-matlab) rather than the
paper's prose wherever the two differ; each such place is marked "CODE:"
below, with the Matlab file it comes from. This file imports nothing from
minigrad: it reads the bAbI text files itself, so it can serve as an
independent reference for minigrad's own memory network.

    python scripts/reference_memn2n.py --task 1 --seed 0
    python scripts/reference_memn2n.py --joint --seed 0

Errors are percentages, 100 x (1 - accuracy).

Settings (single-task, config_babi.m; joint, config_babi_joint.m):
    3 hops, adjacent weight tying, position encoding, temporal encoding as
    time words, 10% random noise on the ages, batch 32, cost summed over the
    batch, SGD, each weight matrix's gradient rescaled when its spectral norm
    exceeds 40, weights from N(0, 0.1^2), d = 20 (joint 50).
    Single task: a linear start of 20 epochs at lr 0.005, then 100 epochs with
    the softmax, again from lr 0.005, halved every 25 epochs.
    Joint: 30 linear-start epochs at 0.005, then 60 epochs from 0.005, halved
    every 15 epochs.
"""

from __future__ import annotations

import argparse
import math
import sys
import time
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import torch

DATA_DIR = Path(__file__).resolve().parent.parent / "data" / "babi"
NIL = 0  # the Matlab code's word 1, 'nil'; here 0-based


# --------------------------------------------------------------------------
# Settings
# --------------------------------------------------------------------------

@dataclass
class Settings:
    """One training recipe. The defaults are config_babi.m's single-task values."""

    dim: int = 20                # config.input_dim = config.out_dim
    hops: int = 3                # nhops
    batch_size: int = 32         # batch_size
    memory_cap: int = 50         # config.sz = min(50, most statements in a training story)
    epochs: int = 100            # nepochs (softmax phase)
    decay_step: int = 25         # lrate_decay_step: lr halved when epoch % step == 0
    lr: float = 0.005            # config.init_lrate, overwritten by the linear-start block (see below)
    linear_start: bool = True    # linear_start
    ls_epochs: int = 20          # ls_nepochs
    ls_decay_step: int = 21      # ls_lrate_decay_step (past the end: no decay during LS)
    ls_lr: float = 0.005         # ls_init_lrate
    max_grad_norm: float = 40.0  # config.max_grad_norm
    init_std: float = 0.1        # Weight.m: 0.1 * randn
    random_time: float = 0.1     # randomize_time
    valid_fraction: float = 0.1  # train_range / val_range
    random_valid: bool = False   # joint config: a random permutation picks the held-out 10%
    # Not the authors' code: minigrad's ways, to measure what each difference does.
    sampling: str = "replacement"  # or "shuffle": each epoch visits every question once
    valid_per_task: bool = False   # joint: the last 10% of each task's questions validate
    matlab_eval: bool = False    # evaluate only whole batches of 32, as train.m / test.m do
    verbose: bool = False


def single_settings(**overrides) -> Settings:
    # CODE (config_babi.m): with linear_start on, the code sets
    # config.init_lrate = 0.01/2, and train_linear_start.m restores that
    # (overwritten) value for the softmax phase. So the softmax phase also
    # starts at 0.005, not at the paper's 0.01.
    return Settings(**overrides)


def joint_settings(**overrides) -> Settings:
    # CODE (config_babi_joint.m): d = 50, 60 epochs halved every 15; linear
    # start 30 epochs (decay step 31, so none); both phases start at 0.005;
    # the validation 10% is a random permutation's tail (randperm).
    base = dict(dim=50, epochs=60, decay_step=15, ls_epochs=30, ls_decay_step=31, random_valid=True)
    base.update(overrides)
    return Settings(**base)


# --------------------------------------------------------------------------
# Data: parseBabiTask.m
# --------------------------------------------------------------------------

@dataclass
class Parsed:
    """One parse of one or more bAbI files, as parseBabiTask.m returns it.

    stories[s] is the list of statements (lists of word ids) of story s;
    questions are (story index, statements before the question, answer id);
    qwords[i] is question i's word ids.
    """

    stories: list = field(default_factory=list)
    questions: list = field(default_factory=list)
    qwords: list = field(default_factory=list)
    max_words: int = 0       # longest statement or question, in words
    max_sentences: int = 0   # most statements in one story
    file_questions: list = field(default_factory=list)  # questions in each file, in order


class Vocab:
    """The word -> id map, shared by the training and test parses ('nil' is 0)."""

    def __init__(self):
        self.ids = {"nil": NIL}

    def __call__(self, word: str) -> int:
        if word not in self.ids:
            self.ids[word] = len(self.ids)
        return self.ids[word]

    def __len__(self):
        return len(self.ids)


def parse_babi(paths, vocab: Vocab) -> Parsed:
    """Parse bAbI files the way parseBabiTask.m does (include_question = false).

    A line whose first token is "1" starts a new story. A line holding '?' is a
    question; every other line is a statement. Words are lower-cased and a
    final '.' or '?' is cut off. A question's answer is the token after the
    word that ends in '?' (lower-cased; "n,w" stays one word); the supporting
    fact numbers are not needed. Statement numbering skips the questions, so a
    question sees every statement of its story before it. New words, answers
    included, join the shared vocabulary in the order they are met.
    """
    out = Parsed()
    for path in paths:
        before = len(out.questions)
        with open(path, encoding="utf-8") as fh:
            for line in fh:
                tokens = line.split()
                if not tokens:
                    continue
                if tokens[0] == "1":
                    out.stories.append([])
                story = out.stories[-1]
                is_question = "?" in line
                ids = []
                answer = None
                for k, token in enumerate(tokens[1:], start=1):
                    word = token.lower()
                    if word[-1] in ".?":
                        word = word[:-1]
                    ids.append(vocab(word))
                    if is_question and token[-1] == "?":
                        answer = vocab(tokens[k + 1].lower())
                        break
                out.max_words = max(out.max_words, len(ids))
                if is_question:
                    out.questions.append((len(out.stories) - 1, len(story), answer))
                    out.qwords.append(ids)
                else:
                    story.append(ids)
                    out.max_sentences = max(out.max_sentences, len(story))
        out.file_questions.append(len(out.questions) - before)
    return out


@dataclass
class Examples:
    """Questions as fixed-size arrays.

    mem[i, s, w]: word w of memory slot s of question i; the question's last
    `slots` statements (at most) sit in slots 0..n-1 in story order and the
    rest are all 'nil' (CODE, train.m: memory{1}.data(:) = dict('nil') before
    filling, so an empty slot is an all-nil sentence). count[i] = n.
    """

    mem: np.ndarray      # (Q, slots, J-1) int64
    count: np.ndarray    # (Q,) int64
    query: np.ndarray    # (Q, J-1) int64
    answer: np.ndarray   # (Q,) int64


def build_examples(parsed: Parsed, slots: int, words: int) -> Examples:
    q = len(parsed.questions)
    mem = np.full((q, slots, words), NIL, dtype=np.int64)
    count = np.zeros(q, dtype=np.int64)
    query = np.full((q, words), NIL, dtype=np.int64)
    answer = np.zeros(q, dtype=np.int64)
    for i, ((story, before, ans), qids) in enumerate(zip(parsed.questions, parsed.qwords)):
        # CODE (train.m / test.m): the most recent config.sz statements.
        recent = parsed.stories[story][:before][-slots:]
        for s, sentence in enumerate(recent):
            if len(sentence) > words:
                raise ValueError(f"a sentence of {len(sentence)} words is longer than the {words} the "
                                 "training file allows (the Matlab code would fail here as well)")
            mem[i, s, :len(sentence)] = sentence
        count[i] = len(recent)
        if len(qids) > words:
            raise ValueError(f"a question of {len(qids)} words is longer than the {words} the training file allows")
        query[i, :len(qids)] = qids
        answer[i] = ans
    return Examples(mem, count, query, answer)


def subset(ex: Examples, index) -> Examples:
    return Examples(ex.mem[index], ex.count[index], ex.query[index], ex.answer[index])


def task_file(task: int, split: str, data_dir: Path) -> Path:
    found = sorted(Path(data_dir).glob(f"qa{task}_*_{split}.txt"))
    if not found:
        raise FileNotFoundError(f"no qa{task}_*_{split}.txt in {data_dir}")
    return found[0]


# --------------------------------------------------------------------------
# Model: build_model.m, memory/MemoryL.m
# --------------------------------------------------------------------------

def position_weights(dim: int, words: int) -> np.ndarray:
    """The code's position encoding, shape (words, dim).

    CODE (build_model.m): l[j, k] = 1 + 4 (k - (d+1)/2) (j - (J+1)/2) / (d J)
    for 1-based k (dimension) and j (word position), with J = the training
    file's longest line in words + 1 for the time word. The paper writes
    l_kj = (1 - j/J) - (k/d)(1 - 2j/J) with J the sentence's own length; the
    code uses one J for every sentence and a different formula. Memory
    sentences use all J columns (the time word takes position J); the question
    uses the first J-1.
    """
    k = np.arange(1, dim + 1, dtype=np.float64)[None, :]
    j = np.arange(1, words + 1, dtype=np.float64)[:, None]
    return (1.0 + 4.0 * (k - (dim + 1) / 2) * (j - (words + 1) / 2) / dim / words).astype(np.float32)


class MemN2N:
    """Three hops, adjacent tying: A^1 = B, A^(k+1) = C^k, W^T = C^K.

    CODE (build_model.m): the tying leaves hops + 1 distinct lookup tables,
    E[0] = B = A^1, E[k] = C^k = A^(k+1), E[hops] = C^K = W^T. Time words are
    rows of the same tables (vocabulary ids len(vocab) .. len(vocab)+slots-1),
    so T_A and T_C are tied exactly as A and C are, and the answer softmax
    runs over the whole table: words, 'nil' and the time words.
    """

    def __init__(self, vocab_size: int, dim: int, hops: int, words: int, std: float, rng: np.random.Generator):
        self.hops = hops
        self.tables = [torch.from_numpy((std * rng.standard_normal((vocab_size, dim))).astype(np.float32))
                       .requires_grad_(True) for _ in range(hops + 1)]
        # CODE (Weight.m): the nil rows start random like the rest; they are
        # zeroed after each update (train.m, memory/Memory.m), so only the
        # first batch sees them non-zero.
        self.pe = torch.from_numpy(position_weights(dim, words))  # (J, d)
        self.softmax = True

    def logits(self, mem: torch.Tensor, query: torch.Tensor) -> torch.Tensor:
        """mem (b, slots, J) ids with the time word last; query (b, J-1) ids."""
        pe_q = self.pe[:-1]
        # u^1 = sum_j l_j * B[q_j]  (build_model.m: LookUpTable, ElemMult(weight(:, 1:end-1)), Sum)
        u = (self.tables[0][query] * pe_q).sum(dim=1)
        # each table's encoding of every memory sentence: sum_j l_j * E[x_ij]
        enc = [(table[mem] * self.pe).sum(dim=2) for table in self.tables]  # (b, slots, d)
        for hop in range(self.hops):
            scores = torch.einsum("bsd,bd->bs", enc[hop], u)
            # CODE (train_linear_start.m): the linear start removes the memory
            # softmax; all slots, empty ones included (score 0), take part.
            p = torch.softmax(scores, dim=1) if self.softmax else scores
            o = torch.einsum("bs,bsd->bd", p, enc[hop + 1])
            u = u + o  # Duplicate / AddTable: u^(k+1) = u^k + o^k
        return u @ self.tables[-1].t()  # LinearNB(out_dim, voc_sz, true) sharing C^K

    def step(self, lr: float, max_norm: float):
        """Weight.m's update, once per distinct matrix, then the nil rows zeroed.

        CODE (nn/Weight.m): if norm(grad) > max_grad_norm the gradient is
        scaled to that norm, where Matlab's norm() of a matrix is its largest
        singular value (spectral norm), not the Frobenius norm the paper's
        "L2 norm" suggests. A shared matrix steps once with the sum of its
        uses' gradients (later update() calls find the gradient already
        zeroed). The nil row's own gradient counts in the norm.
        """
        with torch.no_grad():
            for table in self.tables:
                grad = table.grad
                norm = float(torch.linalg.matrix_norm(grad, ord=2))
                if max_norm > 0 and norm > max_norm:
                    grad = grad * (max_norm / norm)
                table -= lr * grad
                table.grad = None
                # CODE (train.m: emb_query.weight.D(:,1) = 0; memory/Memory.m:
                # emb_out.weight.D(:,nil_word) = 0 with nil_word = dict('nil')):
                # every table's nil row, W's included, is zero after each update.
                table[NIL] = 0.0


# --------------------------------------------------------------------------
# Training: train.m, train_linear_start.m, test.m
# --------------------------------------------------------------------------

class Trainer:
    def __init__(self, settings: Settings, vocab_words: int, slots: int, words: int, seed: int):
        self.s = settings
        self.vocab_words = vocab_words  # len(dict): time word t (1..slots) is id vocab_words + t - 1
        self.slots = slots
        self.words = words              # J - 1
        self.rng = np.random.default_rng(seed)
        torch.manual_seed(seed)
        self.model = MemN2N(vocab_words + slots, settings.dim, settings.hops, words + 1, settings.init_std, self.rng)

    def time_words(self, count: np.ndarray, noisy: bool) -> np.ndarray:
        """The time row of each memory: slot s of n holds time word n - s (oldest = n), 'nil' past n.

        CODE (train.m), with noise: nblank = randi([0, ceil(n * 0.1)]) blanks
        are drawn for every story, full memories included; rt = randperm(n +
        nblank) is capped at config.sz (the last time word); its first n
        values, sorted in descending order, are the n ages. The paper's
        description is "adding 10% empty memories".
        """
        out = np.full((len(count), self.slots), NIL, dtype=np.int64)
        for b, n in enumerate(count):
            n = int(n)
            if n == 0:
                continue
            if noisy and self.s.random_time > 0:
                nblank = int(self.rng.integers(0, math.ceil(n * self.s.random_time) + 1))
                rt = self.rng.permutation(n + nblank)[:n] + 1
                ages = np.sort(np.minimum(rt, self.slots))[::-1]
            else:
                ages = np.arange(n, 0, -1)
            out[b, :n] = ages + self.vocab_words - 1
        return out

    def batch_tensors(self, ex: Examples, noisy: bool):
        times = self.time_words(ex.count, noisy)
        mem = np.concatenate([ex.mem, times[:, :, None]], axis=2)  # time word at position J (build_model.m)
        return torch.from_numpy(mem), torch.from_numpy(ex.query), torch.from_numpy(ex.answer)

    def run_phase(self, train: Examples, valid: Examples, epochs: int, lr: float, decay_step: int, label: str):
        """One call of train.m."""
        s = self.s
        n_train = len(train.answer)
        loss_fn = torch.nn.CrossEntropyLoss(reduction="sum")  # CrossEntropyLoss.size_average = false
        for ep in range(1, epochs + 1):
            if ep % decay_step == 0:  # CODE (train.m): halved at the start of epochs step, 2 step, ...
                lr *= 0.5
            wrong = seen = 0
            cost = 0.0
            # CODE (train.m): floor(N / 32) batches an epoch, each of 32
            # questions drawn uniformly WITH replacement (randi), not a shuffle.
            for index in self.epoch_batches(n_train):
                mem, query, answer = self.batch_tensors(subset(train, index), noisy=True)
                logits = self.model.logits(mem, query)
                loss = loss_fn(logits, answer)
                loss.backward()
                self.model.step(lr, s.max_grad_norm)
                cost += float(loss.detach())
                wrong += int((logits.argmax(dim=1) != answer).sum())
                seen += s.batch_size
            self.train_running_error = 100.0 * wrong / max(seen, 1)
            if s.verbose:
                valid_error = self.evaluate(valid)
                print(f"{label} epoch {ep:3d} lr {lr:.6f} | train cost {cost / max(seen, 1):.4f} "
                      f"error {self.train_running_error:.2f} | valid error {valid_error:.2f}", flush=True)

    def epoch_batches(self, n: int):
        """One epoch's batches of question indices, as ``sampling`` says."""
        bs = self.s.batch_size
        if self.s.sampling == "shuffle":  # minigrad's way: every question once, the last batch short
            order = self.rng.permutation(n)
            return [order[start:start + bs] for start in range(0, n, bs)]
        # Drawn as the loop asks, so that each batch's draw and its noise's alternate as in train.m.
        return (self.rng.integers(0, n, size=bs) for _ in range(n // bs))

    def evaluate(self, ex: Examples) -> float:
        """Error (%) without noise; batches taken in order (train.m's validation, test.m)."""
        n = len(ex.answer)
        if n == 0:
            return float("nan")
        bs = self.s.batch_size
        # CODE (train.m, test.m): only floor(N / 32) whole batches are scored,
        # leaving out the last N mod 32 questions (8 of a 1000-question test
        # set, 4 of 100 validation questions). By default all are scored here;
        # --matlab-eval keeps the code's behaviour.
        stop = (n // bs) * bs if self.s.matlab_eval else n
        if stop == 0:
            return float("nan")
        wrong = 0
        with torch.no_grad():
            for start in range(0, stop, bs):
                index = np.arange(start, min(start + bs, stop))
                mem, query, answer = self.batch_tensors(subset(ex, index), noisy=False)
                wrong += int((self.model.logits(mem, query).argmax(dim=1) != answer).sum())
        return 100.0 * wrong / stop

    def fit(self, train: Examples, valid: Examples):
        """run_babi.m: train_linear_start.m when linear_start, else train.m."""
        s = self.s
        if s.linear_start:
            self.model.softmax = False
            self.run_phase(train, valid, s.ls_epochs, s.ls_lr, s.ls_decay_step, "LS")
            self.model.softmax = True
        self.run_phase(train, valid, s.epochs, s.lr, s.decay_step, "SM")


def split_train_valid(n: int, settings: Settings, rng: np.random.Generator):
    """CODE (config_babi.m): the first floor(0.9 N) training questions train and
    the rest (the last 10%, in file order) validate; no early stopping, the
    final model is the one tested. config_babi_joint.m takes the two parts of
    a random permutation instead."""
    cut = int(math.floor((1.0 - settings.valid_fraction) * n))
    order = rng.permutation(n) if settings.random_valid else np.arange(n)
    return order[:cut], order[cut:]


def split_each_task(rows: dict, settings: Settings):
    """minigrad's joint split: the last 10% of each task's questions (``rows``: task -> range), in file order."""
    cuts = [(r.start, r.start + int(math.floor((1.0 - settings.valid_fraction) * len(r))), r.stop)
            for r in rows.values()]
    return (np.concatenate([np.arange(start, cut) for start, cut, _ in cuts]),
            np.concatenate([np.arange(cut, stop) for _, cut, stop in cuts]))


@dataclass
class Setup:
    """What run_babi.m (or run_babi_joint.m) has ready before training starts."""

    vocab: Vocab
    train: Examples   # every training question, in file order
    tests: dict       # task -> its test questions
    rows: dict        # task -> the range of its questions in ``train``
    trainer: Trainer  # the model, untrained, and the run's random generator


def setup(tasks, settings: Settings, seed: int, data_dir: Path | str = DATA_DIR) -> Setup:
    """Parse the tasks' training files, then each test file into the same vocabulary, and build the model."""
    vocab = Vocab()
    train_parsed = parse_babi([task_file(t, "train", data_dir) for t in tasks], vocab)
    test_parsed = {t: parse_babi([task_file(t, "test", data_dir)], vocab) for t in tasks}  # the same dict grows
    # CODE (config_babi.m): config.sz = min(50, size(story, 2)), the most
    # statements of any training story, so short-story tasks get fewer slots
    # (task 1: 10); config.voc_sz = length(dict) + sz with the test words in
    # dict; config.max_words = the training parse's longest line + 1.
    slots = min(settings.memory_cap, train_parsed.max_sentences)
    words = train_parsed.max_words
    ends = np.cumsum(train_parsed.file_questions).tolist()
    rows = {t: range(end - n, end) for t, n, end in zip(tasks, train_parsed.file_questions, ends)}
    return Setup(vocab, build_examples(train_parsed, slots, words),
                 {t: build_examples(p, slots, words) for t, p in test_parsed.items()},
                 rows, Trainer(settings, len(vocab), slots, words, seed))


def train_task(task: int, seed: int, settings: Settings | None = None, data_dir: Path | str = DATA_DIR) -> dict:
    """Train and test one single-task model (run_babi.m with config_babi.m).

    Returns errors in percent: train_error (the code's printed number: the
    running error over the last epoch's training batches, with noise, as the
    weights moved), train_eval_error (the final model on the training part,
    no noise), valid_error and test_error (the final model), and seconds.
    """
    settings = settings or single_settings()
    start = time.perf_counter()
    ready = setup([task], settings, seed, data_dir)
    trainer = ready.trainer
    train_idx, valid_idx = split_train_valid(len(ready.train.answer), settings, trainer.rng)
    train, valid = subset(ready.train, train_idx), subset(ready.train, valid_idx)
    trainer.fit(train, valid)
    return dict(task=task, seed=seed,
                train_error=trainer.train_running_error,
                train_eval_error=trainer.evaluate(train),
                valid_error=trainer.evaluate(valid),
                test_error=trainer.evaluate(ready.tests[task]),
                seconds=time.perf_counter() - start)


def train_joint(seed: int, settings: Settings | None = None, data_dir: Path | str = DATA_DIR) -> dict:
    """One model on all 20 tasks (run_babi_joint.m with config_babi_joint.m).

    Returns train/valid errors over the pooled questions and test_error per
    task (a dict task -> %), with their mean, and seconds.
    """
    settings = settings or joint_settings()
    start = time.perf_counter()
    ready = setup(range(1, 21), settings, seed, data_dir)
    trainer = ready.trainer
    if settings.valid_per_task:
        train_idx, valid_idx = split_each_task(ready.rows, settings)
    else:
        train_idx, valid_idx = split_train_valid(len(ready.train.answer), settings, trainer.rng)
    train, valid = subset(ready.train, train_idx), subset(ready.train, valid_idx)
    trainer.fit(train, valid)
    test_errors = {t: trainer.evaluate(ex) for t, ex in ready.tests.items()}
    return dict(seed=seed, train_error=trainer.train_running_error,
                train_eval_error=trainer.evaluate(train), valid_error=trainer.evaluate(valid),
                train_errors=task_train_errors(trainer, ready, train_idx),
                test_errors=test_errors, test_error=float(np.mean(list(test_errors.values()))),
                seconds=time.perf_counter() - start)


def task_train_errors(trainer, ready: Setup, train_idx) -> dict:
    """The final model's error (%) on each task's training questions (the validation ones left out)."""
    return {t: trainer.evaluate(subset(ready.train, train_idx[(train_idx >= r.start) & (train_idx < r.stop)]))
            for t, r in ready.rows.items()}


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--task", type=int, default=1, help="bAbI task 1-20 (ignored with --joint)")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--joint", action="store_true", help="one model on all 20 tasks (config_babi_joint.m)")
    parser.add_argument("--epochs", type=int, help="epochs after the linear start (default 100; joint 60)")
    parser.add_argument("--ls-epochs", type=int, help="linear-start epochs (default 20; joint 30); 0 turns it off")
    parser.add_argument("--data", type=Path, default=DATA_DIR, help="folder of qaN_*_{train,test}.txt files")
    parser.add_argument("--threads", type=int, default=1, help="torch threads (default 1)")
    parser.add_argument("--matlab-eval", action="store_true",
                        help="score only whole batches of 32, as the Matlab code does")
    parser.add_argument("--verbose", action="store_true", help="one line per epoch")
    parser.add_argument("--sampling", choices=["replacement", "shuffle"], default="replacement",
                        help="batches drawn with replacement (the code) or every question once an epoch (minigrad)")
    parser.add_argument("--valid-per-task", action="store_true",
                        help="joint: validate on the last 10%% of each task (minigrad) instead of a random 10%%")
    args = parser.parse_args(argv)
    torch.set_num_threads(args.threads)

    overrides = dict(matlab_eval=args.matlab_eval, verbose=args.verbose, sampling=args.sampling,
                     valid_per_task=args.valid_per_task)
    if args.epochs is not None:
        overrides["epochs"] = args.epochs
    if args.ls_epochs is not None:
        overrides["ls_epochs"] = args.ls_epochs
        overrides["linear_start"] = args.ls_epochs > 0
    if args.joint:
        r = train_joint(args.seed, joint_settings(**overrides), args.data)
        for t, e in r["test_errors"].items():
            print(f"task {t:2d} test error {e:6.2f}  training error {r['train_errors'][t]:6.2f}")
        failed = sum(e > 5.0 for e in r["test_errors"].values())
        print(f"joint seed {args.seed}: train error {r['train_error']:.2f} (final model {r['train_eval_error']:.2f}) "
              f"| valid error {r['valid_error']:.2f} | mean test error {r['test_error']:.2f}, failed {failed} "
              f"| {r['seconds']:.1f} s")
    else:
        r = train_task(args.task, args.seed, single_settings(**overrides), args.data)
        print(f"task {args.task} seed {args.seed}: train error {r['train_error']:.2f} "
              f"(final model {r['train_eval_error']:.2f}) | valid error {r['valid_error']:.2f} "
              f"| test error {r['test_error']:.2f} | {r['seconds']:.1f} s")
    return 0


if __name__ == "__main__":
    sys.exit(main())
