"""A GPT language model (decoder-only transformer, nanoGPT's layout and names): GPTConfig and GPT.

Reachable as nn.models.GPT. Parameter names follow nanoGPT (transformer.wte, transformer.h.0.attn.c_attn,
lm_head ...), so its checkpoints and plots read the same. The course (lecture on GPT): tokens are
embedded (W_e u_k, a lookup) plus positions, run through repeated transformer blocks, and the output
y_k is a distribution over the next token; the loss is -sum log y_l[a_{l+1}] over shifted targets.
"""
import math
from dataclasses import dataclass

import numpy as np

import autograd_core as ag
from autograd_core.ops import attention as _attn

from . import functional as F
from . import init
from .containers import ModuleDict, ModuleList
from .dropout import Dropout
from .linear import Identity, Linear
from .module import Module
from .normalization import LayerNorm
from .sparse import Embedding

__all__ = ["GPTConfig", "GPT", "Block", "CausalSelfAttention"]


@dataclass
class GPTConfig:
    """GPT hyper-parameters (nanoGPT's names); post_ln=True gives GPT-1's block order (the course's figure)."""
    block_size: int = 64        # the longest context (positions) the model sees
    vocab_size: int = 65
    n_layer: int = 4
    n_head: int = 4
    n_embd: int = 128
    dropout: float = 0.0
    bias: bool = True           # biases in Linear and LayerNorm layers
    post_ln: bool = False       # False: pre-LN (GPT-2: x + f(LN(x)), final LN); True: post-LN (GPT-1: LN(x + f(x)))
    gelu_approximate: str = "tanh"   # GPT-2's tanh GELU; 'none' for the exact erf form


def _ln(module, x):
    """LayerNorm module applied through the fused last-dim primitive (same parameters, one graph node)."""
    return _attn.layer_norm_last_dim(x, module.weight, module.bias, module.eps)


class CausalSelfAttention(Module):
    """Masked multi-head self-attention: c_attn (C -> 3C, q k v at once), the fused causal sdpa, c_proj.

    Set `store_attention = True` to keep the last forward's attention probabilities in
    `attention` ((B, n_head, T, T) array) for plotting (that forward takes the unfused path).
    """

    def __init__(self, config):
        super().__init__()
        if config.n_embd % config.n_head:
            raise ValueError(f"CausalSelfAttention: n_embd {config.n_embd} must be divisible by n_head "
                             f"{config.n_head}")
        self.c_attn = Linear(config.n_embd, 3 * config.n_embd, bias=config.bias)
        self.c_proj = Linear(config.n_embd, config.n_embd, bias=config.bias)
        self.attn_dropout = Dropout(config.dropout)
        self.resid_dropout = Dropout(config.dropout)
        self.n_head, self.n_embd, self.dropout = config.n_head, config.n_embd, config.dropout
        self.store_attention = False
        self.attention = None

    def forward(self, x, B=None, T=None):
        """x (B, T, C), or (B * T, C) with B and T given (GPT keeps its residual stream 2-D)."""
        flat = x.ndim == 2
        if not flat:
            B, T, _ = x.shape
            x = x.reshape((B * T, -1))
        C = self.n_embd
        hs = C // self.n_head
        qkv = self.c_attn(x).reshape((B, T, 3 * C))
        p_drop = self.dropout if self.training else 0.0
        keep = _attn._causal_keep(T, T)
        if self.store_attention:
            q, k, v = (t.reshape((B, T, self.n_head, hs)).transpose(1, 2) for t in qkv.split(C, dim=2))
            att = _attn._probs_tensor(q, k, None, keep, None, 1.0 / math.sqrt(hs))              # (B, nh, T, T)
            self.attention = att.detach().numpy().copy()
            y = F.dropout(att, p_drop, self.training).matmul(v).transpose(1, 2).reshape((B, T, C))
        else:
            drop = None
            if p_drop > 0:
                drop = (ag.rand(B, self.n_head, T, T).numpy() >= p_drop).astype(qkv.dtype) / qkv.dtype.type(1 - p_drop)
            # the fused causal attention on the packed q|k|v, heads split inside (B, T, C)
            y = _attn.packed_self_attention(qkv, self.n_head, keep, drop)
        y = self.resid_dropout(self.c_proj(y.reshape((B * T, C))))
        return y if flat else y.reshape((B, T, C))


class MLP(Module):
    """Linear(C, 4C) -> GELU -> Linear(4C, C) -> dropout (the course leaves the FFN unspecified; this is GPT-2's)."""

    def __init__(self, config):
        super().__init__()
        self.c_fc = Linear(config.n_embd, 4 * config.n_embd, bias=config.bias)
        self.c_proj = Linear(4 * config.n_embd, config.n_embd, bias=config.bias)
        self.dropout = Dropout(config.dropout)
        self.approximate = config.gelu_approximate

    def forward(self, x):
        return self.dropout(self.c_proj(_attn.gelu(self.c_fc(x), self.approximate)))


class Block(Module):
    """A transformer block: pre-LN x + attn(ln_1(x)), x + mlp(ln_2(x)); post-LN ln_1(x + attn(x)), ln_2(x + mlp(x))."""

    def __init__(self, config):
        super().__init__()
        self.ln_1 = LayerNorm(config.n_embd, bias=config.bias)
        self.attn = CausalSelfAttention(config)
        self.ln_2 = LayerNorm(config.n_embd, bias=config.bias)
        self.mlp = MLP(config)
        self.post_ln = config.post_ln

    def forward(self, x, B=None, T=None):
        """x (B, T, C), or (B * T, C) with B and T given."""
        if self.post_ln:
            x = _ln(self.ln_1, x + self.attn(x, B, T))
            return _ln(self.ln_2, x + self.mlp(x))
        x = x + self.attn(_ln(self.ln_1, x), B, T)
        return x + self.mlp(_ln(self.ln_2, x))


class GPT(Module):
    """A GPT language model: forward(idx (B, T) int64, targets=None) -> (logits (B, T, vocab), loss or None).

    targets (B, T) are the tokens that follow each position (idx shifted left by one, as a
    character loader makes them; -1 is ignored): the loss is the mean cross-entropy, the course's
    -sum_l log y_l[a_{l+1}] divided by the number of predictions. Weight tying: lm_head.weight is
    transformer.wte.weight. Initialisation as GPT-2: N(0, 0.02) weights and embeddings, zero biases,
    and the residual projections (c_proj) N(0, 0.02 / sqrt(2 n_layer)).
    """

    def __init__(self, config=None, **kwargs):
        super().__init__()
        config = config if config is not None else GPTConfig(**kwargs)
        if config.n_embd % config.n_head:
            raise ValueError(f"GPT: n_embd {config.n_embd} must be divisible by n_head {config.n_head}")
        self.config = config
        self.transformer = ModuleDict(dict(
            wte=Embedding(config.vocab_size, config.n_embd),
            wpe=Embedding(config.block_size, config.n_embd),
            drop=Dropout(config.dropout),
            h=ModuleList([Block(config) for _ in range(config.n_layer)]),
            ln_f=Identity() if config.post_ln else LayerNorm(config.n_embd, bias=config.bias),
        ))
        self.lm_head = Linear(config.n_embd, config.vocab_size, bias=False)
        self.lm_head.weight = self.transformer.wte.weight   # weight tying (as GPT-2 and nanoGPT)
        self.apply(self._init_weights)
        for name, p in self.named_parameters():
            if name.endswith("c_proj.weight"):
                init.normal_(p, 0.0, 0.02 / math.sqrt(2 * config.n_layer))

    @staticmethod
    def _init_weights(module):
        if isinstance(module, Linear):
            init.normal_(module.weight, 0.0, 0.02)
            if module.bias is not None:
                init.zeros_(module.bias)
        elif isinstance(module, Embedding):
            init.normal_(module.weight, 0.0, 0.02)

    def num_parameters(self, non_embedding=True):
        """Parameter count (shared tensors once); non_embedding leaves out the position embeddings, as nanoGPT."""
        n = sum(p.numel() for p in self.parameters())
        return n - self.transformer.wpe.weight.numel() if non_embedding else n

    def forward(self, idx, targets=None):
        idx = idx if isinstance(idx, ag.Tensor) else ag.as_tensor(idx)
        if idx.ndim != 2:
            raise ValueError(f"GPT: idx must be (B, T) token indices, got shape {tuple(idx.shape)}")
        B, T = idx.shape
        if T > self.config.block_size:
            raise ValueError(f"GPT: cannot forward a sequence of length {T}: block_size is only "
                             f"{self.config.block_size} (crop idx to its last {self.config.block_size} tokens)")
        ids = idx.numpy()
        V = self.config.vocab_size
        if ids.size and (ids.min() < 0 or ids.max() >= V):
            raise IndexError(f"GPT: token index out of range for vocab_size={V} (got {ids.min()}..{ids.max()})")
        # the lookup's gradient is one BLAS call (one_hot^T @ grad, autograd_core/ops/indexing.py); positions
        # 0..T-1 are a slice (a view)
        x = self.transformer.wte(idx) + self.transformer.wpe.weight[:T]
        # why: the residual stream stays (B * T, C), so each Linear is one BLAS call, not one per sequence
        x = self.transformer.drop(x).reshape((B * T, -1))
        for block in self.transformer.h:
            x = block(x, B, T)
        if not self.config.post_ln:
            x = _ln(self.transformer.ln_f, x)
        logits = self.lm_head(x)                                                           # (B * T, vocab)
        loss = None
        if targets is not None:
            targets = targets if isinstance(targets, ag.Tensor) else ag.as_tensor(targets)
            if tuple(targets.shape) != (B, T):
                raise ValueError(f"GPT: targets must have idx's shape {(B, T)}, got {tuple(targets.shape)}")
            loss = F.cross_entropy(logits, targets.reshape((B * T,)), ignore_index=-1)
        return logits.reshape((B, T, -1)), loss

    def sequence_loss(self, tokens, reduction="mean"):
        """The course's language-model loss of sequences a_1..a_T (B, T): -sum_l log y_l[a_{l+1}] (reduction='sum')."""
        logits, _ = self(tokens[:, :-1])
        V = logits.shape[-1]
        return F.cross_entropy(logits.reshape((-1, V)), tokens[:, 1:].reshape((-1,)), reduction=reduction)

    @ag.no_grad()
    def attention_maps(self, idx):
        """The attention probabilities of every layer for idx (B, T): a list of n_layer (B, n_head, T, T) arrays."""
        blocks = list(self.transformer.h)
        for b in blocks:
            b.attn.store_attention = True
        try:
            self(idx)
            return [b.attn.attention for b in blocks]
        finally:
            for b in blocks:
                b.attn.store_attention = False
                b.attn.attention = None

    @ag.no_grad()
    def generate(self, idx, max_new_tokens, temperature=1.0, top_k=None, generator=None):
        """Append max_new_tokens sampled tokens to idx (B, T); the context is cropped to the last block_size tokens.

        Each step samples from softmax(logits / temperature), keeping only the top_k most likely
        tokens when top_k is given. Call model.eval() first to switch dropout off.
        """
        if temperature <= 0:
            raise ValueError(f"GPT.generate: temperature must be positive, got {temperature}")
        idx = idx if isinstance(idx, ag.Tensor) else ag.as_tensor(idx)
        bs = self.config.block_size
        for _ in range(max_new_tokens):
            idx_cond = idx if idx.shape[1] <= bs else idx[:, -bs:]
            logits, _ = self(idx_cond)
            logits = logits[:, -1, :].numpy() / temperature                  # (B, vocab)
            if top_k is not None:
                k = min(int(top_k), logits.shape[-1])
                kth = np.partition(logits, -k, axis=-1)[:, -k:].min(axis=-1, keepdims=True)
                logits = np.where(logits < kth, -np.inf, logits)
            probs = F.softmax(ag.from_numpy(logits), dim=-1)
            idx_next = ag.multinomial(probs, 1, generator=generator)         # (B, 1)
            idx = ag.cat([idx, idx_next.to(idx.dtype)], dim=1)
        return idx
