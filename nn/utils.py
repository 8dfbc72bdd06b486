"""Gradient clipping and flattening parameters to one vector (PyTorch's torch.nn.utils)."""
import math

import numpy as np

import autograd_core as ag


def _params(parameters):
    return [parameters] if isinstance(parameters, ag.Tensor) else list(parameters)


def clip_grad_norm_(parameters, max_norm, norm_type=2.0, error_if_nonfinite=False, foreach=None):
    """Scale all gradients together, in place, so their total norm is at most max_norm; returns the total norm.

    The total norm is the norm of all gradients seen as one vector (norm_type: a float, or inf for
    the max-norm), returned as a 0-d tensor of the gradients' dtype, measured before clipping.
    """
    grads = [p.grad for p in _params(parameters) if p.grad is not None]
    norm_type = float(norm_type)
    if not grads:
        return ag.tensor(0.0)
    arrays = [g.detach().numpy() for g in grads]
    if math.isinf(norm_type):
        total = max(float(np.abs(a).max()) if a.size else 0.0 for a in arrays)
    elif norm_type == 2.0:
        # why: a dot product per gradient (BLAS, no float64 copy) -- the common case, every training step
        total = math.sqrt(sum(float(np.dot(a.ravel(), a.ravel())) for a in arrays))
    else:
        norms = np.array([np.linalg.norm(a.ravel().astype(np.float64), ord=norm_type) for a in arrays])
        total = float(np.linalg.norm(norms, ord=norm_type))
    if error_if_nonfinite and not math.isfinite(total):
        raise RuntimeError(f"clip_grad_norm_: the total norm of order {norm_type} for gradients from "
                           f"`parameters` is non-finite ({total}), so it cannot be clipped. To disable this "
                           f"error and scale the gradients by the non-finite norm anyway, set "
                           f"`error_if_nonfinite=False`")
    clip_coef = float(max_norm) / (total + 1e-6)
    if clip_coef < 1.0:
        with ag.no_grad():
            for g in grads:
                g.mul_(clip_coef)
    return ag.tensor(total, dtype=grads[0].dtype)


def clip_grad_value_(parameters, clip_value, foreach=None):
    """Clamp every gradient, in place, to [-clip_value, clip_value]."""
    clip_value = float(clip_value)
    with ag.no_grad():
        for p in _params(parameters):
            if p.grad is not None:
                p.grad.clamp_(-clip_value, clip_value)


def parameters_to_vector(parameters):
    """All parameters flattened and concatenated into one 1-D tensor (differentiable)."""
    params = _params(parameters)
    if not params:
        raise ValueError("parameters_to_vector: got no parameters")
    return ag.cat([p.reshape(-1) for p in params])


def vector_to_parameters(vec, parameters):
    """Copy consecutive slices of the 1-D tensor vec into the parameters, in place (the inverse of above)."""
    if not isinstance(vec, ag.Tensor):
        raise TypeError(f"vector_to_parameters: expected vec to be a Tensor, but got: {type(vec).__name__}")
    params = _params(parameters)
    total = sum(p.numel() for p in params)
    if vec.ndim != 1 or vec.numel() != total:
        raise ValueError(f"vector_to_parameters: vec has shape {tuple(vec.shape)}, expected ({total},) "
                         f"(the total number of parameter elements)")
    pointer = 0
    with ag.no_grad():
        for p in params:
            n = p.numel()
            p.copy_(vec.detach()[pointer:pointer + n].reshape(p.shape))
            pointer += n
