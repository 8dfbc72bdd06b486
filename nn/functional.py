"""nn.functional: activations, losses, normalisation and layer functions (PyTorch's torch.nn.functional).

Most functions here are composites of autograd_core's primitives with no backward of their own; the
exceptions (softmax, log_softmax, binary_cross_entropy) call fused primitives of
autograd_core/ops/nn_ops.py for numerical stability and speed. Everything works with
create_graph=True (gradients of gradients).
"""
import math
import warnings

import numpy as np

import autograd_core as ag
from autograd_core import Tensor
from autograd_core.ops import nn_ops as _nn
from autograd_core.ops.reduce import _single_dim

__all__ = [
    "relu", "relu_", "leaky_relu", "elu", "selu", "celu", "gelu", "silu", "mish", "sigmoid", "tanh", "softplus",
    "softsign", "hardtanh", "relu6", "logsigmoid", "softmax", "softmin", "log_softmax", "step",
    "linear", "dropout", "embedding", "one_hot", "pad", "normalize",
    "layer_norm", "batch_norm", "group_norm",
    "mse_loss", "l1_loss", "smooth_l1_loss", "huber_loss", "cross_entropy", "nll_loss", "binary_cross_entropy",
    "binary_cross_entropy_with_logits", "kl_div", "cosine_embedding_loss", "cosine_similarity",
]

_REDUCTIONS = ("mean", "sum", "none")


def _t(x):
    """x as a Tensor (numbers, lists and arrays are wrapped without a gradient)."""
    return x if isinstance(x, Tensor) else ag.as_tensor(x)


def _float_input(x, what):
    x = _t(x)
    if x.dtype.kind not in "fc":
        raise TypeError(f"{what}: expected a floating point input, got dtype {x.dtype} (use .float() first)")
    return x


# ---- activations ------------------------------------------------------------------------------

def relu(input, inplace=False):
    """max(input, 0); the gradient at 0 is 0 (PyTorch's convention). inplace is accepted and ignored."""
    return ag.relu(_t(input))


def relu_(input):
    """relu (returns a new tensor: in-place activations are not recorded here)."""
    return relu(input)


def leaky_relu(input, negative_slope=0.01, inplace=False):
    """input where input > 0, else negative_slope * input (the course's f(a) = max(0.01 a, a))."""
    input = _t(input)
    return ag.where(input > 0, input, input * negative_slope)


def elu(input, alpha=1.0, inplace=False):
    """input where input > 0, else alpha * (exp(input) - 1)."""
    input = _t(input)
    # why: exp of the clamped input, so a large positive input can't overflow in the unused branch
    # (0 * inf = nan in where's backward)
    return ag.where(input > 0, input, ag.expm1(input.clamp(max=0)) * alpha)


_SELU_ALPHA = 1.6732632423543772848170429916717
_SELU_SCALE = 1.0507009873554804934193349852946


def selu(input, inplace=False):
    """scale * elu(input, alpha) with the self-normalising constants (1.0507..., 1.6732...)."""
    return elu(input, _SELU_ALPHA) * _SELU_SCALE


def celu(input, alpha=1.0, inplace=False):
    """input where input > 0, else alpha * (exp(input / alpha) - 1)."""
    if alpha == 0:
        raise ValueError("celu: alpha must not be 0 (it divides the input)")
    input = _t(input)
    return ag.where(input > 0, input, ag.expm1(input.clamp(max=0) / alpha) * alpha)


def gelu(input, approximate="none"):
    """x * Phi(x) with the normal CDF Phi from erf; approximate='tanh' uses the tanh formula."""
    input = _t(input)
    if approximate == "none":
        return input * (ag.erf(input * (1 / math.sqrt(2))) + 1) * 0.5
    if approximate == "tanh":
        inner = (input + input * input * input * 0.044715) * math.sqrt(2 / math.pi)
        return input * (ag.tanh(inner) + 1) * 0.5
    raise ValueError(f"gelu: approximate must be 'none' or 'tanh', got {approximate!r}")


def silu(input, inplace=False):
    """input * sigmoid(input) (Swish)."""
    input = _t(input)
    return input * ag.sigmoid(input)


def _softplus_stable(x):
    """log(1 + exp(x)) for any x: m + log(exp(-m) + exp(x - m)) with m = max(x, 0) held constant.

    why: both exponents are <= 0, so nothing overflows; and since the value does not depend on m,
    treating m as a constant gives the exact derivative sigmoid(x) everywhere, 0 included (the
    usual relu(x) + log1p(exp(-|x|)) has gradient 0 instead of 1/2 at x = 0, where abs has a kink).
    """
    m = ag.Tensor._make(np.maximum(x.detach().numpy(), 0))
    return ag.log(ag.exp(-m) + ag.exp(x - m)) + m


def softplus(input, beta=1.0, threshold=20.0):
    """log(1 + exp(beta * input)) / beta, linear (= input) where beta * input > threshold."""
    input = _t(input)
    bx = input * beta if beta != 1 else input
    sp = _softplus_stable(bx)
    if beta != 1:
        sp = sp / beta
    return ag.where(bx > threshold, input, sp)


def logsigmoid(input):
    """log(sigmoid(input)) = -softplus(-input), stable for large |input|."""
    return -_softplus_stable(-_t(input))


def mish(input, inplace=False):
    """input * tanh(softplus(input))."""
    input = _t(input)
    return input * ag.tanh(_softplus_stable(input))


def sigmoid(input):
    """1 / (1 + exp(-input)) (the course's logistic sigmoid with steepness 1)."""
    return ag.sigmoid(_t(input))


def tanh(input):
    """The hyperbolic tangent. (The course slide's (1 - e^-x) / (1 + e^-x) is tanh(x / 2); this is tanh(x).)"""
    return ag.tanh(_t(input))


def softsign(input):
    """input / (1 + |input|)."""
    input = _t(input)
    return input / (ag.abs(input) + 1)


def hardtanh(input, min_val=-1.0, max_val=1.0, inplace=False):
    """input clipped to [min_val, max_val]; the gradient is 1 strictly inside, 0 outside and at the edges."""
    if min_val > max_val:
        raise ValueError(f"hardtanh: min_val ({min_val}) must not be greater than max_val ({max_val})")
    input = _t(input)
    # why: PyTorch passes the gradient only strictly inside (clamp's own backward includes the edges)
    inside = (input > min_val) & (input < max_val)
    return ag.where(inside, input, input.detach().clamp(min_val, max_val))


def relu6(input, inplace=False):
    """min(max(input, 0), 6)."""
    return hardtanh(input, 0.0, 6.0)


def _softmax_dim(input, dim, what):
    if dim is None:
        # why: PyTorch's legacy implicit choice, with its deprecation warning
        dim = 0 if input.ndim in (0, 1, 3) else 1
        warnings.warn(f"{what}: implicit dimension choice has been deprecated; pass dim explicitly "
                      f"(dim={dim} was used for a {input.ndim}-D input)", UserWarning, stacklevel=3)
    return _single_dim(input, dim, what)


def _cast(input, dtype):
    input = _t(input)
    if dtype is not None:
        input = input.to(dtype)
    elif input.dtype.kind not in "fc":
        input = input.to(ag.get_default_dtype())
    return input


def softmax(input, dim=None, _stacklevel=3, dtype=None):
    """exp(input) / sum(exp(input)) along dim, computed with the max subtracted (no overflow)."""
    input = _cast(input, dtype)
    return _nn.softmax(input, _softmax_dim(input, dim, "softmax") if input.ndim else None)


def softmin(input, dim=None, _stacklevel=3, dtype=None):
    """softmax(-input) along dim."""
    input = _cast(input, dtype)
    return _nn.softmax(-input, _softmax_dim(input, dim, "softmin") if input.ndim else None)


def log_softmax(input, dim=None, _stacklevel=3, dtype=None):
    """input - max - log(sum(exp(input - max))) along dim: log-probabilities that never overflow."""
    input = _cast(input, dtype)
    return _nn.log_softmax(input, _softmax_dim(input, dim, "log_softmax") if input.ndim else None)


def step(input, threshold=0.0, inclusive=True):
    """The course's unit step (Heaviside): 1 where input >= threshold, else 0; forward only (no gradient).

    inclusive=False gives the other slide convention, 1 only where input > threshold. The result has
    the input's dtype and never requires a gradient (the step's derivative is 0 almost everywhere and
    undefined at the threshold, which is why the course moves on to sigmoid units).
    """
    input = _t(input)
    a = input.detach().numpy()
    out = (a >= threshold) if inclusive else (a > threshold)
    dtype = a.dtype if a.dtype.kind in "fc" else ag.get_default_dtype()
    return ag.from_numpy(out.astype(dtype))


# ---- layers as functions ----------------------------------------------------------------------

def linear(input, weight, bias=None):
    """input @ weight.T + bias; weight is (out_features, in_features), as nn.Linear stores it."""
    input, weight = _t(input), _t(weight)
    if weight.ndim not in (1, 2):
        raise ValueError(f"linear: weight must be 1-D or 2-D (out_features, in_features), got shape {weight.shape}")
    in_w = weight.shape[-1]
    if input.ndim == 0 or input.shape[-1] != in_w:
        raise ValueError(f"linear: input of shape {input.shape} has {input.shape[-1] if input.ndim else 0} features "
                         f"in its last dim, but weight of shape {weight.shape} expects {in_w}")
    if weight.ndim == 2 and input.dtype == weight.dtype and (bias is None or bias.shape == weight.shape[:1]):
        return _nn.Affine.apply(input, weight, bias)
    out = input.matmul(weight.t() if weight.ndim == 2 else weight)
    if bias is not None:
        out = out + bias
    return out


def dropout(input, p=0.5, training=True, inplace=False):
    """Zero each element with probability p and scale the rest by 1 / (1 - p) (inverted dropout).

    This follows PyTorch: the course's slides keep units with probability 1/2 during training and
    multiply by 1/2 at test time instead; inverted dropout gives the same expected activations with
    nothing to do at test time. Uses ag's default generator (seed it with ag.manual_seed).
    """
    if not 0.0 <= p <= 1.0:
        raise ValueError(f"dropout: probability has to be between 0 and 1, but got {p}")
    input = _t(input)
    if not training or p == 0.0:
        return input
    if p == 1.0:
        return input * 0.0
    keep = ag.rand(*input.shape, dtype=ag.float64).numpy() >= p
    mask = (keep / (1.0 - p)).astype(input.dtype if input.dtype.kind == "f" else ag.get_default_dtype())
    return input * ag.from_numpy(mask)


def _int_tensor(x, what, argname="input"):
    x = _t(x)
    if x.dtype.kind not in "iu":
        raise TypeError(f"{what}: {argname} must be an integer (int64) tensor of indices, got dtype {x.dtype} "
                        f"(use .long())")
    return x


def embedding(input, weight, padding_idx=None, max_norm=None, norm_type=2.0, scale_grad_by_freq=False,
              sparse=False):
    """Rows of weight (num_embeddings, embedding_dim) at the integer indices input: (*) -> (*, embedding_dim).

    Rows looked up at padding_idx get no gradient. With max_norm, looked-up rows whose norm_type-norm
    exceeds it are rescaled in place first (as PyTorch).
    """
    input, weight = _int_tensor(input, "embedding"), _t(weight)
    if weight.ndim != 2:
        raise ValueError(f"embedding: weight must be 2-D (num_embeddings, embedding_dim), got shape {weight.shape}")
    num = weight.shape[0]
    idx = input.numpy()
    if idx.size and (idx.min() < -num or idx.max() >= num):
        bad = idx.min() if idx.min() < -num else idx.max()
        raise IndexError(f"embedding: index {bad} is out of range for {num} embeddings (valid: 0..{num - 1})")
    if padding_idx is not None:
        if not -num <= padding_idx < num:
            raise ValueError(f"embedding: padding_idx {padding_idx} must be within the {num} embeddings")
        padding_idx = padding_idx % num
    if max_norm is not None:
        rows = np.unique(idx % num if idx.size else idx)
        with ag.no_grad():
            w = weight.detach().numpy()
            norms = np.linalg.norm(w[rows], ord=norm_type, axis=1)
            scale = np.where(norms > max_norm, max_norm / (norms + 1e-7), 1.0).astype(w.dtype)
            w[rows] *= scale[:, None]
    out = weight[idx]
    if padding_idx is not None and (idx % num == padding_idx).any():
        pad_rows = ag.from_numpy((idx % num == padding_idx)[..., None])
        out = ag.where(pad_rows, out.detach(), out)
    return out


def one_hot(tensor, num_classes=-1):
    """(*) integer class indices -> (*, num_classes) int64 with a 1 at each index."""
    tensor = _int_tensor(tensor, "one_hot", "tensor")
    a = tensor.numpy()
    if num_classes == -1:
        if a.size == 0:
            raise RuntimeError("one_hot: cannot infer num_classes from an empty tensor; pass num_classes")
        num_classes = int(a.max()) + 1
    if a.size and a.min() < 0:
        raise RuntimeError(f"one_hot: class values must be non-negative, got {a.min()}")
    if a.size and a.max() >= num_classes:
        raise RuntimeError(f"one_hot: class value {a.max()} is out of range for num_classes={num_classes} "
                           f"(valid: 0..{num_classes - 1})")
    return ag.from_numpy((a[..., None] == np.arange(num_classes)).astype(np.int64))


def pad(input, pad, mode="constant", value=None):
    """Pad (or, with negative sizes, crop) the last dims: pad = (left, right, top, bottom, ...), last dim first.

    mode='constant' fills with value (0 by default); the gradient flows to the kept input elements.
    """
    input = _t(input)
    if mode != "constant":
        raise NotImplementedError(f"pad: mode {mode!r} is not implemented yet (only 'constant')")
    pad = tuple(int(p) for p in pad)
    if len(pad) % 2 or len(pad) // 2 > input.ndim:
        raise ValueError(f"pad: padding length must be even and at most 2 * ndim = {2 * input.ndim}, "
                         f"got {len(pad)} for an input of shape {input.shape}")
    fill = 0 if value is None else value
    out = input
    for i in range(len(pad) // 2):
        d = input.ndim - 1 - i
        before, after = pad[2 * i], pad[2 * i + 1]
        size = out.shape[d]
        if before < 0 or after < 0:
            start, stop = max(-before, 0), size - max(-after, 0)
            if stop < start:
                raise ValueError(f"pad: cropping {pad[2 * i:2 * i + 2]} removes more than the {size} elements "
                                 f"of dim {d}")
            out = out.narrow(d, start, stop - start)
            before, after = max(before, 0), max(after, 0)
        parts = []
        for n in (before, after):
            shape = list(out.shape)
            shape[d] = n
            parts.append(ag.full(tuple(shape), fill, dtype=out.dtype) if n else None)
        pieces = [p for p in (parts[0], out, parts[1]) if p is not None]
        if len(pieces) > 1:
            out = ag.cat(pieces, dim=d)
    return out


def normalize(input, p=2.0, dim=1, eps=1e-12, out=None):
    """input / max(||input||_p along dim, eps)."""
    input = _float_input(input, "normalize")
    return input / ag.norm(input, p, dim=dim, keepdim=True).clamp(min=eps)


def cosine_similarity(x1, x2, dim=1, eps=1e-8):
    """sum(x1 * x2) / max(||x1|| * ||x2||, eps) along dim."""
    x1, x2 = _t(x1), _t(x2)
    n1 = ag.norm(x1, 2, dim=dim)
    n2 = ag.norm(x2, 2, dim=dim)
    return (x1 * x2).sum(dim) / (n1 * n2).clamp(min=eps)


# ---- normalisation ----------------------------------------------------------------------------

def _normalized_dims(input, normalized_shape, what):
    if isinstance(normalized_shape, int):
        normalized_shape = (normalized_shape,)
    normalized_shape = tuple(int(s) for s in normalized_shape)
    k = len(normalized_shape)
    if k == 0 or input.ndim < k or tuple(input.shape[input.ndim - k:]) != normalized_shape:
        raise ValueError(f"{what}: normalized_shape {list(normalized_shape)} must match the last dims of the "
                         f"input, got input of shape {input.shape}")
    return normalized_shape, tuple(range(input.ndim - k, input.ndim))


def layer_norm(input, normalized_shape, weight=None, bias=None, eps=1e-5):
    """(x - mean) / sqrt(var + eps) * weight + bias over the last len(normalized_shape) dims (biased var)."""
    input = _float_input(input, "layer_norm")
    normalized_shape, axes = _normalized_dims(input, normalized_shape, "layer_norm")
    d = input - input.mean(dim=axes, keepdim=True)
    out = d * ag.rsqrt((d * d).mean(dim=axes, keepdim=True) + eps)
    for name, p in (("weight", weight), ("bias", bias)):
        if p is not None and tuple(p.shape) != normalized_shape:
            raise ValueError(f"layer_norm: {name} of shape {tuple(p.shape)} must have normalized_shape "
                             f"{normalized_shape}")
    if weight is not None:
        out = out * weight
    if bias is not None:
        out = out + bias
    return out


def _channel_param(p, c, ndim, name, what):
    if p is None:
        return None
    p = _t(p)
    if tuple(p.shape) != (c,):
        raise ValueError(f"{what}: {name} must have shape ({c},) for an input with {c} channels, got {tuple(p.shape)}")
    return p.reshape((1, c) + (1,) * (ndim - 2))


def batch_norm(input, running_mean, running_var, weight=None, bias=None, training=False, momentum=0.1, eps=1e-5):
    """Normalise each channel (dim 1) of (N, C) or (N, C, *) input; running stats are updated in place.

    Training: batch mean and biased variance normalise; running_mean/running_var (when given) move by
    momentum towards the batch mean and the *unbiased* batch variance, as PyTorch. Otherwise the running
    statistics normalise. The course's slide normalises with population statistics and no eps; PyTorch's
    eps (1e-5) inside the square root is used here (set eps=0 for the slide's formula).
    """
    input = _float_input(input, "batch_norm")
    if input.ndim < 2:
        raise ValueError(f"batch_norm: expected an input of shape (N, C) or (N, C, *), got shape {input.shape}")
    c = input.shape[1]
    axes = (0,) + tuple(range(2, input.ndim))
    kept = (1, c) + (1,) * (input.ndim - 2)
    for name, s in (("running_mean", running_mean), ("running_var", running_var)):
        if s is not None and tuple(s.shape) != (c,):
            raise ValueError(f"batch_norm: {name} must have shape ({c},) for an input with {c} channels, "
                             f"got {tuple(s.shape)}")
    if training:
        n = input.numel() // max(c, 1)
        if n <= 1:
            raise ValueError(f"batch_norm: expected more than 1 value per channel when training, got input of "
                             f"shape {input.shape}")
        mean = input.mean(dim=axes, keepdim=True)
        d = input - mean
        var = (d * d).mean(dim=axes, keepdim=True)
        with ag.no_grad():
            if running_mean is not None:
                running_mean.mul_(1 - momentum).add_(mean.detach().reshape(c).to(running_mean.dtype) * momentum)
            if running_var is not None:
                unbiased = var.detach().reshape(c) * (n / (n - 1))
                running_var.mul_(1 - momentum).add_(unbiased.to(running_var.dtype) * momentum)
    else:
        if running_mean is None or running_var is None:
            raise ValueError("batch_norm: running_mean and running_var are required when training=False")
        d = input - running_mean.reshape(kept)
        var = running_var.reshape(kept)
    out = d * ag.rsqrt(var + eps)
    w = _channel_param(weight, c, input.ndim, "weight", "batch_norm")
    b = _channel_param(bias, c, input.ndim, "bias", "batch_norm")
    if w is not None:
        out = out * w
    if b is not None:
        out = out + b
    return out


def group_norm(input, num_groups, weight=None, bias=None, eps=1e-5):
    """Normalise (N, C, *) input over each group of C / num_groups channels (and all positions) per sample."""
    input = _float_input(input, "group_norm")
    if input.ndim < 2:
        raise ValueError(f"group_norm: expected an input of shape (N, C, *), got shape {input.shape}")
    n, c = input.shape[0], input.shape[1]
    if num_groups <= 0 or c % num_groups:
        raise ValueError(f"group_norm: num_channels ({c}) must be divisible by num_groups ({num_groups})")
    x = input.reshape(n, num_groups, -1)
    d = x - x.mean(dim=-1, keepdim=True)
    out = (d * ag.rsqrt((d * d).mean(dim=-1, keepdim=True) + eps)).reshape(input.shape)
    w = _channel_param(weight, c, input.ndim, "weight", "group_norm")
    b = _channel_param(bias, c, input.ndim, "bias", "group_norm")
    if w is not None:
        out = out * w
    if b is not None:
        out = out + b
    return out


# ---- losses -----------------------------------------------------------------------------------

def _check_reduction(reduction, what):
    if reduction not in _REDUCTIONS:
        raise ValueError(f"{what}: reduction must be 'mean', 'sum' or 'none', got {reduction!r}")


def _reduce(loss, reduction):
    if reduction == "mean":
        return loss.mean()
    if reduction == "sum":
        return loss.sum()
    return loss


def _same_shape(input, target, what):
    input, target = _t(input), _t(target)
    if tuple(input.shape) != tuple(target.shape):
        raise ValueError(f"{what}: target shape {tuple(target.shape)} differs from input shape {tuple(input.shape)}; "
                         f"broadcasting them would silently compare every pair (use target.view_as(input) "
                         f"if the sizes agree)")
    return input, target


def mse_loss(input, target, size_average=None, reduce=None, reduction="mean", weight=None):
    """(input - target)^2, averaged (or summed). PyTorch's form: no 1/2 (the course's slides use 1/2 (y - d)^2)."""
    _check_reduction(reduction, "mse_loss")
    input, target = _same_shape(input, target, "mse_loss")
    d = input - target
    loss = d * d
    if weight is not None:
        loss = loss * weight
    return _reduce(loss, reduction)


def l1_loss(input, target, size_average=None, reduce=None, reduction="mean"):
    """|input - target| (mean absolute error by default)."""
    _check_reduction(reduction, "l1_loss")
    input, target = _same_shape(input, target, "l1_loss")
    return _reduce(ag.abs(input - target), reduction)


def smooth_l1_loss(input, target, size_average=None, reduce=None, reduction="mean", beta=1.0):
    """0.5 d^2 / beta where |d| < beta, else |d| - 0.5 beta (d = input - target; beta=0 is l1_loss)."""
    _check_reduction(reduction, "smooth_l1_loss")
    if beta < 0:
        raise ValueError(f"smooth_l1_loss: beta must be non-negative, got {beta}")
    input, target = _same_shape(input, target, "smooth_l1_loss")
    ad = ag.abs(input - target)
    if beta == 0:
        return _reduce(ad, reduction)
    loss = ag.where(ad < beta, ad * ad * (0.5 / beta), ad - 0.5 * beta)
    return _reduce(loss, reduction)


def huber_loss(input, target, reduction="mean", delta=1.0, weight=None):
    """0.5 d^2 where |d| < delta, else delta (|d| - 0.5 delta) (d = input - target)."""
    _check_reduction(reduction, "huber_loss")
    if delta <= 0:
        raise ValueError(f"huber_loss: delta must be positive, got {delta}")
    input, target = _same_shape(input, target, "huber_loss")
    ad = ag.abs(input - target)
    loss = ag.where(ad < delta, ad * ad * 0.5, (ad - 0.5 * delta) * delta)
    if weight is not None:
        loss = loss * weight
    return _reduce(loss, reduction)


def _class_weight(weight, c, what):
    if weight is None:
        return None
    weight = _t(weight)
    if tuple(weight.shape) != (c,):
        raise ValueError(f"{what}: weight must have one entry per class, shape ({c},), got {tuple(weight.shape)}")
    return weight


def _class_target(input, target, ignore_index, what):
    """Check class-index targets against input (C,), (N, C) or (N, C, d1, ...); return the valid mask."""
    expected = () if input.ndim == 1 else (input.shape[0],) + tuple(input.shape[2:])
    if tuple(target.shape) != expected:
        raise ValueError(f"{what}: class-index target of shape {tuple(target.shape)} does not fit input of shape "
                         f"{tuple(input.shape)}; expected target shape {expected} (or probabilities of the "
                         f"input's shape)")
    c = input.shape[0 if input.ndim == 1 else 1]
    t = target.numpy()
    valid = t != ignore_index
    bad = valid & ((t < 0) | (t >= c))
    if bad.any():
        raise IndexError(f"{what}: target {int(t[bad].flat[0])} is out of bounds for {c} classes "
                         f"(valid class indices are 0..{c - 1}, or ignore_index={ignore_index})")
    return t, valid, c


def _nll(logp, target, weight, ignore_index, reduction, what):
    """-weight[t] * logp[t] per sample, for checked class-index targets; mean divides by the weights' sum."""
    t, valid, c = _class_target(logp, target, ignore_index, what)
    weight = _class_weight(weight, c, what)
    safe = np.where(valid, t, 0).astype(np.int64)
    class_dim = 0 if logp.ndim == 1 else 1
    picked = logp.gather(class_dim, ag.from_numpy(np.expand_dims(safe, class_dim))).squeeze(class_dim)
    all_valid = bool(valid.all())
    mask = None if all_valid else ag.from_numpy(valid.astype(logp.dtype))
    if weight is None:
        w = mask
    else:
        w = weight[ag.from_numpy(safe)]
        if mask is not None:
            w = w * mask
    loss = picked if w is None else picked * w
    if reduction == "none":
        return -loss
    if reduction == "sum":
        return -loss.sum()
    if w is None:
        return -loss.mean()
    # why: PyTorch's weighted mean: divided by the summed weights of the non-ignored targets (nan if none)
    return -loss.sum() / w.sum()


def nll_loss(input, target, weight=None, size_average=None, ignore_index=-100, reduce=None, reduction="mean"):
    """Negative log-likelihood of class indices target under log-probabilities input (C,), (N, C) or (N, C, *)."""
    _check_reduction(reduction, "nll_loss")
    input = _float_input(input, "nll_loss")
    if input.ndim == 0:
        raise ValueError("nll_loss: input must have a class dim, shape (C,), (N, C) or (N, C, d1, ...), "
                         "got a 0-d tensor")
    target = _int_tensor(target, "nll_loss", "target")
    return _nll(input, target, weight, ignore_index, reduction, "nll_loss")


def cross_entropy(input, target, weight=None, size_average=None, ignore_index=-100, reduce=None, reduction="mean",
                  label_smoothing=0.0):
    """Softmax cross-entropy of logits input (C,), (N, C) or (N, C, d1, ...) against a target that is either

    - class indices (int64) of shape (), (N,) or (N, d1, ...), with weight (C,), ignore_index and
      label_smoothing (the target becomes (1 - ls) one_hot + ls / C), or
    - class probabilities of the input's shape (float), e.g. one-hot rows: the course's
      -1/p sum_k sum_i d_ki log y_i with reduction='mean'.

    Computed as log_softmax (max subtracted) then picked, so logits of any size give finite values and
    gradients. The gradient with respect to the logits is (softmax - target) / N for the mean.
    """
    _check_reduction(reduction, "cross_entropy")
    if not 0.0 <= label_smoothing <= 1.0:
        raise ValueError(f"cross_entropy: label_smoothing must be between 0.0 and 1.0, got {label_smoothing}")
    input, target = _float_input(input, "cross_entropy"), _t(target)
    if input.ndim == 0:
        raise ValueError("cross_entropy: input must have a class dim, shape (C,), (N, C) or (N, C, d1, ...), "
                         "got a 0-d tensor")
    class_dim = 0 if input.ndim == 1 else 1
    c = input.shape[class_dim]
    logp = _nn.log_softmax(input, class_dim)
    if target.dtype.kind in "fc":
        if tuple(target.shape) != tuple(input.shape):
            raise TypeError(f"cross_entropy: a float target is read as class probabilities and must have the "
                            f"input's shape {tuple(input.shape)}, got {tuple(target.shape)}; class indices must be "
                            f"an integer (int64) tensor (use target.long())")
        weight = _class_weight(weight, c, "cross_entropy")
        if label_smoothing > 0:
            target = target * (1 - label_smoothing) + label_smoothing / c
        prod = logp * target
        if weight is not None:
            prod = prod * weight.reshape((c,) + (1,) * (input.ndim - 1 - class_dim))
        per = -prod.sum(class_dim)
        # why: PyTorch's mean over samples (N * d1 * ...), whatever the weights
        return _reduce(per, reduction)
    if target.dtype.kind not in "iu":
        raise TypeError(f"cross_entropy: target must be class indices (int64) or probabilities (float), got dtype "
                        f"{target.dtype}")
    nll = _nll(logp, target, weight, ignore_index, reduction, "cross_entropy")
    if label_smoothing == 0:
        return nll
    # why: PyTorch's smoothing term, each sample's -sum_c w_c logp_c, normalised as its nll term is
    t, valid, _ = _class_target(logp, target, ignore_index, "cross_entropy")
    weight = _class_weight(weight, c, "cross_entropy")
    prod = logp if weight is None else logp * weight.reshape((c,) + (1,) * (input.ndim - 1 - class_dim))
    smooth = -prod.sum(class_dim)
    if not valid.all():
        smooth = smooth * ag.from_numpy(valid.astype(smooth.dtype))
    if reduction == "none":
        ret = smooth
    elif reduction == "sum":
        ret = smooth.sum()
    elif weight is None:
        ret = smooth.sum() / int(valid.sum())
    else:
        ret = smooth.sum() / weight[ag.from_numpy(t[valid].astype(np.int64))].sum()
    return nll * (1 - label_smoothing) + ret * (label_smoothing / c)


def binary_cross_entropy(input, target, weight=None, size_average=None, reduce=None, reduction="mean"):
    """-(t log(p) + (1 - t) log(1 - p)) for probabilities p = input in [0, 1]; each log is clamped at -100.

    The clamp (as PyTorch) keeps p = 0 or 1 finite; its gradient is (p - t) / max(p (1 - p), 1e-12).
    The course's binary cross-entropy is reduction='sum' (no 1/p); PyTorch's default is the mean.
    """
    _check_reduction(reduction, "binary_cross_entropy")
    input, target = _same_shape(_float_input(input, "binary_cross_entropy"), target, "binary_cross_entropy")
    a = input.detach().numpy()
    if a.size and not ((a >= 0) & (a <= 1)).all():
        bad = a[~((a >= 0) & (a <= 1))].flat[0]
        raise ValueError(f"binary_cross_entropy: all elements of input should be between 0 and 1 (probabilities; "
                         f"use binary_cross_entropy_with_logits for logits), got {bad}")
    if target.dtype != input.dtype:
        target = target.to(input.dtype)
    loss = _nn.binary_cross_entropy(input, target)
    if weight is not None:
        loss = loss * weight
    return _reduce(loss, reduction)


def binary_cross_entropy_with_logits(input, target, weight=None, size_average=None, reduce=None, reduction="mean",
                                     pos_weight=None):
    """binary_cross_entropy(sigmoid(input), target) computed stably from logits.

    loss = (1 - t) x + (1 + (pos_weight - 1) t) softplus(-x), softplus evaluated without overflow
    (the course's max(x, 0) - x t + log(1 + e^-|x|) when pos_weight is None).
    pos_weight (C,) weighs the positive term per class (broadcast along the last dim).
    """
    _check_reduction(reduction, "binary_cross_entropy_with_logits")
    input, target = _same_shape(_float_input(input, "binary_cross_entropy_with_logits"), target,
                                "binary_cross_entropy_with_logits")
    if target.dtype != input.dtype:
        target = target.to(input.dtype)
    sp = _softplus_stable(-input)
    if pos_weight is not None:
        sp = sp * ((_t(pos_weight) - 1) * target + 1)
    loss = (1 - target) * input + sp
    if weight is not None:
        loss = loss * weight
    return _reduce(loss, reduction)


def kl_div(input, target, size_average=None, reduce=None, reduction="mean", log_target=False):
    """KL(target || exp(input)) pointwise: target (log(target) - input), with input log-probabilities.

    log_target=True reads target as log-probabilities too. reduction='batchmean' divides the sum by the
    batch size (the mathematical KL divergence); 'mean' divides by the number of elements (PyTorch's
    default, kept for compatibility).
    """
    if reduction not in _REDUCTIONS + ("batchmean",):
        raise ValueError(f"kl_div: reduction must be 'mean', 'batchmean', 'sum' or 'none', got {reduction!r}")
    input, target = _same_shape(_float_input(input, "kl_div"), target, "kl_div")
    if log_target:
        loss = ag.exp(target) * (target - input)
    else:
        # why: xlogy: a zero target contributes 0 (not 0 * log 0 = nan)
        pos = target > 0
        loss = target * (ag.log(ag.where(pos, target, 1.0)) - input)
    if reduction == "batchmean":
        return loss.sum() / (input.shape[0] if input.ndim else 1)
    return _reduce(loss, reduction)


def cosine_embedding_loss(input1, input2, target, margin=0.0, size_average=None, reduce=None, reduction="mean"):
    """1 - cos(x1, x2) where target == 1, max(0, cos(x1, x2) - margin) where target == -1 (rows of (N, D) or (D,))."""
    _check_reduction(reduction, "cosine_embedding_loss")
    input1, input2, target = _t(input1), _t(input2), _t(target)
    if tuple(input1.shape) != tuple(input2.shape) or input1.ndim not in (1, 2):
        raise ValueError(f"cosine_embedding_loss: inputs must both be (N, D) or (D,), got {tuple(input1.shape)} and "
                         f"{tuple(input2.shape)}")
    dim = input1.ndim - 1
    expected = () if input1.ndim == 1 else (input1.shape[0],)
    if tuple(target.shape) != expected:
        raise ValueError(f"cosine_embedding_loss: target must have shape {expected}, got {tuple(target.shape)}")
    t = target.numpy()
    if not np.isin(t, (1, -1)).all():
        raise ValueError("cosine_embedding_loss: target values must be 1 or -1")
    eps = 1e-12
    prod = (input1 * input2).sum(dim)
    mag = ((input1 * input1).sum(dim) + eps) * ((input2 * input2).sum(dim) + eps)
    cos = prod * ag.rsqrt(mag)
    pos = ag.from_numpy(t == 1)
    loss = ag.where(pos, 1 - cos, (cos - margin).clamp(min=0))
    return _reduce(loss, reduction)
