"""Adadelta: step sizes from running averages of squared gradients and squared updates."""
import numpy as np

from .optimizer import (Optimizer, _SCRATCH, _check_eps, _check_lr, _check_weight_decay, _foreach, _grad, _numel, _with_weight_decay,
                        _state_tensor, _step_value, _zeros_like)


class Adadelta(Optimizer):
    r"""Adadelta (Zeiler 2012), exactly torch.optim.Adadelta.

    With g = ∇f(w) (−∇f when maximize), λ = weight_decay, ρ = rho:

        g ← g + λ·w
        v ← ρ·v + (1 − ρ)·g²                     state 'square_avg'
        Δ ← √(u + ε) / √(v + ε) · g
        u ← ρ·u + (1 − ρ)·Δ²                     state 'acc_delta'
        w ← w − lr·Δ

    The course names AdaDelta without a formula; lr = 1.0 gives Zeiler's original method.
    """

    def __init__(self, params, lr=1.0, rho=0.9, eps=1e-6, weight_decay=0, foreach=None, *, maximize=False):
        _check_lr(lr)
        if not 0.0 <= rho <= 1.0:
            raise ValueError(f"Invalid rho value: {rho}")
        _check_eps(eps)
        _check_weight_decay(weight_decay)
        defaults = dict(lr=lr, rho=rho, eps=eps, weight_decay=weight_decay, foreach=foreach, maximize=maximize)
        super().__init__(params, defaults)

    def _check_group(self, group):
        _check_lr(group["lr"])
        _check_eps(group["eps"])

    def _init_state(self, p, state, group):
        state["step"] = _state_tensor(np.zeros((), np.float32))
        state["square_avg"] = _zeros_like(p)
        state["acc_delta"] = _zeros_like(p)

    def _update_group(self, group, items):
        lr, rho, eps = float(group["lr"]), float(group["rho"]), float(group["eps"])
        wd, maximize = float(group["weight_decay"]), group["maximize"]
        for _, state in items:
            _step_value(state)

        def update(item):
            p, state = item
            w = p._data
            g = _grad(p, maximize)
            g = _with_weight_decay(g, w, wd, owned=maximize)
            v, u = state["square_avg"]._data, state["acc_delta"]._data
            t = _SCRATCH.get(w)
            d = _SCRATCH.get(w, 1)
            v *= rho
            np.multiply(g, g, out=t)
            t *= 1.0 - rho
            v += t
            np.add(v, eps, out=t)
            np.sqrt(t, out=t)                    # std
            np.add(u, eps, out=d)
            np.sqrt(d, out=d)
            d /= t
            d *= g                               # delta
            u *= rho
            np.multiply(d, d, out=t)
            t *= 1.0 - rho
            u += t
            d *= -lr
            w += d

        _foreach(update, items, group["foreach"], _numel(items))
