"""Adam, AdamW and NAdam: adaptive moment estimation."""
import math

import numpy as np

from .optimizer import (Optimizer, _SCRATCH, _check_betas, _check_eps, _check_lr, _check_weight_decay, _foreach,
                        _grad, _numel, _with_weight_decay, _step_value, _zeros_like, _state_tensor)


class Adam(Optimizer):
    r"""Adam (Kingma & Ba), exactly torch.optim.Adam.

    With g = ∇f(w) (−∇f when maximize), β1, β2 = betas, λ = weight_decay, t the step (from 1):

        g ← g + λ·w                     (w ← (1 − lr·λ)·w instead when decoupled_weight_decay: AdamW)
        m ← β1·m + (1 − β1)·g           state 'exp_avg'
        v ← β2·v + (1 − β2)·g²          state 'exp_avg_sq'
        v̂max ← max(v̂max, v)             state 'max_exp_avg_sq' (amsgrad only; then used for v below)
        w ← w − lr/(1 − β1ᵗ) · m / (√v / √(1 − β2ᵗ) + ε)

    Lecture 004's "not quite Adam" (x ← x − α·v/(cache + ε), with no bias correction and, as printed,
    no square root) is not offered: without the correction the first steps are far too small
    (m and v start at 0), and without the root the step is not scale-free. To see the effect of the
    correction alone, compare the first steps of this Adam with lr·m/(√v + ε).

    foreach: None (default) or True updates large sets of tensors on several threads (same
    results as the sequential loop); False keeps one thread.
    """

    def __init__(self, params, lr=1e-3, betas=(0.9, 0.999), eps=1e-8, weight_decay=0, amsgrad=False, *,
                 foreach=None, maximize=False, decoupled_weight_decay=False):
        _check_lr(lr)
        _check_eps(eps)
        _check_betas(betas)
        _check_weight_decay(weight_decay)
        defaults = dict(lr=lr, betas=tuple(betas), eps=eps, weight_decay=weight_decay, amsgrad=amsgrad,
                        maximize=maximize, foreach=foreach, decoupled_weight_decay=decoupled_weight_decay)
        super().__init__(params, defaults)

    def _check_group(self, group):
        _check_lr(group["lr"])
        _check_eps(group["eps"])
        _check_betas(group["betas"])
        _check_weight_decay(group["weight_decay"])

    def _init_state(self, p, state, group):
        state["step"] = _state_tensor(np.zeros((), np.float32))
        state["exp_avg"] = _zeros_like(p)
        state["exp_avg_sq"] = _zeros_like(p)
        if group["amsgrad"]:
            state["max_exp_avg_sq"] = _zeros_like(p)

    def _update_group(self, group, items):
        lr, eps, wd = float(group["lr"]), float(group["eps"]), float(group["weight_decay"])
        beta1, beta2 = (float(b) for b in group["betas"])
        amsgrad, maximize, decoupled = group["amsgrad"], group["maximize"], group["decoupled_weight_decay"]
        # why: the step count is per parameter (as PyTorch), so the corrections are computed per tensor;
        # they are Python floats, so float32 arrays stay float32
        steps = [_step_value(state) for _, state in items]

        def update(item_step):
            (p, state), step = item_step
            w = p._data
            g = _grad(p, maximize)
            if decoupled:
                w *= 1.0 - lr * wd
            else:
                g = _with_weight_decay(g, w, wd, owned=maximize)
            m, v = state["exp_avg"]._data, state["exp_avg_sq"]._data
            t = _SCRATCH.get(w)
            np.subtract(g, m, out=t)              # m ← m + (1 − β1)(g − m), PyTorch's lerp
            t *= 1.0 - beta1
            m += t
            v *= beta2                            # v ← β2 v + (1 − β2) g²
            np.multiply(g, g, out=t)
            t *= 1.0 - beta2
            v += t
            step_size = lr / (1.0 - beta1 ** step)
            bias_correction2_sqrt = math.sqrt(1.0 - beta2 ** step)
            if amsgrad:
                vmax = state["max_exp_avg_sq"]._data
                np.maximum(vmax, v, out=vmax)
                v = vmax
            # w ← w − step_size · m / (√v / √(1 − β2ᵗ) + ε), computed as
            # w − (step_size · √(1 − β2ᵗ)) · m / (√v + ε · √(1 − β2ᵗ)): the same value, one pass fewer
            np.sqrt(v, out=t)
            t += eps * bias_correction2_sqrt
            np.divide(m, t, out=t)
            t *= -step_size * bias_correction2_sqrt
            w += t

        _foreach(update, list(zip(items, steps)), group["foreach"], _numel(items))


class AdamW(Adam):
    r"""AdamW (Loshchilov & Hutter), exactly torch.optim.AdamW: Adam with decoupled weight decay.

        w ← (1 − lr·λ)·w,  then Adam's update without the λ·w term in the gradient

    (λ = weight_decay, default 1e-2). The course's multiplicative decay w ← (1 − ζ)w is this
    decoupled form with ζ = lr·λ; Adam(weight_decay=λ) instead adds λ·w to the gradient, which the
    adaptive denominator then rescales.
    """

    def __init__(self, params, lr=1e-3, betas=(0.9, 0.999), eps=1e-8, weight_decay=1e-2, amsgrad=False, *,
                 maximize=False, foreach=None):
        super().__init__(params, lr=lr, betas=betas, eps=eps, weight_decay=weight_decay, amsgrad=amsgrad,
                         foreach=foreach, maximize=maximize, decoupled_weight_decay=True)


class NAdam(Optimizer):
    r"""NAdam (Dozat: Adam with Nesterov momentum), exactly torch.optim.NAdam.

    With ψ = momentum_decay and t the step (from 1):

        μₜ = β1·(1 − ½·0.96^(t·ψ)),   μₜ₊₁ = β1·(1 − ½·0.96^((t+1)·ψ)),   Πₜ = μ₁···μₜ ('mu_product')
        g ← g + λ·w                   (w ← (1 − lr·λ)·w instead when decoupled_weight_decay)
        m ← β1·m + (1 − β1)·g,   v ← β2·v + (1 − β2)·g²
        d = √(v / (1 − β2ᵗ)) + ε
        w ← w − lr·(1 − μₜ)/(1 − Πₜ) · g/d − lr·μₜ₊₁/(1 − Πₜ·μₜ₊₁) · m/d

    'mu_product' is kept in float64 (PyTorch keeps it in the default dtype).
    """

    def __init__(self, params, lr=2e-3, betas=(0.9, 0.999), eps=1e-8, weight_decay=0, momentum_decay=4e-3,
                 decoupled_weight_decay=False, *, foreach=None, maximize=False):
        _check_lr(lr)
        _check_eps(eps)
        _check_betas(betas)
        _check_weight_decay(weight_decay)
        if not 0.0 <= momentum_decay:
            raise ValueError(f"Invalid momentum_decay value: {momentum_decay}")
        defaults = dict(lr=lr, betas=tuple(betas), eps=eps, weight_decay=weight_decay, momentum_decay=momentum_decay,
                        decoupled_weight_decay=decoupled_weight_decay, maximize=maximize, foreach=foreach)
        super().__init__(params, defaults)

    def _check_group(self, group):
        _check_lr(group["lr"])
        _check_eps(group["eps"])
        _check_betas(group["betas"])

    def _init_state(self, p, state, group):
        state["step"] = _state_tensor(np.zeros((), np.float32))
        state["mu_product"] = _state_tensor(np.ones((), np.float64))
        state["exp_avg"] = _zeros_like(p)
        state["exp_avg_sq"] = _zeros_like(p)

    def _update_group(self, group, items):
        lr, eps, wd = float(group["lr"]), float(group["eps"]), float(group["weight_decay"])
        beta1, beta2 = (float(b) for b in group["betas"])
        psi, maximize, decoupled = float(group["momentum_decay"]), group["maximize"], group["decoupled_weight_decay"]
        coefs = []
        for _, state in items:
            step = _step_value(state)
            mu = beta1 * (1.0 - 0.5 * 0.96 ** (step * psi))
            mu_next = beta1 * (1.0 - 0.5 * 0.96 ** ((step + 1) * psi))
            mp = state["mu_product"]._data
            mp *= mu
            mu_product = float(mp)
            coefs.append((1.0 - beta2 ** step, -lr * (1.0 - mu) / (1.0 - mu_product),
                          -lr * mu_next / (1.0 - mu_product * mu_next)))

        def update(item_coef):
            (p, state), (bias_correction2, c_grad, c_avg) = item_coef
            w = p._data
            g = _grad(p, maximize)
            if decoupled:
                w *= 1.0 - lr * wd
            else:
                g = _with_weight_decay(g, w, wd, owned=maximize)
            m, v = state["exp_avg"]._data, state["exp_avg_sq"]._data
            t = _SCRATCH.get(w)
            u = _SCRATCH.get(w, 1)
            np.subtract(g, m, out=t)
            t *= 1.0 - beta1
            m += t
            v *= beta2
            np.multiply(g, g, out=t)
            t *= 1.0 - beta2
            v += t
            np.divide(v, bias_correction2, out=t)
            np.sqrt(t, out=t)
            t += eps
            np.divide(g, t, out=u)
            u *= c_grad
            w += u
            np.divide(m, t, out=u)
            u *= c_avg
            w += u

        _foreach(update, list(zip(items, coefs)), group["foreach"], _numel(items))
