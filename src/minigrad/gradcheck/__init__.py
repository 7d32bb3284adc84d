"""Gradient checks: backprop against finite differences, and the registry of cases.

* ``check``: ``gradcheck(fn, inputs)`` for any function, ``check_case`` for a registry case;
* ``case``: the ``Case`` and ``Trial`` records every case list builds;
* ``registry``: ``all_cases()``, the framework's cases, collected from the
  ``*_cases`` modules (ops, memory-network ops, layers, recurrent layers, lesson).
"""

from .case import Case, Trial
from .check import (ATOL, FULL_CHECK_LIMIT, RANDOM_DIRECTIONS, RTOL, CaseResult, GradcheckError, GradcheckResult,
                    case_ops, check_case, check_leaves, gradcheck, graph_ops)
from .registry import all_cases
