"""The registry's records: a ``Case`` names a check and builds its ``Trial``.

A leaf module: the case lists import it, and so does the code that runs them
(``check``) and collects them (``registry``), so none of those import each other.
"""

from dataclasses import dataclass, field
from typing import Callable

import numpy as np


@dataclass
class Trial:
    """One concrete check: a function, its inputs, and optionally more leaves.

    ``fn`` takes the inputs as Tensors. ``reference`` (plain numpy on the input
    arrays) checks the forward values. ``parameters`` are extra float64 leaves
    that ``fn`` reads (a layer's weights), checked like inputs.
    """

    fn: Callable
    inputs: list
    reference: Callable | None = None
    parameters: list = field(default_factory=list)


@dataclass
class Case:
    """A named check in the registry: ``name`` is the public op or layer it
    covers, ``label`` tells the configuration, ``setup(rng)`` builds the Trial."""

    name: str
    label: str
    setup: Callable[[np.random.Generator], Trial]
