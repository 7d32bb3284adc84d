"""Vocabulary: the mapping between words and the integer ids a model sees."""

import difflib
import json
from pathlib import Path

from ..errors import CheckpointError, VocabularyError
from ..serialization import write_text_atomic

PAD, UNK = "<pad>", "<unk>"
PAD_ID, UNK_ID = 0, 1
_FORMAT = "minigrad-vocabulary"
_LISTED_WHOLE = 40  # an unknown word's message lists a vocabulary of at most this many words
_DAMAGED_HINT = "Restore it from a copy, or train the run again."


class Vocabulary:
    """Words numbered ``<pad>`` = 0, ``<unk>`` = 1, then the known words in sorted order.

    Sorting makes the ids depend only on the set of words, so the same
    training data always gives the same numbering.
    """

    def __init__(self, words=()):
        self._set_words([PAD, UNK] + sorted(set(words) - {PAD, UNK}))

    def _set_words(self, words):
        self.words = list(words)
        self.index = {word: i for i, word in enumerate(self.words)}

    @classmethod
    def build(cls, token_lists):
        """A vocabulary of every token in an iterable of token sequences."""
        return cls(word for tokens in token_lists for word in tokens)

    def __len__(self):
        return len(self.words)

    def __contains__(self, word):
        return word in self.index

    def __eq__(self, other):
        return isinstance(other, Vocabulary) and self.words == other.words

    def __repr__(self):
        return f"Vocabulary({len(self)} words)"

    # ---- words <-> ids ---------------------------------------------------------------
    def encode(self, tokens, unknown="unk"):
        """The ids of ``tokens``.

        Args:
            tokens: a sequence of words.
            unknown: ``"unk"`` maps words not in the vocabulary to ``<unk>`` (1);
                ``"error"`` raises ``VocabularyError`` naming the closest known words.
        """
        if unknown not in ("unk", "error"):
            raise ValueError(f"unknown must be 'unk' or 'error', not {unknown!r}")
        ids = [self.index.get(word, UNK_ID) for word in tokens]
        if unknown == "error":
            for word, i in zip(tokens, ids):
                if i == UNK_ID and word != UNK:
                    raise self._unknown_word(word)
        return ids

    def decode(self, ids, skip_pad=True):
        """The words of ``ids`` (any iterable of ints), leaving out ``<pad>`` unless ``skip_pad=False``."""
        return [self.words[int(i)] for i in ids if not (skip_pad and int(i) == PAD_ID)]

    def closest(self, word, n=3, cutoff=0.6):
        """Up to ``n`` known words that look most like ``word`` (``cutoff``: how alike, 0 to 1)."""
        return difflib.get_close_matches(word, self.words[2:], n=n, cutoff=cutoff)

    def _unknown_word(self, word):
        close = self.closest(word)
        if close:  # most likely a typo
            return VocabularyError(f"unknown word {word!r}", f"Did you mean {', '.join(map(repr, close))}?")
        # Another word for something the data says its own way ('walked' for 'went'): spelling alone
        # rarely finds it, so a small vocabulary is listed whole.
        nearest = self.closest(word, cutoff=0.4)
        known = self.words[2:]
        listed = f": {', '.join(known)}" if len(known) <= _LISTED_WHOLE else " (all of them: the run's vocab.json)"
        hint = (f"Nearest known words: {', '.join(map(repr, nearest))}. " if nearest else "") + \
            f"The model knows {len(known)} words, learned from its training data{listed}."
        return VocabularyError(f"unknown word {word!r}: the model never saw it in training", hint)

    # ---- files ---------------------------------------------------------------------
    def save(self, path):
        """Write the vocabulary as JSON to ``path``."""
        data = {"format": _FORMAT, "words": self.words}
        write_text_atomic(path, json.dumps(data, indent=1) + "\n")

    @classmethod
    def load(cls, path):
        """Read a vocabulary written by ``save``; problems raise ``CheckpointError``."""
        try:
            data = json.loads(Path(path).read_text(encoding="utf-8"))
        except FileNotFoundError:
            raise CheckpointError(f"vocabulary file not found: {path}") from None
        except (OSError, ValueError, RecursionError) as e:  # ValueError: bad UTF-8 or JSON
            raise CheckpointError(f"cannot read vocabulary file {path}: {e}", _DAMAGED_HINT) from None
        if not _is_vocabulary_data(data):
            raise CheckpointError(f"{path} is not a minigrad vocabulary file",
                                  f"It may be corrupt, or written by another program. {_DAMAGED_HINT}")
        vocab = cls.__new__(cls)
        vocab._set_words(data["words"])  # keep the saved numbering exactly
        return vocab


def _is_vocabulary_data(data):
    """Saved data names our format and lists each word once, the two special words first."""
    if not isinstance(data, dict) or data.get("format") != _FORMAT:
        return False
    words = data.get("words")
    return (isinstance(words, list) and words[:2] == [PAD, UNK]
            and all(isinstance(w, str) for w in words) and len(set(words)) == len(words))
