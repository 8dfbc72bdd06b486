"""Attention and transformer layers: MultiheadAttention, encoder/decoder layers, Transformer, positional encodings.

Parameter names, shapes, defaults and call signatures follow PyTorch (so state_dicts map one to one);
the attention itself is the fused primitive of autograd_core/ops/attention.py.
"""
import copy
import math

import numpy as np

import autograd_core as ag
from autograd_core.ops import attention as _attn

from . import functional as F
from . import init
from .containers import ModuleList
from .dropout import Dropout
from .linear import Linear
from .module import Module, Parameter
from .normalization import LayerNorm

__all__ = ["MultiheadAttention", "TransformerEncoderLayer", "TransformerDecoderLayer", "TransformerEncoder",
           "TransformerDecoder", "Transformer", "SinusoidalPositionalEncoding", "LearnedPositionalEncoding",
           "sinusoidal_positional_encoding"]


# ---- multi-head attention --------------------------------------------------------------------------

def _mask_array(m, what, name):
    """A mask as (additive float Tensor, None) or (None, bool 'blocked' array); None stays (None, None)."""
    if m is None:
        return None, None
    m = m if isinstance(m, ag.Tensor) else ag.as_tensor(m)
    if m.dtype == np.bool_:
        return None, m.numpy()
    if m.dtype.kind != "f":
        raise TypeError(f"{what}: {name} must be bool (True = not allowed to attend) or float (added to the "
                        f"scores), got dtype {m.dtype}")
    return m, None


def _merge_masks(attn_mask, key_padding_mask, N, H, L, S, dtype, is_causal, what):
    """PyTorch's MHA masks (True = blocked; float added) as sdpa's (float mask, bool keep), shaped (N, H, L, S)."""
    add, blocked = None, None
    if attn_mask is None and is_causal:
        blocked = ~_attn._causal_keep(L, S)
    am, ab = _mask_array(attn_mask, what, "attn_mask")
    if attn_mask is not None:
        shape = tuple(attn_mask.shape)
        if shape == (L, S):
            view = (1, 1, L, S)
        elif shape == (N * H, L, S):
            view = (N, H, L, S)
        else:
            raise RuntimeError(f"{what}: attn_mask of shape {shape} is wrong: expected (L, S) = {(L, S)} or "
                               f"(N * num_heads, L, S) = {(N * H, L, S)}")
        if am is not None:
            add = am.reshape(view)
        else:
            blocked = ab.reshape(view)
    km, kb = _mask_array(key_padding_mask, what, "key_padding_mask")
    if key_padding_mask is not None:
        if tuple(key_padding_mask.shape) != (N, S):
            raise RuntimeError(f"{what}: key_padding_mask of shape {tuple(key_padding_mask.shape)} is wrong: "
                               f"expected (N, S) = {(N, S)}")
        if km is not None:
            km = km.reshape((N, 1, 1, S))
            add = km if add is None else add + km
        else:
            kb = kb.reshape((N, 1, 1, S))
            blocked = kb if blocked is None else blocked | kb
    if add is not None:
        add = add.to(dtype)
        if blocked is not None:
            # why: a float and a bool mask together: the bool one becomes -inf added to the scores
            add = add + ag.from_numpy(np.where(blocked, -np.inf, 0).astype(dtype))
            blocked = None
    return add, (None if blocked is None else ~blocked)


def _mha_forward(query, key, value, num_heads, weights, biases, out_w, out_b, dropout_p, key_padding_mask,
                 need_weights, attn_mask, average_attn_weights, is_causal, batch_first, embed_dim, what,
                 packed=None):
    """Multi-head attention on (L, N, E) (or (N, L, E) with batch_first, or unbatched (L, E)): (output, weights)."""
    if query.ndim not in (2, 3) or key.ndim != query.ndim or value.ndim != query.ndim:
        raise ValueError(f"{what}: query, key and value must all be 3-D (batched) or 2-D (unbatched), got shapes "
                         f"{tuple(query.shape)}, {tuple(key.shape)}, {tuple(value.shape)}")
    unbatched = query.ndim == 2
    if unbatched:
        query, key, value = query.unsqueeze(1), key.unsqueeze(1), value.unsqueeze(1)
        if key_padding_mask is not None:
            key_padding_mask = key_padding_mask.reshape((1,) + tuple(key_padding_mask.shape))
    elif batch_first:
        # why: one layout inside, (N, L, E); a transpose is a view here
        query, key, value = (t.transpose(0, 1) for t in (query, key, value)) if not (query is key is value) else \
            (query.transpose(0, 1),) * 3
    L, N, E = query.shape
    S = key.shape[0]
    if E != embed_dim:
        raise ValueError(f"{what}: query of shape {tuple(query.shape)} has embed_dim {E}, expected {embed_dim}")
    if key.shape[:2] != value.shape[:2] or key.shape[1] != N:
        raise ValueError(f"{what}: key {tuple(key.shape)} and value {tuple(value.shape)} must have the same "
                         f"sequence length and the query's batch size {N}")
    H = num_heads
    hd = E // H
    if packed is not None and query is key is value:
        q, k, v = F.linear(query, *packed).chunk(3, -1)     # (L, N, E) each, from one matmul
    else:
        q, k, v = (F.linear(t, w, b) for t, w, b in zip((query, key, value), weights, biases))
    # (L, N, E) -> (N, H, L, hd)
    q = q.reshape((L, N, H, hd)).permute(1, 2, 0, 3)
    k = k.reshape((S, N, H, hd)).permute(1, 2, 0, 3)
    v = v.reshape((S, N, H, hd)).permute(1, 2, 0, 3)
    add, keep = _merge_masks(attn_mask, key_padding_mask, N, H, L, S, q.dtype, is_causal, what)
    scale = 1.0 / math.sqrt(hd)
    weights_out = None
    if need_weights:
        # why: the probabilities are an output here, so they come from a recorded softmax, not the fused op
        rowvalid = None
        p = _attn._probs_tensor(q, k, add, keep, None, scale)
        blocked_rows = None
        if keep is not None or add is not None:
            allowed = np.ones((1, 1, 1, 1), bool)
            if keep is not None:
                allowed = allowed & keep
            if add is not None:
                allowed = allowed & np.isfinite(add.detach().numpy())
            blocked_rows = ~allowed.any(-1, keepdims=True)
            if blocked_rows.any():
                rowvalid = ag.from_numpy((~blocked_rows).astype(p.dtype))
                p = p * rowvalid
        pd = F.dropout(p, dropout_p) if dropout_p > 0 else p
        o = pd.matmul(v)                                               # (N, H, L, hd)
        weights_out = p.mean(1) if average_attn_weights else p
        if unbatched:
            weights_out = weights_out.squeeze(0)
    else:
        o = F.scaled_dot_product_attention(q, k, v, attn_mask=None if keep is None and add is None else
                                           (add if add is not None else ag.from_numpy(keep)),
                                           dropout_p=dropout_p)
    o = o.permute(2, 0, 1, 3).reshape((L, N, E))                        # (L, N, E)
    o = F.linear(o, out_w, out_b)
    if unbatched:
        o = o.squeeze(1)
    elif batch_first:
        o = o.transpose(0, 1)
    return o, weights_out


class MultiheadAttention(Module):
    """Multi-head attention (PyTorch's nn.MultiheadAttention): in_proj_weight (3E, E), in_proj_bias (3E,), out_proj.

    With kdim or vdim different from embed_dim the projections are q_proj_weight (E, E),
    k_proj_weight (E, kdim), v_proj_weight (E, vdim) instead of in_proj_weight. forward(query, key,
    value, key_padding_mask=None, need_weights=True, attn_mask=None, average_attn_weights=True,
    is_causal=False) -> (output, weights averaged over heads (N, L, S), or per head (N, H, L, S),
    or None). Bool masks: True = NOT allowed to attend (PyTorch's MHA convention; sdpa's is the
    opposite). A query whose keys are all masked gets zeros (PyTorch gives NaN here). is_causal=True
    with no attn_mask applies the causal mask (PyTorch asks for the mask as well); with a mask it is a hint.
    bias_k, bias_v and add_zero_attn are not supported.
    """

    def __init__(self, embed_dim, num_heads, dropout=0.0, bias=True, add_bias_kv=False, add_zero_attn=False,
                 kdim=None, vdim=None, batch_first=False, device=None, dtype=None):
        super().__init__()
        if embed_dim <= 0 or num_heads <= 0:
            raise ValueError(f"MultiheadAttention: embed_dim and num_heads must be positive, got {embed_dim} and "
                             f"{num_heads}")
        if embed_dim % num_heads:
            raise ValueError(f"MultiheadAttention: embed_dim {embed_dim} must be divisible by num_heads {num_heads}")
        if add_bias_kv or add_zero_attn:
            raise NotImplementedError("MultiheadAttention: add_bias_kv and add_zero_attn are not supported")
        self.embed_dim, self.num_heads, self.dropout, self.batch_first = embed_dim, num_heads, dropout, batch_first
        self.kdim = kdim if kdim is not None else embed_dim
        self.vdim = vdim if vdim is not None else embed_dim
        self._qkv_same_embed_dim = self.kdim == embed_dim and self.vdim == embed_dim
        self.head_dim = embed_dim // num_heads
        dt = dtype or ag.get_default_dtype()
        if self._qkv_same_embed_dim:
            self.in_proj_weight = Parameter(ag.empty(3 * embed_dim, embed_dim, dtype=dt))
            self.register_parameter("q_proj_weight", None)
            self.register_parameter("k_proj_weight", None)
            self.register_parameter("v_proj_weight", None)
        else:
            self.q_proj_weight = Parameter(ag.empty(embed_dim, embed_dim, dtype=dt))
            self.k_proj_weight = Parameter(ag.empty(embed_dim, self.kdim, dtype=dt))
            self.v_proj_weight = Parameter(ag.empty(embed_dim, self.vdim, dtype=dt))
            self.register_parameter("in_proj_weight", None)
        if bias:
            self.in_proj_bias = Parameter(ag.empty(3 * embed_dim, dtype=dt))
        else:
            self.register_parameter("in_proj_bias", None)
        self.out_proj = Linear(embed_dim, embed_dim, bias=bias, dtype=dt)
        self._reset_parameters()

    def _reset_parameters(self):
        """PyTorch's init: xavier_uniform_ projections, zero in/out biases (out_proj.weight keeps Linear's init)."""
        if self._qkv_same_embed_dim:
            init.xavier_uniform_(self.in_proj_weight)
        else:
            for w in (self.q_proj_weight, self.k_proj_weight, self.v_proj_weight):
                init.xavier_uniform_(w)
        if self.in_proj_bias is not None:
            init.zeros_(self.in_proj_bias)
            init.zeros_(self.out_proj.bias)

    def forward(self, query, key, value, key_padding_mask=None, need_weights=True, attn_mask=None,
                average_attn_weights=True, is_causal=False):
        if self._qkv_same_embed_dim:
            w = self.in_proj_weight
            E = self.embed_dim
            weights = (w[:E], w[E:2 * E], w[2 * E:])
            packed = (w, self.in_proj_bias)
        else:
            weights = (self.q_proj_weight, self.k_proj_weight, self.v_proj_weight)
            packed = None
        b = self.in_proj_bias
        biases = (None, None, None) if b is None else (b[:self.embed_dim], b[self.embed_dim:2 * self.embed_dim],
                                                       b[2 * self.embed_dim:])
        return _mha_forward(query, key, value, self.num_heads, weights, biases, self.out_proj.weight,
                            self.out_proj.bias, self.dropout if self.training else 0.0, key_padding_mask,
                            need_weights, attn_mask, average_attn_weights, is_causal, self.batch_first,
                            self.embed_dim, "MultiheadAttention", packed=packed)

    def extra_repr(self):
        return f"embed_dim={self.embed_dim}, num_heads={self.num_heads}, batch_first={self.batch_first}"


# ---- encoder and decoder layers ----------------------------------------------------------------

def _activation(activation, what):
    """'relu', 'gelu' or a callable -> a callable."""
    if callable(activation):
        return activation
    if activation == "relu":
        return F.relu
    if activation == "gelu":
        return F.gelu
    raise RuntimeError(f"{what}: activation should be relu/gelu or a callable, not {activation!r}")


class _SelfAttentionLayer(Module):
    """What the encoder and decoder layers share: the self-attention block (self_attn, then dropout1)."""

    def _sa_block(self, x, attn_mask, key_padding_mask, is_causal):
        x = self.self_attn(x, x, x, attn_mask=attn_mask, key_padding_mask=key_padding_mask, need_weights=False,
                           is_causal=is_causal)[0]
        return self.dropout1(x)


class TransformerEncoderLayer(_SelfAttentionLayer):
    """Self-attention and a feed-forward block, each with dropout, a residual and LayerNorm (PyTorch's layer).

    norm_first=False is the original post-LN order x = norm(x + sublayer(x)); True is pre-LN
    x = x + sublayer(norm(x)). forward(src, src_mask=None, src_key_padding_mask=None, is_causal=False).
    """

    def __init__(self, d_model, nhead, dim_feedforward=2048, dropout=0.1, activation="relu", layer_norm_eps=1e-5,
                 batch_first=False, norm_first=False, bias=True, device=None, dtype=None):
        super().__init__()
        self.self_attn = MultiheadAttention(d_model, nhead, dropout=dropout, bias=bias, batch_first=batch_first,
                                            dtype=dtype)
        self.linear1 = Linear(d_model, dim_feedforward, bias=bias, dtype=dtype)
        self.dropout = Dropout(dropout)
        self.linear2 = Linear(dim_feedforward, d_model, bias=bias, dtype=dtype)
        self.norm_first = norm_first
        self.norm1 = LayerNorm(d_model, eps=layer_norm_eps, bias=bias, dtype=dtype)
        self.norm2 = LayerNorm(d_model, eps=layer_norm_eps, bias=bias, dtype=dtype)
        self.dropout1 = Dropout(dropout)
        self.dropout2 = Dropout(dropout)
        self.activation = _activation(activation, "TransformerEncoderLayer")

    def forward(self, src, src_mask=None, src_key_padding_mask=None, is_causal=False):
        x = src
        if self.norm_first:
            x = x + self._sa_block(self.norm1(x), src_mask, src_key_padding_mask, is_causal)
            x = x + self._ff_block(self.norm2(x))
        else:
            x = self.norm1(x + self._sa_block(x, src_mask, src_key_padding_mask, is_causal))
            x = self.norm2(x + self._ff_block(x))
        return x

    def _ff_block(self, x):
        return self.dropout2(self.linear2(self.dropout(self.activation(self.linear1(x)))))


class TransformerDecoderLayer(_SelfAttentionLayer):
    """Masked self-attention, cross-attention over the encoder's memory and a feed-forward block (PyTorch's layer).

    forward(tgt, memory, tgt_mask=None, memory_mask=None, tgt_key_padding_mask=None,
    memory_key_padding_mask=None, tgt_is_causal=False, memory_is_causal=False).
    """

    def __init__(self, d_model, nhead, dim_feedforward=2048, dropout=0.1, activation="relu", layer_norm_eps=1e-5,
                 batch_first=False, norm_first=False, bias=True, device=None, dtype=None):
        super().__init__()
        self.self_attn = MultiheadAttention(d_model, nhead, dropout=dropout, bias=bias, batch_first=batch_first,
                                            dtype=dtype)
        self.multihead_attn = MultiheadAttention(d_model, nhead, dropout=dropout, bias=bias, batch_first=batch_first,
                                                 dtype=dtype)
        self.linear1 = Linear(d_model, dim_feedforward, bias=bias, dtype=dtype)
        self.dropout = Dropout(dropout)
        self.linear2 = Linear(dim_feedforward, d_model, bias=bias, dtype=dtype)
        self.norm_first = norm_first
        self.norm1 = LayerNorm(d_model, eps=layer_norm_eps, bias=bias, dtype=dtype)
        self.norm2 = LayerNorm(d_model, eps=layer_norm_eps, bias=bias, dtype=dtype)
        self.norm3 = LayerNorm(d_model, eps=layer_norm_eps, bias=bias, dtype=dtype)
        self.dropout1 = Dropout(dropout)
        self.dropout2 = Dropout(dropout)
        self.dropout3 = Dropout(dropout)
        self.activation = _activation(activation, "TransformerDecoderLayer")

    def forward(self, tgt, memory, tgt_mask=None, memory_mask=None, tgt_key_padding_mask=None,
                memory_key_padding_mask=None, tgt_is_causal=False, memory_is_causal=False):
        x = tgt
        if self.norm_first:
            x = x + self._sa_block(self.norm1(x), tgt_mask, tgt_key_padding_mask, tgt_is_causal)
            x = x + self._mha_block(self.norm2(x), memory, memory_mask, memory_key_padding_mask, memory_is_causal)
            x = x + self._ff_block(self.norm3(x))
        else:
            x = self.norm1(x + self._sa_block(x, tgt_mask, tgt_key_padding_mask, tgt_is_causal))
            x = self.norm2(x + self._mha_block(x, memory, memory_mask, memory_key_padding_mask, memory_is_causal))
            x = self.norm3(x + self._ff_block(x))
        return x

    def _mha_block(self, x, mem, attn_mask, key_padding_mask, is_causal):
        x = self.multihead_attn(x, mem, mem, attn_mask=attn_mask, key_padding_mask=key_padding_mask,
                                need_weights=False, is_causal=is_causal)[0]
        return self.dropout2(x)

    def _ff_block(self, x):
        return self.dropout3(self.linear2(self.dropout(self.activation(self.linear1(x)))))


def _clones(module, n):
    return ModuleList([copy.deepcopy(module) for _ in range(n)])


class TransformerEncoder(Module):
    """num_layers deep copies of encoder_layer, then an optional norm.

    forward(src, mask=None, src_key_padding_mask=None, is_causal=None).
    """

    def __init__(self, encoder_layer, num_layers, norm=None, enable_nested_tensor=True, mask_check=True):
        super().__init__()
        self.layers = _clones(encoder_layer, num_layers)
        self.num_layers = num_layers
        self.norm = norm

    def forward(self, src, mask=None, src_key_padding_mask=None, is_causal=None):
        x = src
        for layer in self.layers:
            x = layer(x, src_mask=mask, src_key_padding_mask=src_key_padding_mask, is_causal=bool(is_causal))
        return self.norm(x) if self.norm is not None else x


class TransformerDecoder(Module):
    """num_layers deep copies of decoder_layer, then an optional norm (PyTorch's call signature)."""

    def __init__(self, decoder_layer, num_layers, norm=None):
        super().__init__()
        self.layers = _clones(decoder_layer, num_layers)
        self.num_layers = num_layers
        self.norm = norm

    def forward(self, tgt, memory, tgt_mask=None, memory_mask=None, tgt_key_padding_mask=None,
                memory_key_padding_mask=None, tgt_is_causal=None, memory_is_causal=False):
        x = tgt
        for layer in self.layers:
            x = layer(x, memory, tgt_mask=tgt_mask, memory_mask=memory_mask, tgt_key_padding_mask=tgt_key_padding_mask,
                      memory_key_padding_mask=memory_key_padding_mask, tgt_is_causal=bool(tgt_is_causal),
                      memory_is_causal=memory_is_causal)
        return self.norm(x) if self.norm is not None else x


class Transformer(Module):
    """The encoder-decoder transformer of "Attention is all you need" (PyTorch's nn.Transformer, same arguments).

    forward(src, tgt, src_mask=None, tgt_mask=None, memory_mask=None, src_key_padding_mask=None,
    tgt_key_padding_mask=None, memory_key_padding_mask=None, src_is_causal=None, tgt_is_causal=None,
    memory_is_causal=False): src (S, N, E), tgt (T, N, E) (batch first with batch_first=True) -> (T, N, E).
    Parameters with more than one dim are xavier_uniform_ initialised, as PyTorch's.
    """

    def __init__(self, d_model=512, nhead=8, num_encoder_layers=6, num_decoder_layers=6, dim_feedforward=2048,
                 dropout=0.1, activation="relu", custom_encoder=None, custom_decoder=None, layer_norm_eps=1e-5,
                 batch_first=False, norm_first=False, bias=True, device=None, dtype=None):
        super().__init__()
        if custom_encoder is not None:
            self.encoder = custom_encoder
        else:
            layer = TransformerEncoderLayer(d_model, nhead, dim_feedforward, dropout, activation, layer_norm_eps,
                                            batch_first, norm_first, bias, dtype=dtype)
            self.encoder = TransformerEncoder(layer, num_encoder_layers,
                                              LayerNorm(d_model, eps=layer_norm_eps, bias=bias, dtype=dtype))
        if custom_decoder is not None:
            self.decoder = custom_decoder
        else:
            layer = TransformerDecoderLayer(d_model, nhead, dim_feedforward, dropout, activation, layer_norm_eps,
                                            batch_first, norm_first, bias, dtype=dtype)
            self.decoder = TransformerDecoder(layer, num_decoder_layers,
                                              LayerNorm(d_model, eps=layer_norm_eps, bias=bias, dtype=dtype))
        self.d_model, self.nhead, self.batch_first = d_model, nhead, batch_first
        for p in self.parameters():
            if p.dim() > 1:
                init.xavier_uniform_(p)

    def forward(self, src, tgt, src_mask=None, tgt_mask=None, memory_mask=None, src_key_padding_mask=None,
                tgt_key_padding_mask=None, memory_key_padding_mask=None, src_is_causal=None, tgt_is_causal=None,
                memory_is_causal=False):
        bdim = 0 if self.batch_first else 1
        if src.ndim == 3 and tgt.ndim == 3 and src.shape[bdim] != tgt.shape[bdim]:
            raise RuntimeError(f"Transformer: the batch number of src {tuple(src.shape)} and tgt {tuple(tgt.shape)} "
                               f"must be equal")
        if src.shape[-1] != self.d_model or tgt.shape[-1] != self.d_model:
            raise RuntimeError(f"Transformer: the feature number of src {tuple(src.shape)} and tgt "
                               f"{tuple(tgt.shape)} must be equal to d_model={self.d_model}")
        memory = self.encoder(src, mask=src_mask, src_key_padding_mask=src_key_padding_mask, is_causal=src_is_causal)
        return self.decoder(tgt, memory, tgt_mask=tgt_mask, memory_mask=memory_mask,
                            tgt_key_padding_mask=tgt_key_padding_mask,
                            memory_key_padding_mask=memory_key_padding_mask, tgt_is_causal=tgt_is_causal,
                            memory_is_causal=memory_is_causal)

    @staticmethod
    def generate_square_subsequent_mask(sz, device=None, dtype=None):
        """(sz, sz) float mask: 0 on and below the diagonal, -inf above (position i sees j <= i)."""
        dt = dtype or ag.get_default_dtype()
        return ag.from_numpy(np.triu(np.full((sz, sz), -np.inf), 1).astype(np.dtype(dt)))


# ---- positional encodings ----------------------------------------------------------------------

def sinusoidal_positional_encoding(length, d_model, base=10000.0, start=0, dtype=None):
    """(length, d_model) array: P[k, 2i] = sin(k / base^(2i/d)), P[k, 2i+1] = cos(k / base^(2i/d)).

    The course's formula (n = base = 10000); its positions are 1-based (start=1), PyTorch's tutorial
    and most code count from 0 (the default).
    """
    k = np.arange(start, start + length, dtype=np.float64)[:, None]
    i2 = np.arange(0, d_model, 2, dtype=np.float64)
    angle = k / base ** (i2 / d_model)                                   # (length, ceil(d/2))
    pe = np.zeros((length, d_model))
    pe[:, 0::2] = np.sin(angle)
    pe[:, 1::2] = np.cos(angle[:, :d_model // 2])
    return pe.astype(dtype or np.float32)


class SinusoidalPositionalEncoding(Module):
    """Adds the fixed sinusoidal encoding (base 10000) to (N, T, E) inputs (or (T, N, E) with batch_first=False).

    The table is a non-persistent buffer `pe` (max_len, d_model) (not in the state_dict: it is a
    function of the arguments). start=1 gives the course's 1-based positions.
    """

    def __init__(self, d_model, max_len=5000, dropout=0.0, base=10000.0, batch_first=True, start=0):
        super().__init__()
        self.d_model, self.max_len, self.batch_first = d_model, max_len, batch_first
        self.dropout = Dropout(dropout)
        self.register_buffer("pe", ag.from_numpy(sinusoidal_positional_encoding(max_len, d_model, base, start)),
                             persistent=False)

    def forward(self, x):
        T = x.shape[1] if self.batch_first else x.shape[0]
        if T > self.max_len:
            raise ValueError(f"SinusoidalPositionalEncoding: sequence length {T} exceeds max_len={self.max_len}")
        pe = self.pe[:T].to(x.dtype)
        return self.dropout(x + (pe if self.batch_first else pe.unsqueeze(1)))


class LearnedPositionalEncoding(Module):
    """Adds a learned (max_len, d_model) position embedding `weight` (GPT's, init N(0, 0.02)) to (N, T, E) inputs."""

    def __init__(self, d_model, max_len=512, dropout=0.0, batch_first=True):
        super().__init__()
        self.d_model, self.max_len, self.batch_first = d_model, max_len, batch_first
        self.weight = Parameter(ag.empty(max_len, d_model))
        init.normal_(self.weight, 0.0, 0.02)
        self.dropout = Dropout(dropout)

    def forward(self, x):
        T = x.shape[1] if self.batch_first else x.shape[0]
        if T > self.max_len:
            raise ValueError(f"LearnedPositionalEncoding: sequence length {T} exceeds max_len={self.max_len}")
        pe = self.weight[:T]
        return self.dropout(x + (pe if self.batch_first else pe.unsqueeze(1)))
