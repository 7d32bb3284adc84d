"""The models a run file can describe, built on the layers of ``minigrad.nn``.

* ``recurrent``: ``LanguageModel`` and ``QuestionAnswerer`` (stacked RNN, LSTM or GRU cells);
* ``memory``: the end-to-end memory network (``memn2n``, ``AdjacentMemN2N``, ``LayerwiseMemN2N``);
* ``qrn``: the query-reduction network (``QRN``);
* ``build``: ``build_model(config, vocab_size)``, the model a run file's ``model`` section describes;
* ``cases``: their gradient checks, and ``all_cases()``, everything ``minigrad gradcheck`` runs.
"""

from .build import build_model
from .memory import AdjacentMemN2N, LayerwiseMemN2N, MemN2N, memn2n, position_encoding
from .qrn import QRN
from .recurrent import LanguageModel, QuestionAnswerer, encode, make_cells
