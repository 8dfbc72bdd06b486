"""Adagrad: per-coordinate learning rates from the running sum of squared gradients."""
import numpy as np

from .optimizer import (Optimizer, _SCRATCH, _check_eps, _check_lr, _check_weight_decay, _foreach, _grad, _numel, _with_weight_decay,
                        _state_tensor, _step_value)


class Adagrad(Optimizer):
    r"""Adagrad (Duchi et al.), exactly torch.optim.Adagrad.

    With g = ∇f(w) (−∇f when maximize), λ = weight_decay, t the step (from 1):

        g ← g + λ·w
        η ← lr / (1 + (t − 1)·lr_decay)
        r ← r + g²                      state 'sum', starting at initial_accumulator_value
        w ← w − η·g / (√r + ε)

    The course's AdaGrad (lecture 002) is the same with δ = eps (the slides suggest η = 0.01,
    δ = 1e-8: Adagrad(params, lr=0.01, eps=1e-8)); lecture 004 prints the update without the square
    root, a typo: the root is what makes the step size independent of the gradient's scale.
    """

    def __init__(self, params, lr=1e-2, lr_decay=0, weight_decay=0, initial_accumulator_value=0, eps=1e-10,
                 foreach=None, *, maximize=False):
        _check_lr(lr)
        if not 0.0 <= lr_decay:
            raise ValueError(f"Invalid lr_decay value: {lr_decay}")
        _check_weight_decay(weight_decay)
        if not 0.0 <= initial_accumulator_value:
            raise ValueError(f"Invalid initial_accumulator_value value: {initial_accumulator_value}")
        _check_eps(eps)
        defaults = dict(lr=lr, lr_decay=lr_decay, eps=eps, weight_decay=weight_decay,
                        initial_accumulator_value=initial_accumulator_value, foreach=foreach, maximize=maximize)
        super().__init__(params, defaults)

    def _check_group(self, group):
        _check_lr(group["lr"])
        _check_eps(group["eps"])

    def _init_state(self, p, state, group):
        state["step"] = _state_tensor(np.zeros((), np.float32))
        state["sum"] = _state_tensor(np.full_like(p._data, float(group["initial_accumulator_value"])))

    def _update_group(self, group, items):
        lr, lr_decay, eps = float(group["lr"]), float(group["lr_decay"]), float(group["eps"])
        wd, maximize = float(group["weight_decay"]), group["maximize"]
        clrs = [lr / (1.0 + (_step_value(state) - 1.0) * lr_decay) for _, state in items]

        def update(item_clr):
            (p, state), clr = item_clr
            w = p._data
            g = _grad(p, maximize)
            g = _with_weight_decay(g, w, wd, owned=maximize)
            r = state["sum"]._data
            t = _SCRATCH.get(w)
            np.multiply(g, g, out=t)
            r += t
            np.sqrt(r, out=t)
            t += eps
            np.divide(g, t, out=t)
            t *= -clr
            w += t

        _foreach(update, list(zip(items, clrs)), group["foreach"], _numel(items))
