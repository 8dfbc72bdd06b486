"""Embedding: a lookup table of learned vectors indexed by integer ids."""
import numpy as np

import autograd_core as ag
from autograd_core.dtypes import check_device

from . import functional as F
from . import init
from .module import Module, Parameter


class Embedding(Module):
    """Row lookup weight[input]: integer ids of any shape (*) -> (*, embedding_dim).

    weight: (num_embeddings, embedding_dim), initialised N(0, 1) as in PyTorch. padding_idx: that
    row starts at zero and never receives a gradient (its output still reads the row). max_norm:
    rows looked up are renormalised in place to at most that norm (norm_type), as in PyTorch.
    """

    def __init__(self, num_embeddings, embedding_dim, padding_idx=None, max_norm=None, norm_type=2.0,
                 scale_grad_by_freq=False, sparse=False, _weight=None, _freeze=False, device=None, dtype=None):
        super().__init__()
        check_device(device, "Embedding")
        if scale_grad_by_freq or sparse:
            raise NotImplementedError("Embedding: scale_grad_by_freq and sparse gradients are not supported")
        self.num_embeddings = num_embeddings
        self.embedding_dim = embedding_dim
        if padding_idx is not None:
            if not -num_embeddings <= padding_idx < num_embeddings:
                raise ValueError(f"Embedding: padding_idx must be within num_embeddings ({num_embeddings}), "
                                 f"got {padding_idx}")
            if padding_idx < 0:
                padding_idx += num_embeddings
        self.padding_idx = padding_idx
        self.max_norm = max_norm
        self.norm_type = norm_type
        self.scale_grad_by_freq = scale_grad_by_freq
        self.sparse = sparse
        if _weight is None:
            dtype = ag.get_default_dtype() if dtype is None else dtype
            self.weight = Parameter(ag.empty(num_embeddings, embedding_dim, dtype=dtype), requires_grad=not _freeze)
            self.reset_parameters()
        else:
            if tuple(_weight.shape) != (num_embeddings, embedding_dim):
                raise ValueError(f"Embedding: _weight has shape {tuple(_weight.shape)}, expected "
                                 f"({num_embeddings}, {embedding_dim})")
            self.weight = Parameter(_weight, requires_grad=not _freeze)

    def reset_parameters(self):
        """Re-draw the table from N(0, 1) and zero the padding row."""
        init.normal_(self.weight)
        if self.padding_idx is not None:
            with ag.no_grad():
                self.weight[self.padding_idx] = 0.0

    @classmethod
    def from_pretrained(cls, embeddings, freeze=True, padding_idx=None, max_norm=None, norm_type=2.0,
                        scale_grad_by_freq=False, sparse=False):
        """An Embedding whose table is `embeddings` (2-D); frozen (no gradient) unless freeze=False."""
        if embeddings.ndim != 2:
            raise ValueError(f"Embedding.from_pretrained: embeddings must be 2-D, got shape {tuple(embeddings.shape)}")
        rows, cols = embeddings.shape
        return cls(rows, cols, padding_idx=padding_idx, max_norm=max_norm, norm_type=norm_type,
                   scale_grad_by_freq=scale_grad_by_freq, sparse=sparse, _weight=embeddings, _freeze=freeze)

    def forward(self, input):
        idx = input._data if isinstance(input, ag.Tensor) else np.asarray(input)
        if idx.dtype.kind not in "iu":
            raise TypeError(f"{self!r}: expected indices of an integer dtype (ag.long or ag.int), got "
                            f"{idx.dtype}; convert them with .long()")
        if idx.size and (idx.min() < 0 or idx.max() >= self.num_embeddings):
            bad = idx.min() if idx.min() < 0 else idx.max()
            raise IndexError(f"{self!r}: index {bad} is out of range for {self.num_embeddings} embeddings "
                             f"(valid indices are 0..{self.num_embeddings - 1})")
        if self.max_norm is not None:
            self._renorm(idx)
        out = self.weight[idx]  # (*, embedding_dim); its gradient scatter-adds into the rows
        if self.padding_idx is not None and out.requires_grad:
            pad = (idx == self.padding_idx)[..., None]
            if pad.any():
                # why: the same values, but positions reading the padding row pass no gradient to it
                return ag.where(ag.from_numpy(pad), out.detach(), out)
        return F._remember_lookup(out, self.weight, idx)

    def _renorm(self, idx):
        rows = np.unique(idx)
        w = self.weight._data
        norms = np.linalg.norm(w[rows], ord=self.norm_type, axis=1)
        big = norms > self.max_norm
        if big.any():
            scale = self.max_norm / (norms[big] + 1e-7)
            with ag.no_grad():
                self.weight[rows[big]] = ag.from_numpy((w[rows[big]] * scale[:, None]).astype(w.dtype))

    def extra_repr(self):
        s = f"{self.num_embeddings}, {self.embedding_dim}"
        if self.padding_idx is not None:
            s += f", padding_idx={self.padding_idx}"
        if self.max_norm is not None:
            s += f", max_norm={self.max_norm}"
        if self.norm_type != 2.0:
            s += f", norm_type={self.norm_type}"
        return s
