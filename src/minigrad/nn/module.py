"""Module: the base of every layer (the lesson's ``Layer``).

A module finds its parameters and sub-modules by looking at its own
attributes, so a layer never keeps a hand-written parameter list: assign a
``Parameter`` or a ``Module`` (or a list of them) to ``self.something`` and it
is found, and named ``something`` in ``state_dict()``.
"""

import numpy as np

from ..backend import to_device
from ..errors import CheckpointError
from ..tensor import Tensor


class Parameter(Tensor):
    """A Tensor that a module learns: it always requires a gradient."""

    __slots__ = ()

    def __init__(self, data, dtype=None):
        super().__init__(data, requires_grad=True, dtype=dtype)


class Module:
    """Base class of layers and losses.

    Subclasses implement ``forward``; calling the module (``model(x)``) calls it.
    """

    training = True

    def forward(self, *args, **kwargs):
        raise NotImplementedError

    def __call__(self, *args, **kwargs):
        return self.forward(*args, **kwargs)

    # ---- finding parameters ---------------------------------------------------
    def named_children(self):
        """(name, module) for each direct sub-module, lists flattened as ``name.i``."""
        for name, value in vars(self).items():
            if isinstance(value, Module):
                yield name, value
            elif isinstance(value, (list, tuple)):
                for i, item in enumerate(value):
                    if isinstance(item, Module):
                        yield f"{name}.{i}", item

    def named_parameters(self, prefix=""):
        """(dotted name, Parameter) for every parameter, this module's first."""
        seen = set()
        for name, value in vars(self).items():
            if isinstance(value, Parameter) and id(value) not in seen:
                seen.add(id(value))
                yield prefix + name, value
        for child_name, child in self.named_children():
            for name, param in child.named_parameters(f"{prefix}{child_name}."):
                if id(param) not in seen:
                    seen.add(id(param))
                    yield name, param

    def parameters(self):
        """Every parameter of this module and its sub-modules, as a list."""
        return [p for _, p in self.named_parameters()]

    def weight_matrices(self):
        """The parameters grouped by weight matrix, each group the row blocks of one matrix.

        Every parameter is a matrix of its own unless a module keeps one
        matrix as several parameters and says so here (gradient clipping per
        matrix measures a group as one).
        """
        return [[p] for p in self.parameters()]

    def after_step(self):
        """Called by training after every optimizer step. A model that holds some
        weights at fixed values (the memory network's nil rows) restores them here."""

    def get_parameters(self):
        """The lesson's name for ``parameters()``."""
        return self.parameters()

    def zero_grad(self):
        for p in self.parameters():
            p.grad = None

    # ---- modes -------------------------------------------------------------------
    def train(self, mode=True):
        """Switch this module and its sub-modules to training (or evaluation) mode."""
        self.training = mode
        for _, child in self.named_children():
            child.train(mode)
        return self

    def eval(self):
        return self.train(False)

    # ---- saving --------------------------------------------------------------------
    def state_dict(self):
        """{dotted name: numpy array} of every parameter (copies)."""
        return {name: np.array(p.numpy()) for name, p in self.named_parameters()}

    def load_state_dict(self, state):
        """Copy arrays into the parameters, checking names and shapes first."""
        params = dict(self.named_parameters())
        missing = sorted(set(params) - set(state))
        unexpected = sorted(set(state) - set(params))
        if missing or unexpected:
            raise CheckpointError(
                f"weights do not match the model: missing {missing or 'none'}, unexpected {unexpected or 'none'}.",
                hint="Load weights saved from a model built with the same configuration.",
            )
        for name, param in params.items():
            value = np.asarray(state[name])
            if value.shape != param.shape:
                raise CheckpointError(
                    f"weight {name!r} has shape {value.shape}, but the model expects {param.shape}.",
                    hint="Load weights saved from a model built with the same configuration.",
                )
        for name, param in params.items():
            param.data = to_device(np.array(state[name], dtype=param.dtype), param.device)
        return self

    def to(self, device):
        """Move every parameter to ``device`` ("cpu" or "cuda") in place."""
        for p in self.parameters():
            p.data = to_device(p.data, device)
            p.grad = None
        return self
