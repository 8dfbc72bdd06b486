"""RMSprop: gradients divided by a running root-mean-square of their recent magnitudes."""
import numpy as np

from .optimizer import (Optimizer, _SCRATCH, _check_eps, _check_lr, _check_weight_decay, _foreach, _grad, _numel, _with_weight_decay,
                        _state_tensor, _step_value, _zeros_like)


class RMSprop(Optimizer):
    r"""RMSprop (Hinton), exactly torch.optim.RMSprop.

    With g = ∇f(w) (−∇f when maximize), λ = weight_decay, α = alpha, μ = momentum:

        g ← g + λ·w
        v ← α·v + (1 − α)·g²                     state 'square_avg'
        ḡ ← α·ḡ + (1 − α)·g                      state 'grad_avg' (centered only)
        d ← √(v − ḡ²) + ε  if centered  else  √v + ε
        b ← μ·b + g/d,  w ← w − lr·b              state 'momentum_buffer' (μ > 0)
        w ← w − lr·g/d                            (μ = 0)

    The course (lecture 002, after Hinton) uses ρ = 0.9 and η = 0.001, where PyTorch defaults to
    alpha = 0.99 and lr = 0.01: for the course's form say RMSprop(params, lr=1e-3, alpha=0.9).
    Lecture 004 prints the update without the square root, a typo. The course's "RMSProp with
    momentum" (the WSI model: ρ = 0.9, momentum 0.9, lr 5e-5) is RMSprop(params, lr=5e-5, alpha=0.9,
    momentum=0.9).
    """

    def __init__(self, params, lr=1e-2, alpha=0.99, eps=1e-8, weight_decay=0, momentum=0, centered=False,
                 foreach=None, maximize=False):
        _check_lr(lr)
        _check_eps(eps)
        if not 0.0 <= momentum:
            raise ValueError(f"Invalid momentum value: {momentum}")
        _check_weight_decay(weight_decay)
        if not 0.0 <= alpha:
            raise ValueError(f"Invalid alpha value: {alpha}")
        defaults = dict(lr=lr, momentum=momentum, alpha=alpha, eps=eps, centered=centered,
                        weight_decay=weight_decay, foreach=foreach, maximize=maximize)
        super().__init__(params, defaults)

    def _check_group(self, group):
        _check_lr(group["lr"])
        _check_eps(group["eps"])

    def _init_state(self, p, state, group):
        state["step"] = _state_tensor(np.zeros((), np.float32))
        state["square_avg"] = _zeros_like(p)
        if group["momentum"] > 0:
            state["momentum_buffer"] = _zeros_like(p)
        if group["centered"]:
            state["grad_avg"] = _zeros_like(p)

    def _update_group(self, group, items):
        lr, alpha, eps, mu = float(group["lr"]), float(group["alpha"]), float(group["eps"]), float(group["momentum"])
        wd, centered, maximize = float(group["weight_decay"]), group["centered"], group["maximize"]
        for _, state in items:
            _step_value(state)

        def update(item):
            p, state = item
            w = p._data
            g = _grad(p, maximize)
            g = _with_weight_decay(g, w, wd, owned=maximize)
            v = state["square_avg"]._data
            t = _SCRATCH.get(w)
            v *= alpha
            np.multiply(g, g, out=t)
            t *= 1.0 - alpha
            v += t
            if centered:
                ga = state["grad_avg"]._data
                np.subtract(g, ga, out=t)        # PyTorch's lerp
                t *= 1.0 - alpha
                ga += t
                np.multiply(ga, ga, out=t)
                np.subtract(v, t, out=t)
                np.sqrt(t, out=t)
            else:
                np.sqrt(v, out=t)
            t += eps
            np.divide(g, t, out=t)
            if mu > 0:
                b = state["momentum_buffer"]._data
                b *= mu
                b += t
                np.multiply(b, -lr, out=t)
            else:
                t *= -lr
            w += t

        _foreach(update, items, group["foreach"], _numel(items))
