"""Optimizers: rules that move parameters against their gradients.

Every update happens in place on ``p.data`` with the array module of that
array (numpy or CuPy), and scalars stay Python floats, so float32 parameters
stay float32. A parameter whose ``.grad`` is None (unused in the last
backward) is left alone.
"""

import math

import numpy as np

from .backend import get_array_module, to_device, to_numpy
from .errors import CheckpointError


class Optimizer:
    """Holds the parameters to update; subclasses implement ``_update``.

    Args:
        parameters: Tensors to optimise (a parameter listed twice is updated once).
    """

    # The buffers a subclass keeps per parameter: "array" (shaped like it) or "count" (a whole number).
    buffers = {}

    def __init__(self, parameters):
        unique = {}
        for p in parameters:
            unique.setdefault(id(p), p)
        self.parameters = list(unique.values())
        self.state = {}  # id(parameter) -> that parameter's buffers

    def step(self, zero=True):
        """Update every parameter that has a gradient, then (as in the lesson)
        clear the gradients unless ``zero=False``."""
        for p in self.parameters:
            if p.grad is not None:
                self._update(p, p.grad.data, self.state.setdefault(id(p), {}))
        if zero:
            self.zero()

    def zero(self):
        """Clear every gradient (the lesson's name for ``zero_grad``)."""
        for p in self.parameters:
            p.grad = None

    zero_grad = zero

    def state_dict(self):
        """The optimizer's buffers as {"<parameter index>.<buffer>": array}, for resuming."""
        flat = {}
        for i, p in enumerate(self.parameters):
            for key, value in self.state.get(id(p), {}).items():
                flat[f"{i}.{key}"] = to_numpy(value) if hasattr(value, "shape") else np.asarray(value)
        return flat

    def load_state_dict(self, flat):
        """Restore buffers saved by ``state_dict`` onto the same parameter list.

        Everything is checked before anything changes: buffers saved for other
        parameters raise ``CheckpointError`` and leave the optimizer as it was.
        """
        state = {}
        for name, value in flat.items():
            p, key = self._buffer_owner(name)
            state.setdefault(id(p), {})[key] = self._checked_buffer(name, key, np.asarray(value), p)
        for i, p in enumerate(self.parameters):
            given = set(state.get(id(p), ()))
            if given and given != set(self.buffers):
                raise CheckpointError(f"the optimizer state of parameter {i} has {sorted(given)}, "
                                      f"not all of {sorted(self.buffers)}")
        self.state = state

    def _buffer_owner(self, name):
        """(parameter, buffer name) for a saved name such as ``"3.velocity"``."""
        index, _, key = name.partition(".")
        if not (index.isdecimal() and index.isascii() and int(index) < len(self.parameters)):
            raise CheckpointError(f"the optimizer state {name!r} names no parameter of this model "
                                  f"(it has {len(self.parameters)})")
        if key not in self.buffers:
            raise CheckpointError(f"the optimizer state {name!r} is not a buffer of {type(self).__name__}, "
                                  f"which keeps {', '.join(self.buffers)}")
        return self.parameters[int(index)], key

    def _checked_buffer(self, name, key, value, p):
        """The saved ``value`` as the buffer ``key`` of ``p``, if it fits."""
        if self.buffers[key] == "count":
            if value.shape != () or value.dtype.kind not in "iu" or value < 0:
                raise CheckpointError(f"the optimizer state {name!r} is not a step count")
            return int(value)
        if value.dtype.kind not in "biuf":
            raise CheckpointError(f"the optimizer state {name!r} holds {value.dtype} values, not numbers")
        if value.shape != p.shape:
            raise CheckpointError(f"the optimizer state {name!r} has shape {value.shape}, "
                                  f"but its parameter has shape {p.shape}")
        return to_device(value.astype(p.dtype), p.device)

    def _update(self, p, grad, state):
        raise NotImplementedError


class SGD(Optimizer):
    """Stochastic gradient descent, optionally with momentum and L2 weight decay.

    g = grad + weight_decay * p;  v = momentum * v + g;  p -= lr * v
    (with momentum 0 this is the lesson's ``p -= alpha * grad``).

    Args:
        parameters: Tensors to optimise.
        alpha: the learning rate (the lesson's name).
        lr: another name for ``alpha``; wins when both are given.
        momentum: fraction of the previous step kept in the velocity.
        weight_decay: L2 penalty coefficient added to the gradient.
    """

    def __init__(self, parameters, alpha=0.1, lr=None, momentum=0.0, weight_decay=0.0):
        super().__init__(parameters)
        self.alpha = alpha if lr is None else lr
        self.momentum, self.weight_decay = momentum, weight_decay

    lr = property(lambda self: self.alpha, lambda self, value: setattr(self, "alpha", value))
    buffers = {"velocity": "array"}

    def _update(self, p, grad, state):
        if self.weight_decay:
            grad = grad + self.weight_decay * p.data
        if self.momentum:
            if "velocity" not in state:
                state["velocity"] = get_array_module(grad).zeros_like(p.data)
            velocity = state["velocity"]
            velocity *= self.momentum
            velocity += grad
            grad = velocity
        p.data -= self.alpha * grad


class Adam(Optimizer):
    """Adam: steps scaled by running estimates of the gradient's mean and variance.

    m = b1 m + (1 - b1) g;  v = b2 v + (1 - b2) g^2;
    p -= lr * (m / (1 - b1^t)) / (sqrt(v / (1 - b2^t)) + eps),
    where t counts this parameter's updates and g = grad + weight_decay * p.

    Args:
        parameters: Tensors to optimise.
        lr: the learning rate.
        betas: decay rates (b1, b2) of the two running averages.
        eps: added to the denominator so it is never zero.
        weight_decay: L2 penalty coefficient added to the gradient.
    """

    def __init__(self, parameters, lr=1e-3, betas=(0.9, 0.999), eps=1e-8, weight_decay=0.0):
        super().__init__(parameters)
        self.lr, self.betas, self.eps, self.weight_decay = lr, betas, eps, weight_decay

    buffers = {"t": "count", "m": "array", "v": "array"}

    def _update(self, p, grad, state):
        xp = get_array_module(p.data)
        b1, b2 = self.betas
        if self.weight_decay:
            grad = grad + self.weight_decay * p.data
        if not state:
            state.update(t=0, m=xp.zeros_like(p.data), v=xp.zeros_like(p.data))
        state["t"] += 1
        m, v, t = state["m"], state["v"], state["t"]
        m *= b1
        m += (1 - b1) * grad
        v *= b2
        v += (1 - b2) * (grad * grad)
        denominator = xp.sqrt(v / (1 - b2**t))
        denominator += self.eps
        p.data -= (self.lr / (1 - b1**t)) * m / denominator


class Adagrad(Optimizer):
    """AdaGrad: each weight's steps shrink with the squares of all its gradients so far.

    s = s + g^2;  p -= lr * g / (sqrt(s) + eps),  where g = grad + weight_decay * p
    and s starts at ``initial_accumulator`` (0 in PyTorch, 0.1 in TensorFlow).

    Args:
        parameters: Tensors to optimise.
        lr: the learning rate.
        initial_accumulator: the starting value of every s, which bounds the first steps.
        eps: added to the denominator so it is never zero.
        weight_decay: L2 penalty coefficient added to the gradient.
    """

    def __init__(self, parameters, lr=0.01, initial_accumulator=0.0, eps=1e-10, weight_decay=0.0):
        super().__init__(parameters)
        self.lr, self.initial_accumulator, self.eps = lr, initial_accumulator, eps
        self.weight_decay = weight_decay

    buffers = {"sum": "array"}

    def _update(self, p, grad, state):
        xp = get_array_module(p.data)
        if self.weight_decay:
            grad = grad + self.weight_decay * p.data
        if not state:
            state["sum"] = xp.full_like(p.data, self.initial_accumulator)
        total = state["sum"]
        total += grad * grad
        denominator = xp.sqrt(total)
        denominator += self.eps
        p.data -= self.lr * grad / denominator


def clip_grad_norm(parameters, max_norm, per_parameter=False, norm="l2"):
    """Scale all gradients together so their joint L2 norm is at most ``max_norm``.

    Args:
        parameters: Tensors whose ``.grad`` to clip (None grads are skipped).
        max_norm: the largest norm allowed.
        per_parameter: clip each parameter's gradient to ``max_norm`` on its
            own instead (as the memory-network papers do for each weight
            matrix); see ``clip_each_matrix``.
        norm: with ``per_parameter``, ``l2`` or ``spectral`` (see ``clip_each_matrix``).
    Returns:
        The joint norm before clipping, as a float (the largest single norm
        with ``per_parameter``).
    """
    if per_parameter:
        return clip_each_matrix([[p] for p in parameters], max_norm, norm)
    return _clip_together([p.grad.data for p in parameters if p.grad is not None], max_norm)


def clip_each_matrix(matrices, max_norm, norm="l2"):
    """Clip each weight matrix's gradient to ``max_norm`` on its own; return the largest norm measured.

    ``matrices`` is a list of parameter lists, each list the row blocks of
    one matrix (a model may keep one matrix as several parameters, as the
    memory network keeps its word and age vectors). ``norm`` measures a
    gradient: ``l2`` (Frobenius for a matrix) or ``spectral``, a matrix's
    largest singular value, which is what Matlab's ``norm`` of a matrix gives
    and so what the memory network authors' code clips (never more than l2,
    so a gradient whose l2 norm is within the limit is measured by that alone).
    """
    largest = 0.0
    for blocks in matrices:
        grads = [p.grad.data for p in blocks if p.grad is not None]
        if grads:
            largest = max(largest, _clip_together(grads, max_norm, NORMS[norm]))
    return largest


def _l2(grads):
    return math.sqrt(sum(float((g * g).sum()) for g in grads))


def _spectral(grads):
    """The largest singular value of the row blocks ``grads`` stacked (the L2 norm for vectors).

    It is never more than the Frobenius norm, so ``clip_each_matrix`` measures
    that first and decomposes only a gradient that might need clipping.

    It is the square root of the largest eigenvalue of the stacked matrix's
    Gram matrix, the sum of each block's b.T @ b: (columns x columns), far
    smaller than the matrix when, as for word tables, it is tall and narrow.
    """
    if any(g.ndim != 2 for g in grads):
        return _l2(grads)
    xp = get_array_module(grads[0])
    gram = sum(g.T @ g for g in grads)
    return math.sqrt(max(float(xp.linalg.eigvalsh(gram)[-1]), 0.0))


NORMS = {"l2": _l2, "spectral": _spectral}


def _clip_together(grads, max_norm, measure=_l2):
    """Scale ``grads`` in place so their joint norm is at most ``max_norm``; return the norm before."""
    total = _l2(grads)
    if total > max_norm and measure is not _l2:  # every norm here is at most l2: below it, none clips
        total = measure(grads)
    if total > max_norm:
        # The small constant keeps the clipped norm just under max_norm.
        scale = max_norm / (total + 1e-6)
        for g in grads:
            g *= scale
    return total
