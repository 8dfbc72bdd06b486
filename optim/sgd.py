"""SGD: stochastic gradient descent with momentum, dampening, Nesterov and weight decay."""
import numpy as np

from .optimizer import (Optimizer, _SCRATCH, _check_lr, _check_weight_decay, _foreach, _grad, _numel, _state_tensor,
                        _with_weight_decay)


class SGD(Optimizer):
    r"""Stochastic gradient descent, exactly torch.optim.SGD.

    With g = ∇f(w) (−∇f when maximize) and λ = weight_decay, μ = momentum, τ = dampening:

        g ← g + λ·w
        b ← g                        at the first step (when μ ≠ 0)
        b ← μ·b + (1 − τ)·g          afterwards
        g ← g + μ·b  if nesterov  else  g ← b
        w ← w − lr·g

    The course (lecture 002) writes momentum with the learning rate *inside* the velocity,
    Δw ← −ε·g + α·Δw, w ← w + Δw. With a constant learning rate that is the same trajectory
    (Δw = −lr·b); under a schedule it differs: the course's velocity remembers the old rates.
    Lecture 004's form v ← ρv + g, x ← x − αv is PyTorch's (dampening=0).
    Lecture 004's look-ahead Nesterov, v ← ρv − α∇f(x + ρv), x ← x + v, is the same method written
    at the look-ahead point; PyTorch's look-ahead-free form is the one here (nesterov=True).
    The course's multiplicative decay w ← (1 − ζ)w − ε·g is weight_decay = ζ / lr.

    foreach: None (default) or True updates large sets of tensors on several threads (same
    results as the sequential loop); False keeps one thread.
    """

    def __init__(self, params, lr=1e-3, momentum=0, dampening=0, weight_decay=0, nesterov=False, *,
                 maximize=False, foreach=None):
        _check_lr(lr)
        if momentum < 0.0:
            raise ValueError(f"Invalid momentum value: {momentum}")
        _check_weight_decay(weight_decay)
        defaults = dict(lr=lr, momentum=momentum, dampening=dampening, weight_decay=weight_decay,
                        nesterov=nesterov, maximize=maximize, foreach=foreach)
        if nesterov and (momentum <= 0 or dampening != 0):
            raise ValueError("Nesterov momentum requires a momentum and zero dampening")
        super().__init__(params, defaults)

    def _check_group(self, group):
        _check_lr(group["lr"])
        if group["nesterov"] and (group["momentum"] <= 0 or group["dampening"] != 0):
            raise ValueError("Nesterov momentum requires a momentum and zero dampening")

    def _update_group(self, group, items):
        lr, mu, damp = float(group["lr"]), float(group["momentum"]), float(group["dampening"])
        wd, nesterov, maximize = float(group["weight_decay"]), group["nesterov"], group["maximize"]

        def update(item):
            p, state = item
            w = p._data
            g = _grad(p, maximize)
            owned = maximize  # g is our own copy, free to overwrite
            if wd:
                g = _with_weight_decay(g, w, wd, owned)
                owned = True
            if mu:
                buf = state.get("momentum_buffer")
                if buf is None:
                    state["momentum_buffer"] = _state_tensor(np.array(g, copy=True))
                    b = state["momentum_buffer"]._data
                else:
                    b = buf._data
                    b *= mu
                    if damp:
                        t = np.multiply(g, 1.0 - damp, out=_SCRATCH.get(w))
                        b += t
                    else:
                        b += g
                if nesterov:
                    if not owned:
                        g = np.array(g, copy=True)
                    t = np.multiply(b, mu, out=_SCRATCH.get(w))
                    g += t
                    owned = True
                else:
                    g = b
                    owned = False
            t = np.multiply(g, -lr, out=_SCRATCH.get(w))
            w += t

        _foreach(update, items, group["foreach"], _numel(items))
