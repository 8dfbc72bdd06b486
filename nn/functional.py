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
    if isinstance(negative_slope, (int, float)):
        return _nn.leaky_relu(input, negative_slope)  # one fused node (speed)
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
        lookup = _fresh_lookup(input)
        if lookup is not None:
            # why: a linear map of an embedding lookup is the lookup of the linear map of the table, and
            # the table has far fewer rows (a char-level model: 65 rows instead of batch x time positions)
            table, ids = lookup
            return _nn.Affine.apply(table, weight, bias)[ids]
        return _nn.Affine.apply(input, weight, bias)
    out = input.matmul(weight.t() if weight.ndim == 2 else weight)
    if bias is not None:
        out = out + bias
    return out


def _remember_lookup(out, table, ids):
    """Mark out = table[ids] for F.linear, which may then project the table instead of the looked-up rows."""
    out._lookup = (table, ids.copy(), out._vc[0], table._vc[0])
    return out


def _fresh_lookup(input):
    """(table, ids) when input is F.embedding's table[ids], unchanged since, with fewer table rows than lookups.

    Not when the lookup's own gradient is watched (hooks, retain_grad): it would then miss this use.
    """
    src = input.__dict__.get("_lookup")
    if src is None:
        return None
    table, ids, version, table_version = src
    if input._vc[0] != version or table._vc[0] != table_version or 2 * table.shape[0] > ids.size:
        return None
    if input.grad_fn is not None and not input.grad_fn._simple:
        return None
    return table, ids


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
        return ag.where(pad_rows, out.detach(), out)
    return _remember_lookup(out, weight, idx)


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
    mode='reflect' mirrors about the edge element (not repeating it), 'replicate' repeats the edge
    element; both pad the last 1 to 3 dims of an input with one or two more dims (PyTorch's rule),
    and the gradient of each copied element adds up at its source.
    """
    input = _t(input)
    if mode not in ("constant", "reflect", "replicate"):
        raise NotImplementedError(f"pad: mode {mode!r} is not implemented (only 'constant', 'reflect', 'replicate')")
    pad = tuple(int(p) for p in pad)
    if len(pad) % 2 or len(pad) // 2 > input.ndim:
        raise ValueError(f"pad: padding length must be even and at most 2 * ndim = {2 * input.ndim}, "
                         f"got {len(pad)} for an input of shape {input.shape}")
    if mode != "constant":
        k = len(pad) // 2
        if k not in (1, 2, 3) or input.ndim not in (k + 1, k + 2):
            raise ValueError(f"pad: {mode} padding of the last {k} dims needs a {k + 1}-D or {k + 2}-D input, "
                             f"got shape {tuple(input.shape)} with pad {pad}")
        if value not in (None, 0):
            raise ValueError(f"pad: value is only used with mode='constant', got value={value} for mode {mode!r}")
        for i in range(k):
            n = input.shape[input.ndim - 1 - i]
            before, after = pad[2 * i], pad[2 * i + 1]
            if mode == "reflect" and (before >= n or after >= n):
                raise ValueError(f"pad: reflect padding size should be less than the corresponding input dimension, "
                                 f"but got padding ({before}, {after}) at dim {input.ndim - 1 - i} of input shape "
                                 f"{tuple(input.shape)}")
            if n + min(before, 0) + min(after, 0) <= 0 or (mode == "replicate" and n == 0):
                raise ValueError(f"pad: {mode} padding {pad} leaves no elements of input shape {tuple(input.shape)}")
        return _pool.pad_index(input, pad, mode)
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
    if pos_weight is None:
        loss = _nn.binary_cross_entropy_with_logits(input, target)  # one fused node (speed)
    else:
        sp = _softplus_stable(-input) * ((_t(pos_weight) - 1) * target + 1)
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


# ---- pooling and resampling (issue 6) ---------------------------------------------------------

from autograd_core.ops import pool as _pool  # noqa: E402


def _spatial_input(input, what, ranks):
    """input as a float Tensor whose rank is one of ranks (batched or not), else a ValueError naming the op."""
    input = _t(input)
    if input.ndim not in ranks:
        want = " or ".join(f"{r}-D" for r in ranks)
        raise ValueError(f"{what}: expected {want} input, got {input.ndim}-D input of shape {tuple(input.shape)}")
    return input


def _one(v, what, name):
    if isinstance(v, (list, tuple)):
        if len(v) != 1:
            raise ValueError(f"{what}: {name} must be an int or a tuple of 1 int, got {v!r}")
        return int(v[0])
    return int(v)


def max_pool2d(input, kernel_size, stride=None, padding=0, dilation=1, ceil_mode=False, return_indices=False):
    """Max over kernel_size windows of (N, C, H, W) or (C, H, W), padded with -inf.

    return_indices also gives the argmax of each window as a flat index into its (H, W) plane (int64,
    PyTorch's convention); ties pick the first maximum in the window. The gradient goes to the argmax.
    """
    input = _spatial_input(input, "max_pool2d", (3, 4))
    return _pool.max_pool2d(input, kernel_size, stride, padding, dilation, ceil_mode, return_indices)


def max_pool1d(input, kernel_size, stride=None, padding=0, dilation=1, ceil_mode=False, return_indices=False):
    """Max over windows of (N, C, L) or (C, L); indices are positions along L."""
    input = _spatial_input(input, "max_pool1d", (2, 3))
    k = _one(kernel_size, "max_pool1d", "kernel_size")
    s = k if stride is None or stride == [] or stride == () else _one(stride, "max_pool1d", "stride")
    res = _pool.max_pool2d(input.unsqueeze(-2), (1, k), (1, s), (0, _one(padding, "max_pool1d", "padding")),
                           (1, _one(dilation, "max_pool1d", "dilation")), ceil_mode, return_indices, what="max_pool1d")
    if return_indices:
        return res[0].squeeze(-2), res[1].squeeze(-2)
    return res.squeeze(-2)


def avg_pool2d(input, kernel_size, stride=None, padding=0, ceil_mode=False, count_include_pad=True,
               divisor_override=None):
    """Mean over kernel_size windows of (N, C, H, W) or (C, H, W), zero-padded.

    count_include_pad counts the padding in the divisor (PyTorch's default); divisor_override divides
    every window by that number instead.
    """
    input = _spatial_input(input, "avg_pool2d", (3, 4))
    return _pool.avg_pool2d(input, kernel_size, stride, padding, ceil_mode, count_include_pad, divisor_override)


def avg_pool1d(input, kernel_size, stride=None, padding=0, ceil_mode=False, count_include_pad=True):
    """Mean over windows of (N, C, L) or (C, L)."""
    input = _spatial_input(input, "avg_pool1d", (2, 3))
    k = _one(kernel_size, "avg_pool1d", "kernel_size")
    s = k if stride is None or stride == [] or stride == () else _one(stride, "avg_pool1d", "stride")
    return _pool.avg_pool2d(input.unsqueeze(-2), (1, k), (1, s), (0, _one(padding, "avg_pool1d", "padding")),
                            ceil_mode, count_include_pad, None, what="avg_pool1d").squeeze(-2)


def lp_pool2d(input, norm_type, kernel_size, stride=None, ceil_mode=False):
    """(sum of x^p over each window)^(1/p) of (N, C, H, W) or (C, H, W), as PyTorch (via avg_pool2d, no padding)."""
    input = _spatial_input(input, "lp_pool2d", (3, 4))
    kh, kw = _pool._pair(kernel_size, 2, "lp_pool2d", "kernel_size")
    out = _pool.avg_pool2d(input ** norm_type, (kh, kw), stride, 0, ceil_mode, what="lp_pool2d")
    return (ag.sign(out) * relu(ag.abs(out))).mul(kw * kh) ** (1.0 / norm_type)


def _adaptive_size(input, output_size, what):
    """(oh, ow) from an int or a pair whose None entries keep the input's size; each must be >= 1."""
    h, w = input.shape[-2:]
    size = _pool._pair(output_size, 2, what, "output_size") if not (
        isinstance(output_size, (list, tuple)) and None in output_size) else tuple(
        n if o is None else int(o) for n, o in zip((h, w), output_size))
    if any(o <= 0 for o in size):
        raise ValueError(f"{what}: output_size must be positive, got {size} for input of shape {tuple(input.shape)}")
    return size


def adaptive_avg_pool2d(input, output_size):
    """Mean over output_size windows of (N, C, H, W) or (C, H, W), with PyTorch's window bounds.

    Output (i, j) averages rows floor(i H / oh) to ceil((i + 1) H / oh) - 1 (likewise columns).
    """
    input = _spatial_input(input, "adaptive_avg_pool2d", (3, 4))
    return _pool.adaptive_avg_pool2d(input, _adaptive_size(input, output_size, "adaptive_avg_pool2d"))


def adaptive_max_pool2d(input, output_size, return_indices=False):
    """Max over output_size windows of (N, C, H, W) or (C, H, W) (PyTorch's window bounds, as adaptive_avg_pool2d)."""
    input = _spatial_input(input, "adaptive_max_pool2d", (3, 4))
    return _pool.adaptive_max_pool2d(input, _adaptive_size(input, output_size, "adaptive_max_pool2d"),
                                     return_indices)


def interpolate(input, size=None, scale_factor=None, mode="nearest", align_corners=None,
                recompute_scale_factor=None, antialias=False):
    """Resize (N, C, L) / (N, C, H, W) with mode 'nearest' (or 'nearest' on 3-D) or 'bilinear' (4-D).

    Output size is size, or floor(input size * scale_factor). 'nearest' reads source pixel
    floor(dst * in / out) (1 / scale_factor when given, as PyTorch); 'bilinear' maps dst to
    (dst + 0.5) * in / out - 0.5 (align_corners=False, the default) or dst * (in - 1) / (out - 1)
    (align_corners=True).
    """
    what = "interpolate"
    if mode not in ("nearest", "bilinear"):
        raise NotImplementedError(f"{what}: mode {mode!r} is not implemented (only 'nearest' and 'bilinear')")
    if antialias:
        raise NotImplementedError(f"{what}: antialias=True is not implemented")
    input = _spatial_input(input, what, (3, 4) if mode == "nearest" else (4,))
    if mode == "nearest" and align_corners is not None:
        raise ValueError(f"{what}: align_corners option can only be set with the interpolating modes: "
                         f"linear | bilinear | bicubic | trilinear (got mode {mode!r})")
    n = input.ndim - 2
    spatial = tuple(input.shape[-n:])
    if (size is None) == (scale_factor is None):
        raise ValueError(f"{what}: exactly one of size or scale_factor must be given (got size={size!r}, "
                         f"scale_factor={scale_factor!r})")
    if size is not None:
        out = (int(size),) * n if not isinstance(size, (list, tuple)) else tuple(int(v) for v in size)
        if len(out) != n:
            raise ValueError(f"{what}: size {size!r} must have {n} entries for a {input.ndim}-D input")
        factors = (None,) * n
    else:
        factors = ((float(scale_factor),) * n if not isinstance(scale_factor, (list, tuple))
                   else tuple(float(v) for v in scale_factor))
        if len(factors) != n:
            raise ValueError(f"{what}: scale_factor {scale_factor!r} must have {n} entries for a {input.ndim}-D input")
        out = tuple(int(math.floor(a * f)) for a, f in zip(spatial, factors))
        if recompute_scale_factor:
            factors = (None,) * n
    if any(o <= 0 for o in out):
        raise ValueError(f"{what}: output size {out} must be positive (input spatial size {spatial})")
    if mode == "nearest":
        return _pool.resize_nearest(input, out, factors)
    return _pool.resize_bilinear(input, out, bool(align_corners), factors)


def upsample(input, size=None, scale_factor=None, mode="nearest", align_corners=None):
    """Alias of interpolate (deprecated in PyTorch, kept for old scripts)."""
    return interpolate(input, size, scale_factor, mode, align_corners)


# ==== convolutions: conv1d, conv2d, conv_transpose2d (primitives in autograd_core/ops/conv.py) ====
from autograd_core.ops import conv as _conv_ops  # noqa: E402  (this section was appended to the file)


def _conv_tuple(value, n, name, what, minimum):
    """An int or a tuple of n ints (each >= minimum) as a tuple of n ints."""
    if isinstance(value, (int, np.integer)) and not isinstance(value, bool):
        out = (int(value),) * n
    elif (isinstance(value, (tuple, list)) and len(value) in (1, n)
          and all(isinstance(v, (int, np.integer)) and not isinstance(v, bool) for v in value)):
        out = tuple(int(v) for v in value) * (n if len(value) == 1 else 1)
    else:
        raise TypeError(f"{name}: {what} must be an int or a tuple of {n} ints, got {value!r}")
    if any(v < minimum for v in out):
        raise ValueError(f"{name}: {what} must be >= {minimum}, got {value!r}")
    return out


def _conv_inputs(name, input, weight, bias, nd):
    """Check ranks and dtypes; returns (batched input, weight, bias, unbatched?)."""
    input, weight = _float_input(input, name), _t(weight)
    kdims = "kW" if nd == 1 else "kH, kW"
    if weight.ndim != nd + 2:
        raise ValueError(f"{name}: weight must be {nd + 2}-D (out_channels, in_channels/groups, {kdims}), got shape "
                         f"{tuple(weight.shape)}")
    if input.ndim not in (nd + 1, nd + 2):
        raise ValueError(f"{name}: expected {nd + 1}-D (unbatched) or {nd + 2}-D (batched) input, got shape "
                         f"{tuple(input.shape)}")
    if input.dtype != weight.dtype or (bias is not None and _t(bias).dtype != input.dtype):
        raise TypeError(f"{name}: input ({input.dtype}), weight ({weight.dtype})"
                        f"{'' if bias is None else f' and bias ({_t(bias).dtype})'} must have the same dtype")
    unbatched = input.ndim == nd + 1
    if unbatched:
        input = input.reshape((1,) + tuple(input.shape))
    return input, weight, (None if bias is None else _t(bias)), unbatched


def _check_groups(name, groups):
    if not isinstance(groups, (int, np.integer)) or isinstance(groups, bool) or groups < 1:
        raise ValueError(f"{name}: groups must be a positive int, got {groups!r}")
    return int(groups)


def _check_bias(name, bias, channels):
    if bias is not None and tuple(bias.shape) != (channels,):
        raise ValueError(f"{name}: bias must have shape ({channels},), got {tuple(bias.shape)}")


def _convnd(name, nd, input, weight, bias, stride, padding, dilation, groups):
    """conv1d/conv2d: validate, work out the geometry, run the Conv2d primitive (1-D as height 1)."""
    x, w, bias, unbatched = _conv_inputs(name, input, weight, bias, nd)
    groups = _check_groups(name, groups)
    stride = _conv_tuple(stride, nd, name, "stride", 1)
    dilation = _conv_tuple(dilation, nd, name, "dilation", 1)
    N, C = x.shape[:2]
    O, Cg = w.shape[:2]
    kernel = tuple(w.shape[2:])
    if O % groups:
        raise ValueError(f"{name}: groups={groups} does not divide out_channels {O} (weight shape {tuple(w.shape)})")
    if C != Cg * groups:
        raise ValueError(f"{name}: weight of shape {tuple(w.shape)} with groups={groups} expects input with "
                         f"{Cg * groups} channels, got {C} (input shape {tuple(x.shape)})")
    _check_bias(name, bias, O)
    if isinstance(padding, str):
        if padding == "valid":
            lo = hi = (0,) * nd
        elif padding == "same":
            if any(s != 1 for s in stride):
                raise ValueError(f"{name}: padding='same' is not supported for strided convolutions "
                                 f"(stride={stride})")
            total = tuple(d * (k - 1) for d, k in zip(dilation, kernel))
            lo = tuple(t // 2 for t in total)
            hi = tuple(t - t // 2 for t in total)  # why: PyTorch puts the odd extra on the bottom/right
        else:
            raise ValueError(f"{name}: padding must be an int, a tuple, 'same' or 'valid', got {padding!r}")
    else:
        lo = hi = _conv_tuple(padding, nd, name, "padding", 0)
    spatial = tuple(x.shape[2:])
    padded = tuple(n + a + b for n, a, b in zip(spatial, lo, hi))
    span = tuple(d * (k - 1) + 1 for d, k in zip(dilation, kernel))
    if any(k > p for k, p in zip(span, padded)):
        raise ValueError(f"{name}: kernel size {kernel} (dilation {dilation}, spanning {span}) is larger than the "
                         f"padded input {padded} (input shape {tuple(x.shape)}, padding {padding!r})")
    out = tuple((p - k) // s + 1 for p, k, s in zip(padded, span, stride))
    if nd == 1:
        x = x.reshape((N, C, 1, spatial[0]))
        w = w.reshape((O, Cg, 1, kernel[0]))
        spatial, out, kernel = (1,) + spatial, (1,) + out, (1,) + kernel
        stride, dilation, lo = (1,) + stride, (1,) + dilation, (0,) + lo
    geom = _conv_ops._Geom(spatial, out, kernel, stride, dilation, lo, groups)
    y = _conv_ops.Conv2d.apply(x, w, bias, geom)
    if nd == 1:
        y = y.reshape((N, O, out[1]))
    return y.reshape(tuple(y.shape[1:])) if unbatched else y


def conv1d(input, weight, bias=None, stride=1, padding=0, dilation=1, groups=1):
    """1-D convolution (cross-correlation, as PyTorch): input (N, C, L) or (C, L), weight (O, C/groups, k).

    padding: an int, a 1-tuple, 'valid' (none) or 'same' (output length = input length; stride 1 only).
    """
    return _convnd("conv1d", 1, input, weight, bias, stride, padding, dilation, groups)


def conv2d(input, weight, bias=None, stride=1, padding=0, dilation=1, groups=1):
    """2-D convolution (cross-correlation, as PyTorch): input (N, C, H, W) or (C, H, W), weight (O, C/groups, kH, kW).

    Output (N, O, Ho, Wo) with Ho = (H + 2 pad - dilation (kH - 1) - 1) // stride + 1. padding: an int, a pair,
    'valid' (none) or 'same' (output size = input size; stride 1 only; an odd total goes to the bottom/right).
    """
    return _convnd("conv2d", 2, input, weight, bias, stride, padding, dilation, groups)


def conv_transpose2d(input, weight, bias=None, stride=1, padding=0, output_padding=0, groups=1, dilation=1):
    """Transposed 2-D convolution (the gradient of conv2d w.r.t. its input): weight (C_in, C_out/groups, kH, kW).

    Output size H_out = (H - 1) stride - 2 padding + dilation (kH - 1) + output_padding + 1; output_padding
    (< stride or dilation) picks one of the input sizes a strided conv2d maps to H.
    """
    name = "conv_transpose2d"
    x, w, bias, unbatched = _conv_inputs(name, input, weight, bias, 2)
    groups = _check_groups(name, groups)
    stride = _conv_tuple(stride, 2, name, "stride", 1)
    dilation = _conv_tuple(dilation, 2, name, "dilation", 1)
    padding = _conv_tuple(padding, 2, name, "padding", 0)
    output_padding = _conv_tuple(output_padding, 2, name, "output_padding", 0)
    N, C = x.shape[:2]
    if C != w.shape[0]:
        raise ValueError(f"{name}: weight of shape {tuple(w.shape)} expects input with {w.shape[0]} channels, got "
                         f"{C} (input shape {tuple(x.shape)})")
    if C % groups:
        raise ValueError(f"{name}: groups={groups} does not divide the input's {C} channels")
    if any(op >= max(s, d) for op, s, d in zip(output_padding, stride, dilation)):
        raise ValueError(f"{name}: output_padding {output_padding} must be smaller than either stride {stride} or "
                         f"dilation {dilation}")
    kernel = tuple(w.shape[2:])
    C_out = w.shape[1] * groups
    _check_bias(name, bias, C_out)
    spatial = tuple(x.shape[2:])
    out = tuple((n - 1) * s - 2 * p + d * (k - 1) + op + 1
                for n, s, p, d, k, op in zip(spatial, stride, padding, dilation, kernel, output_padding))
    if any(o <= 0 for o in out):
        raise ValueError(f"{name}: the output size {out} would not be positive (input shape {tuple(x.shape)}, kernel "
                         f"{kernel}, stride {stride}, padding {padding}, dilation {dilation}, output_padding "
                         f"{output_padding})")
    geom = _conv_ops._Geom(out, spatial, kernel, stride, dilation, padding, groups)
    y = _conv_ops.ConvTranspose2d.apply(x, w, bias, geom)
    return y.reshape(tuple(y.shape[1:])) if unbatched else y


# ---- attention (issue 8) ------------------------------------------------------------------------

from autograd_core.ops import attention as _attn  # noqa: E402

__all__ += ["scaled_dot_product_attention", "multi_head_attention_forward"]


def _attn_mask_parts(attn_mask, batch, L, S, dtype, what):
    """(additive float mask or None, bool keep mask or None) from attn_mask, checked against (..., L, S)."""
    if attn_mask is None:
        return None, None
    m = _t(attn_mask)
    want = tuple(batch) + (L, S)
    try:
        full = np.broadcast_shapes(tuple(m.shape), want)
    except ValueError:
        full = None
    if full != want:
        raise RuntimeError(f"{what}: attn_mask of shape {tuple(m.shape)} does not broadcast to the attention "
                           f"weights' shape {want} (batch dims {tuple(batch)}, L={L} queries, S={S} keys)")
    if m.dtype == np.bool_:
        return None, m.numpy()
    if m.dtype.kind != "f":
        raise TypeError(f"{what}: attn_mask must be bool (True = may attend) or float (added to the scores), "
                        f"got dtype {m.dtype}")
    return (m if m.dtype == dtype else m.to(dtype)), None


def scaled_dot_product_attention(query, key, value, attn_mask=None, dropout_p=0.0, is_causal=False, scale=None,
                                 enable_gqa=False):
    """softmax(query key^T * scale + mask) value, as one fused primitive (PyTorch's F.scaled_dot_product_attention).

    query (..., L, E), key (..., S, E), value (..., S, Ev) -> (..., L, Ev); batch dims broadcast.
    attn_mask: bool (True = take part in attention) or float (added to the scores), broadcastable to
    (..., L, S). is_causal: query i attends to keys j <= i (top-left aligned); not together with
    attn_mask. scale: defaults to 1/sqrt(E). dropout_p: dropout on the attention probabilities
    (always applied when > 0, as PyTorch's; pass 0.0 in eval). A row whose keys are all masked gives
    zeros (as PyTorch), never NaN.
    """
    what = "scaled_dot_product_attention"
    if enable_gqa:
        raise NotImplementedError(f"{what}: enable_gqa (grouped-query attention) is not supported")
    q, k, v = (_float_input(t, what) for t in (query, key, value))
    if q.ndim < 2 or k.ndim < 2 or v.ndim < 2:
        raise ValueError(f"{what}: query, key and value must be at least 2-D (..., L, E), got shapes "
                         f"{tuple(q.shape)}, {tuple(k.shape)}, {tuple(v.shape)}")
    if q.shape[-1] != k.shape[-1] or k.shape[-2] != v.shape[-2]:
        raise ValueError(f"{what}: query (..., L, E) {tuple(q.shape)}, key (..., S, E) {tuple(k.shape)} and value "
                         f"(..., S, Ev) {tuple(v.shape)} must agree in E (query/key) and S (key/value)")
    if not (q.dtype == k.dtype == v.dtype):
        raise TypeError(f"{what}: query, key and value must share a dtype, got {q.dtype}, {k.dtype}, {v.dtype}")
    if not 0.0 <= dropout_p <= 1.0:
        raise ValueError(f"{what}: dropout_p must be between 0 and 1, got {dropout_p}")
    try:
        batch = np.broadcast_shapes(tuple(q.shape[:-2]), tuple(k.shape[:-2]), tuple(v.shape[:-2]))
    except ValueError:
        raise ValueError(f"{what}: the batch dims of query {tuple(q.shape)}, key {tuple(k.shape)} and value "
                         f"{tuple(v.shape)} do not broadcast") from None
    L, S = q.shape[-2], k.shape[-2]
    if is_causal and attn_mask is not None:
        raise RuntimeError(f"{what}: explicit attn_mask should not be set when is_causal=True")
    mask, keep = _attn_mask_parts(attn_mask, batch, L, S, q.dtype, what)
    if is_causal:
        keep = _attn._causal_keep(L, S)
    drop = None
    if dropout_p > 0:
        shape = tuple(batch) + (L, S)
        u = ag.rand(*shape, dtype=q.dtype).numpy()
        drop = (u >= dropout_p).astype(q.dtype) * np.asarray(1.0 / (1.0 - dropout_p) if dropout_p < 1 else 0.0,
                                                             q.dtype)
    scale = 1.0 / math.sqrt(q.shape[-1]) if scale is None else float(scale)
    return _attn.scaled_dot_product_attention(q, k, v, mask, keep, drop, scale)


def multi_head_attention_forward(query, key, value, embed_dim_to_check, num_heads, in_proj_weight, in_proj_bias,
                                 bias_k, bias_v, add_zero_attn, dropout_p, out_proj_weight, out_proj_bias,
                                 training=True, key_padding_mask=None, need_weights=True, attn_mask=None,
                                 use_separate_proj_weight=False, q_proj_weight=None, k_proj_weight=None,
                                 v_proj_weight=None, static_k=None, static_v=None, average_attn_weights=True,
                                 is_causal=False):
    """PyTorch's F.multi_head_attention_forward on (L, N, E) / unbatched (L, E) inputs: (output, weights or None).

    bias_k/bias_v, add_zero_attn, static_k/static_v are not supported (must be None/False).
    """
    from .transformer import _mha_forward  # why: the layer and this function share one implementation
    if bias_k is not None or bias_v is not None or add_zero_attn or static_k is not None or static_v is not None:
        raise NotImplementedError("multi_head_attention_forward: bias_k, bias_v, add_zero_attn and static_k/v "
                                  "are not supported")
    if use_separate_proj_weight:
        wq, wk, wv = q_proj_weight, k_proj_weight, v_proj_weight
    else:
        wq, wk, wv = in_proj_weight.chunk(3, 0)
    bq = bk = bv = None
    if in_proj_bias is not None:
        bq, bk, bv = in_proj_bias.chunk(3, 0)
    return _mha_forward(query, key, value, num_heads, (wq, wk, wv), (bq, bk, bv), out_proj_weight, out_proj_bias,
                        dropout_p if training else 0.0, key_padding_mask, need_weights, attn_mask,
                        average_attn_weights, is_causal, batch_first=False, embed_dim=embed_dim_to_check,
                        what="multi_head_attention_forward")
