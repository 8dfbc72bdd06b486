"""Indexing and selection primitives: t[...], gather, scatter_add, index_select, masked_fill, topk, sort."""
from ..backend import xp
from ..function import Function

Tensor = None  # bound by tensor.py


def _bind_tensor(cls):
    global Tensor
    Tensor = cls
