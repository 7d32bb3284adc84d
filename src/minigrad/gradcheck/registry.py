"""The framework's registry of gradient checks: one ``Case`` per op and layer configuration.

The pytest suite and ``minigrad gradcheck`` both run this list; the models add
theirs on top (``minigrad.models.cases.all_cases``). The case lists import
only ``case.py``, never this module, so collecting them makes no circle.
"""

from . import layer_cases, lesson_cases, memory_op_cases, op_cases, recurrent_cases
from .case import Case


def all_cases() -> list[Case]:
    """Every case of the framework: the ops', the layers', then minigrad.lesson's."""
    return (list(op_cases.CASES) + list(memory_op_cases.CASES) + list(layer_cases.CASES)
            + list(recurrent_cases.CASES) + list(lesson_cases.CASES))
