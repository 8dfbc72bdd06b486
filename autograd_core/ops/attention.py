"""Fused primitives of the transformer's hot path: scaled dot-product attention, layer norm, GELU.

Each forward works on arrays; each backward is written with operators and `xp.*` calls, so under
create_graph=True (gradients of gradients) it runs on Tensors and is recorded. Intermediates that
a backward needs as *functions* of the inputs (the attention probabilities, the normalised x) are
saved as arrays for the ordinary backward and recomputed from the input Tensors under create_graph.
"""
import functools
import math

from ..backend import xp
from ..function import Function
from ..tensor import Tensor  # why: tensor.py does not import this module, so no import cycle
from . import nn_ops
from .elementwise import _erf_array

_NEG = -1e30  # a finite "minus infinity" for the differentiable recomputation (no inf - inf = nan)


@functools.lru_cache(maxsize=32)
def _causal_keep(L, S):
    """(L, S) bool: query i may attend to key j <= i (top-left aligned, as PyTorch's is_causal); cached, read-only."""
    keep = xp.tril(xp.ones((L, S), dtype=bool))
    keep.flags.writeable = False
    return keep


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


class PackedSelfAttention(Function):
    """Multi-head self-attention on packed projections: qkv (B, T, 3C) -> (B, T, C), heads split inside.

    why: speed -- GPT's c_attn gives q, k and v side by side; splitting, reshaping and transposing
    them as Tensors costs six graph nodes and three zero-filled (B, T, 3C) gradients per layer. Here
    the heads are views of qkv, and the gradient comes back as one (B, T, 3C) array. keep: a bool
    (T, T) mask (True = may attend) or None; drop: dropout multiplier on the probabilities or None.
    """
    formula = ("q, k, v = heads(qkv); P = softmax(q k^T s, keep); dS = P * (dP - sum(dP * P)); "
               "grad_qkv = [s dS k, s dS^T q, (P * D)^T grad] merged back to (B, T, 3C)")
    _array_forward = True

    @staticmethod
    def forward(ctx, qkv, n_head, keep, drop, scale):
        B, T, C3 = qkv.shape
        C = C3 // 3
        heads = qkv.reshape((B, T, 3, n_head, C // n_head)).transpose(2, 0, 3, 1, 4)   # (3, B, nh, T, hs) view
        q, k, v = heads[0], heads[1], heads[2]
        p = _probs_array(q, k, None, keep, scale)
        ctx.n_head, ctx.keep, ctx.drop, ctx.scale = n_head, keep, drop, scale
        ctx.save_for_backward(qkv, p)
        y = xp.matmul(p if drop is None else p * drop, v)                                  # (B, nh, T, hs)
        return y.transpose(0, 2, 1, 3).reshape((B, T, C))

    @staticmethod
    def backward(ctx, grad):
        qkv, p = ctx.saved_tensors
        B, T, C3 = qkv.shape
        C, nh = C3 // 3, ctx.n_head
        hs = C // nh
        drop, scale = ctx.drop, ctx.scale
        if isinstance(qkv, Tensor):
            parts = [xp.swapaxes(xp.reshape(qkv[:, :, i * C:(i + 1) * C], (B, T, nh, hs)), 1, 2) for i in range(3)]
            q, k, v = parts
            rowvalid = (p.sum(axis=-1, keepdims=True) > 0).astype(p.dtype)
            p = _probs_tensor(q, k, None, ctx.keep, None if rowvalid.all() else rowvalid, scale)
        else:
            heads = qkv.reshape((B, T, 3, nh, hs)).transpose(2, 0, 3, 1, 4)
            q, k, v = heads[0], heads[1], heads[2]
        g = xp.swapaxes(xp.reshape(grad, (B, T, nh, hs)), 1, 2)                                # (B, nh, T, hs)
        pd = p if drop is None else p * drop
        grad_v = xp.matmul(xp.swapaxes(pd, -1, -2), g)
        dp = xp.matmul(g, xp.swapaxes(v, -1, -2))
        if drop is not None:
            dp = dp * drop
        if isinstance(dp, Tensor):
            ds = p * (dp - (dp * p).sum(axis=-1, keepdims=True)) * scale
        else:
            # why: the same formula in place on dp (no three extra (B, nh, T, T) temporaries)
            ds = dp
            ds -= xp.einsum("...i,...i->...", dp, p)[..., None]
            ds *= p
            ds *= scale
        grad_q = xp.matmul(ds, k)
        grad_k = xp.matmul(xp.swapaxes(ds, -1, -2), q)
        if isinstance(grad_q, Tensor):
            return xp.concatenate([xp.reshape(xp.swapaxes(t, 1, 2), (B, T, C)) for t in (grad_q, grad_k, grad_v)],
                                  axis=-1), None, None, None, None
        out = xp.empty((B, T, 3, nh, hs), dtype=grad.dtype)
        for i, t in enumerate((grad_q, grad_k, grad_v)):
            out[:, :, i] = t.transpose(0, 2, 1, 3)
        return out.reshape((B, T, C3)), None, None, None, None


def packed_self_attention(qkv, n_head, keep=None, drop=None, scale=None):
    """Self-attention of Tensor qkv (B, T, 3C) with n_head heads -> (B, T, C); scale defaults to 1/sqrt(C/n_head)."""
    C = qkv.shape[-1] // 3
    if scale is None:
        scale = 1.0 / math.sqrt(C // n_head)
    return PackedSelfAttention.apply(qkv, n_head, keep, drop, scale)


# ---- layer norm over the last dim --------------------------------------------------------------

def _normalise(x, eps):
    """(x - mean) / sqrt(var + eps) over the last axis, and 1/sqrt(var + eps) (keepdims)."""
    mu = x.mean(axis=-1, keepdims=True)
    xc = x - mu
    var = (xc * xc).mean(axis=-1, keepdims=True)
    rstd = 1 / xp.sqrt(var + eps)
    return xc * rstd, rstd


def _normalise_array(x, eps):
    """_normalise on an array with one full-size temporary: xc is normalised in place, var via einsum."""
    n = x.shape[-1]
    xc = x - xp.matmul(x, xp.full(n, 1 / n, dtype=x.dtype))[..., None]   # row means as one BLAS gemv
    var = xp.einsum("...i,...i->...", xc, xc)[..., None]
    var /= n
    var += eps
    rstd = xp.sqrt(var, out=var)
    xp.divide(1, rstd, out=rstd)
    xc *= rstd
    return xc, rstd


class LayerNormLastDim(Function):
    """(x - mean) / sqrt(var + eps) * weight + bias over the last dim (biased variance, as F.layer_norm).

    why: speed -- one node instead of nine on a path every transformer block takes twice; the
    backward is the closed form grad_x = rstd (g - mean(g) - x̂ mean(g x̂)) with g = grad * weight.
    """
    formula = ("g = grad * w; grad_x = rstd * (g - mean(g) - x̂ * mean(g * x̂)); "
               "grad_w = sum(grad * x̂); grad_b = sum(grad)")
    _array_forward = True

    @staticmethod
    def forward(ctx, x, weight, bias, eps):
        xhat, rstd = _normalise_array(x, eps)
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
        if need_x and not isinstance(x, Tensor):
            # why: the same formula with two full-size temporaries instead of six (allocations dominate here)
            n = grad.shape[-1]
            g = grad * weight if weight is not None else grad.copy()
            gx = xp.einsum("...i,...i->...", g, xhat)[..., None]
            gx /= n
            gm = xp.matmul(g, xp.full(n, 1 / n, dtype=g.dtype))[..., None]
            t = xhat * gx
            g -= t
            g -= gm
            g *= rstd
            grad_x = g
        elif need_x:
            g = grad * weight if weight is not None else grad
            grad_x = rstd * (g - g.mean(axis=-1, keepdims=True) - xhat * (g * xhat).mean(axis=-1, keepdims=True))
        if need_w:
            if isinstance(grad, Tensor) or isinstance(xhat, Tensor):
                grad_w = (grad * xhat).reshape((-1, grad.shape[-1])).sum(axis=0)
            else:
                grad_w = xp.einsum("ni,ni->i", grad.reshape((-1, grad.shape[-1])), xhat.reshape((-1, grad.shape[-1])))
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
            # why: written in place on three buffers (x², the tanh, the derivative): each fresh
            # (B*T, 4C) temporary costs a page-faulted allocation, which dominated this op
            x0, x = x, x.reshape(-1) if x.ndim == 0 else x   # (0-d math gives NumPy scalars: no in-place)
            x2 = x * x
            t = x2 * 0.044715
            t += 1
            t *= x
            t *= _SQRT_2_PI
            xp.tanh(t, out=t)
            # the derivative, computed here from the same tanh and saved instead of recomputed in backward
            d = t * t
            xp.subtract(1, d, out=d)
            d *= x
            x2 *= 3 * 0.044715 * _SQRT_2_PI
            x2 += _SQRT_2_PI
            d *= x2
            t += 1
            d += t
            d *= 0.5
            t *= x
            t *= 0.5
            ctx.save_for_backward(x0, d.reshape(x0.shape))
            return t.reshape(x0.shape)
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
