"""Fused primitives of the transformer's hot path: scaled dot-product attention, layer norm, GELU.

Each forward works on arrays; each backward is written with operators and `xp.*` calls, so under
create_graph=True (gradients of gradients) it runs on Tensors and is recorded. Intermediates that
a backward needs as *functions* of the inputs (the attention probabilities, the normalised x) are
saved as arrays for the ordinary backward and recomputed from the input Tensors under create_graph.
"""
import math

from ..backend import xp
from ..function import Function
from ..tensor import Tensor  # why: tensor.py does not import this module, so no import cycle
from . import nn_ops
from .elementwise import _erf_array

_NEG = -1e30  # a finite "minus infinity" for the differentiable recomputation (no inf - inf = nan)


def _causal_keep(L, S):
    """(L, S) bool: query i may attend to key j <= i (top-left aligned, as PyTorch's is_causal)."""
    return xp.tril(xp.ones((L, S), dtype=bool))


def _probs_array(q, k, mask, keep, scale):
    """softmax(q k^T scale + mask) over the last axis, masked entries (keep False) 0, fully masked rows 0."""
    s = xp.matmul(q, xp.swapaxes(k, -1, -2))                          # (..., L, S)
    s *= scale
    if mask is not None:
        s = s + mask if s.shape != xp.broadcast_shapes(s.shape, mask.shape) else xp.add(s, mask, out=s)
    if keep is not None:
        if s.shape != xp.broadcast_shapes(s.shape, keep.shape):
            s = xp.broadcast_to(s, xp.broadcast_shapes(s.shape, keep.shape)).copy()
        xp.copyto(s, -xp.inf, where=~keep)
    m = s.max(axis=-1, keepdims=True)
    # why: a row with every key masked has max -inf; shifting by 0 keeps exp at 0 (not nan), and the
    # row's probabilities become 0 (PyTorch's sdpa gives 0 there too), not 0/0
    m[~xp.isfinite(m)] = 0
    s -= m
    with xp.errstate(under="ignore"):
        xp.exp(s, out=s)
    tot = s.sum(axis=-1, keepdims=True)
    tot[tot == 0] = 1
    s /= tot
    return s


def _probs_tensor(q, k, mask, keep, rowvalid, scale):
    """The same probabilities as a recorded function of Tensors q, k (and mask): for create_graph."""
    s = xp.matmul(q, xp.swapaxes(k, -1, -2)) * scale
    allowed = keep
    if mask is not None:
        fin = xp.isfinite(mask.detach().numpy() if isinstance(mask, Tensor) else mask)
        s = s + xp.where(fin, mask, 0)
        allowed = fin if keep is None else keep & fin
    if allowed is not None:
        s = xp.where(allowed, s, _NEG)
    p = nn_ops.softmax(s, s.ndim - 1)
    return p if rowvalid is None else p * rowvalid


class ScaledDotProductAttention(Function):
    """softmax(q k^T * scale + mask) v: q (..., L, E), k (..., S, E), v (..., S, Ev) -> (..., L, Ev).

    why: memory and speed -- one node instead of six (matmul, scale, mask, softmax, dropout, matmul),
    keeping only q, k, v and the probabilities (..., L, S) for backward, not the scores as well.
    mask: an additive float array/Tensor (its gradient is computed) or None; keep: a bool array
    (True = may attend; the boolean mask and is_causal combined) or None; drop: the dropout
    multiplier (0 or 1/(1-p)) on the probabilities, or None.
    """
    formula = ("P = softmax(Q K^T s + M); dP = grad V^T * D; dS = P * (dP - sum(dP * P)); "
               "grad_Q = s dS K; grad_K = s dS^T Q; grad_V = (P * D)^T grad; grad_M = dS")
    _array_forward = True

    @staticmethod
    def forward(ctx, q, k, v, mask, keep, drop, scale):
        p = _probs_array(q, k, mask, keep, scale)
        ctx.scale, ctx.keep, ctx.drop = scale, keep, drop
        ctx.save_for_backward(q, k, v, mask, p)
        pd = p if drop is None else p * drop
        return xp.matmul(pd, v)

    @staticmethod
    def backward(ctx, grad):
        q, k, v, mask, p = ctx.saved_tensors
        need_q, need_k, need_v, need_m = ctx.needs_input_grad[:4]
        scale, drop = ctx.scale, ctx.drop
        if isinstance(q, Tensor):
            # why: under create_graph the probabilities must be a recorded function of q, k (and mask)
            rowvalid = (p.sum(axis=-1, keepdims=True) > 0).astype(p.dtype)
            p = _probs_tensor(q, k, mask, ctx.keep, None if rowvalid.all() else rowvalid, scale)
        grad_q = grad_k = grad_v = grad_m = None
        if need_v:
            pd = p if drop is None else p * drop
            grad_v = xp.matmul(xp.swapaxes(pd, -1, -2), grad)
        if need_q or need_k or need_m:
            dp = xp.matmul(grad, xp.swapaxes(v, -1, -2))              # (..., L, S)
            if drop is not None:
                dp = dp * drop
            ds = p * (dp - (dp * p).sum(axis=-1, keepdims=True))
            if need_m:
                grad_m = ds
            ds = ds * scale
            if need_q:
                grad_q = xp.matmul(ds, k)
            if need_k:
                grad_k = xp.matmul(xp.swapaxes(ds, -1, -2), q)
        return grad_q, grad_k, grad_v, grad_m, None, None, None


def scaled_dot_product_attention(q, k, v, mask=None, keep=None, drop=None, scale=1.0):
    """The fused primitive on Tensors (masks and dropout already resolved by nn.functional)."""
    return ScaledDotProductAttention.apply(q, k, v, mask, keep, drop, scale)


# ---- layer norm over the last dim --------------------------------------------------------------

def _normalise(x, eps):
    """(x - mean) / sqrt(var + eps) over the last axis, and 1/sqrt(var + eps) (keepdims)."""
    mu = x.mean(axis=-1, keepdims=True)
    xc = x - mu
    var = (xc * xc).mean(axis=-1, keepdims=True)
    rstd = 1 / xp.sqrt(var + eps)
    return xc * rstd, rstd


class LayerNormLastDim(Function):
    """(x - mean) / sqrt(var + eps) * weight + bias over the last dim (biased variance, as F.layer_norm).

    why: speed -- one node instead of nine on a path every transformer block takes twice; the
    backward is the closed form grad_x = rstd (g - mean(g) - x̂ mean(g x̂)) with g = grad * weight.
    """
    formula = "g = grad * w; grad_x = rstd * (g - mean(g) - x̂ * mean(g * x̂)); grad_w = sum(grad * x̂); grad_b = sum(grad)"
    _array_forward = True

    @staticmethod
    def forward(ctx, x, weight, bias, eps):
        xhat, rstd = _normalise(x, eps)
        ctx.eps = eps
        ctx.save_for_backward(x, weight, xhat, rstd)
        y = xhat * weight if weight is not None else xhat.copy()
        if bias is not None:
            y += bias
        return y

    @staticmethod
    def backward(ctx, grad):
        x, weight, xhat, rstd = ctx.saved_tensors
        need_x, need_w, need_b = ctx.needs_input_grad[:3]
        if isinstance(x, Tensor):
            xhat, rstd = _normalise(x, ctx.eps)  # recorded: gradients of gradients flow through x̂
        grad_x = grad_w = grad_b = None
        if need_x:
            g = grad * weight if weight is not None else grad
            grad_x = rstd * (g - g.mean(axis=-1, keepdims=True) - xhat * (g * xhat).mean(axis=-1, keepdims=True))
        if need_w:
            grad_w = (grad * xhat).reshape((-1, grad.shape[-1])).sum(axis=0)
        if need_b:
            grad_b = grad.reshape((-1, grad.shape[-1])).sum(axis=0)
        return grad_x, grad_w, grad_b, None


def layer_norm_last_dim(x, weight, bias, eps):
    """Layer norm of Tensor x over its last dim with optional weight and bias of that size."""
    return LayerNormLastDim.apply(x, weight, bias, eps)


# ---- GELU ---------------------------------------------------------------------------------------

_SQRT_2_PI = math.sqrt(2 / math.pi)
_INV_SQRT_2 = 1 / math.sqrt(2)
_INV_SQRT_2PI = 1 / math.sqrt(2 * math.pi)


def _erf(x):
    return x.erf() if isinstance(x, Tensor) else _erf_array(x).astype(x.dtype, copy=False)


class Gelu(Function):
    """x Φ(x); approximate='tanh': x/2 (1 + tanh(√(2/π)(x + 0.044715 x³))) (GPT-2's form).

    why: speed -- one node instead of seven (tanh form) or five (erf form) on every MLP of a transformer.
    """
    formula = ("exact: grad_x = grad (Φ(x) + x φ(x)); tanh: t = tanh(u), "
               "grad_x = grad (½(1 + t) + ½ x (1 - t²) √(2/π)(1 + 3·0.044715 x²))")
    _array_forward = True

    @staticmethod
    def forward(ctx, x, approximate):
        ctx.approximate = approximate
        if approximate == "tanh":
            x2 = x * x
            t = xp.tanh((x2 * 0.044715 + 1) * x * _SQRT_2_PI)
            # why: the derivative is computed here, from the same tanh, and saved (one array, like x):
            # the backward is then a single multiply instead of recomputing the tanh
            d = (1 - t * t) * x * (x2 * (3 * 0.044715 * _SQRT_2_PI) + _SQRT_2_PI)
            t += 1
            d += t
            d *= 0.5
            t *= x
            t *= 0.5
            ctx.save_for_backward(x, d)
            return t
        ctx.save_for_backward(x, None)
        return x * (_erf(x * _INV_SQRT_2) + 1) * 0.5

    @staticmethod
    def backward(ctx, grad):
        x, d = ctx.saved_tensors
        if isinstance(x, Tensor) or d is None:
            # under create_graph (or for the exact form) the derivative is a recorded function of x
            x2 = x * x
            if ctx.approximate == "tanh":
                t = xp.tanh((x + 0.044715 * x2 * x) * _SQRT_2_PI)
                d = (t + 1) * 0.5 + x * 0.5 * (1 - t * t) * (_SQRT_2_PI * (1 + 3 * 0.044715 * x2))
            else:
                d = (_erf(x * _INV_SQRT_2) + 1) * 0.5 + x * xp.exp(x2 * -0.5) * _INV_SQRT_2PI
        return grad * d, None


def gelu(x, approximate="none"):
    """GELU of Tensor x (approximate 'none' or 'tanh')."""
    return Gelu.apply(x, approximate)
