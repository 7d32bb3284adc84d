"""Optimizers: rules that move parameters against their gradients.

Every update happens in place on ``p.data`` with the array module of that
array (numpy or CuPy), and scalars stay Python floats, so float32 parameters
stay float32. A parameter whose ``.grad`` is None (unused in the last
backward) is left alone.
"""

import math

import numpy as np

from .backend import get_array_module, to_device, to_numpy


class Optimizer:
    """Holds the parameters to update; subclasses implement ``_update``.

    Args:
        parameters: Tensors to optimise (a parameter listed twice is updated once).
    """

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
        """Restore buffers saved by ``state_dict`` onto the same parameter list."""
        self.state = {}
        for name, value in flat.items():
            index, key = name.split(".", 1)
            p = self.parameters[int(index)]
            value = np.asarray(value)
            buffer = int(value) if value.ndim == 0 else to_device(value.astype(p.dtype), p.device)
            self.state.setdefault(id(p), {})[key] = buffer

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


def clip_grad_norm(parameters, max_norm):
    """Scale all gradients together so their joint L2 norm is at most ``max_norm``.

    Args:
        parameters: Tensors whose ``.grad`` to clip (None grads are skipped).
        max_norm: the largest norm allowed.
    Returns:
        The joint norm before clipping, as a float.
    """
    grads = [p.grad.data for p in parameters if p.grad is not None]
    total = math.sqrt(sum(float((g * g).sum()) for g in grads))
    if total > max_norm:
        # The small constant keeps the clipped norm just under max_norm.
        scale = max_norm / (total + 1e-6)
        for g in grads:
            g *= scale
    return total
