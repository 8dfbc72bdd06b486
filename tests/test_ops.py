"""The op table: every differentiable primitive checked for values (vs NumPy), gradients and second derivatives."""
import inspect
import math

import numpy as np
import pytest

import autograd_core as ag
from autograd_core.ops import nn_ops
from autograd_core.ops import pool  # the pooling rows
from autograd_core.ops import conv as _conv  # the conv rows
import nn.functional as _F
from test_conv import ref_conv2d as _ref_conv2d, ref_conv_transpose2d as _ref_conv_transpose2d
from op_table import (BINARY, MATRIX, TERNARY, UNARY, Row, all_cases, case_id, graph_functions,  # noqa: F401
                      library_functions, one)

_erf = np.vectorize(math.erf)

ROWS = [
    # ---- elementwise: arithmetic ----
    Row("add", lambda a, b: a + b, np.add, BINARY),
    Row("add_scalar", lambda a: 2.5 + a, lambda a: 2.5 + a, UNARY),
    Row("add_alpha", lambda a, b: ag.add(a, b, alpha=-2), lambda a, b: a - 2 * b, BINARY[:4]),
    Row("sub", lambda a, b: a - b, np.subtract, BINARY),
    Row("rsub", lambda a: 1.0 - a, lambda a: 1.0 - a, UNARY),
    Row("mul", lambda a, b: a * b, np.multiply, BINARY),
    Row("div", lambda a, b: a / b, np.divide, BINARY, domain=[(-2, 2), (0.5, 2)]),
    Row("rdiv", lambda a: 3.0 / a, lambda a: 3.0 / a, UNARY, domain=[(0.5, 2)]),
    Row("neg", lambda a: -a, np.negative, UNARY),
    Row("pow_scalar", lambda a: a ** 3, lambda a: a ** 3, UNARY),
    Row("pow_tensor", lambda a, b: a ** b, np.power, BINARY, domain=[(0.5, 2), (-1.5, 1.5)]),
    Row("rpow", lambda a: 2.0 ** a, lambda a: 2.0 ** a, UNARY),
    Row("floordiv", lambda a, b: a // b, np.floor_divide, BINARY[:4], domain=[(-3, 3), (0.7, 1.9)],
        avoid=[None]),
    Row("mod", lambda a: a % 0.7, lambda a: np.mod(a, 0.7), UNARY, avoid=[[-1.4, -0.7, 0, 0.7, 1.4]]),
    Row("div_trunc", lambda a: ag.div(a, 0.6, rounding_mode="trunc"), lambda a: np.trunc(a / 0.6), UNARY,
        avoid=[[-1.8, -1.2, -0.6, 0, 0.6, 1.2, 1.8]]),
    # ---- elementwise: unary math ----
    Row("exp", ag.exp, np.exp, UNARY),
    Row("log", ag.log, np.log, UNARY, domain=[(0.3, 3)]),
    Row("log1p", ag.log1p, np.log1p, UNARY, domain=[(-0.5, 2)]),
    Row("expm1", ag.expm1, np.expm1, UNARY),
    Row("sqrt", ag.sqrt, np.sqrt, UNARY, domain=[(0.3, 3)]),
    Row("rsqrt", ag.rsqrt, lambda a: 1 / np.sqrt(a), UNARY, domain=[(0.3, 3)]),
    Row("reciprocal", ag.reciprocal, np.reciprocal, UNARY, domain=[(0.5, 2)]),
    Row("square", ag.square, np.square, UNARY),
    Row("sin", ag.sin, np.sin, UNARY),
    Row("cos", ag.cos, np.cos, UNARY),
    Row("tan", ag.tan, np.tan, UNARY, domain=[(-1.2, 1.2)]),
    Row("tanh", ag.tanh, np.tanh, UNARY),
    Row("sigmoid", ag.sigmoid, lambda a: 1 / (1 + np.exp(-a)), UNARY),
    Row("relu", ag.relu, lambda a: np.maximum(a, 0), UNARY, avoid=[0.0]),
    Row("abs", ag.abs, np.abs, UNARY, avoid=[0.0]),
    Row("sign", ag.sign, np.sign, UNARY, avoid=[0.0]),
    Row("floor", ag.floor, np.floor, UNARY, avoid=[[-2, -1, 0, 1, 2]]),
    Row("ceil", ag.ceil, np.ceil, UNARY, avoid=[[-2, -1, 0, 1, 2]]),
    Row("round", ag.round, np.round, UNARY, avoid=[[-1.5, -0.5, 0.5, 1.5]]),
    Row("erf", ag.erf, _erf, UNARY, domain=[(-3, 3)]),
    Row("erf_tails", ag.erf, _erf, one((3,)), domain=[(2.6, 5)]),
    # ---- elementwise: selection ----
    Row("clamp", lambda a: ag.clamp(a, -0.5, 0.8), lambda a: np.clip(a, -0.5, 0.8), UNARY, avoid=[[-0.5, 0.8]]),
    Row("clamp_min", lambda a: a.clamp(min=0.2), lambda a: np.maximum(a, 0.2), UNARY, avoid=[0.2]),
    Row("clamp_tensor", lambda a, lo, hi: ag.clamp(a, lo, hi), lambda a, lo, hi: np.minimum(np.maximum(a, lo), hi),
        TERNARY, domain=[(-2, 2), (-2, -0.3), (0.3, 2)], distinct=True),
    Row("maximum", ag.maximum, np.maximum, BINARY, distinct=True),
    Row("minimum", ag.minimum, np.minimum, BINARY, distinct=True),
    Row("where", lambda a, b: ag.where(a > 0, a, b), lambda a, b: np.where(a > 0, a, b), BINARY, avoid=[0.0]),
    # ---- reductions (ops/reduce.py) ----
    Row("sum_all", lambda a: a.sum(), np.sum, UNARY),
    Row("sum_dim", lambda a: a.sum(dim=-1), lambda a: a.sum(axis=-1), MATRIX),
    Row("sum_keepdim", lambda a: a.sum(dim=(0, -1), keepdim=True), lambda a: a.sum(axis=(0, -1), keepdims=True),
        MATRIX),
    Row("mean_all", lambda a: a.mean(), np.mean, UNARY),
    Row("mean_dim", lambda a: a.mean(dim=0, keepdim=True), lambda a: a.mean(axis=0, keepdims=True), MATRIX),
    # ---- reduce rows (helper A) ----
    Row("prod_all", lambda a: a.prod(), np.prod, UNARY),
    Row("prod_dim", lambda a: a.prod(dim=1), lambda a: a.prod(axis=1), MATRIX),
    Row("prod_keepdim", lambda a: ag.prod(a, -1, keepdim=True), lambda a: a.prod(axis=-1, keepdims=True), MATRIX),
    Row("var_all", lambda a: a.var(), lambda a: a.var(ddof=1), one((3,), (2, 3), (2, 1, 3))),
    Row("var_biased", lambda a: a.var(unbiased=False), np.var, UNARY),
    Row("var_dim", lambda a: ag.var(a, 1, True, True), lambda a: a.var(axis=1, ddof=1, keepdims=True),
        MATRIX[:2] + MATRIX[3:]),
    Row("var_correction", lambda a: a.var(dim=(0, -1), correction=0), lambda a: a.var(axis=(0, -1)), MATRIX),
    Row("std_all", lambda a: a.std(), lambda a: a.std(ddof=1), one((3,), (2, 3), (2, 1, 3))),
    Row("std_dim", lambda a: a.std(dim=-1, keepdim=True, correction=0), lambda a: a.std(axis=-1, keepdims=True),
        MATRIX),
    Row("std_single", lambda a: a.std(correction=0), np.std, one((), (1,))),
    Row("max_all", lambda a: a.max(), np.max, UNARY, distinct=True),
    Row("min_all", ag.min, np.min, UNARY, distinct=True),
    Row("max_dim", lambda a: a.max(1), lambda a: (a.max(axis=1), a.argmax(axis=1)), MATRIX, distinct=True),
    Row("min_dim_keepdim", lambda a: a.min(dim=-1, keepdim=True),
        lambda a: (a.min(axis=-1, keepdims=True), a.argmin(axis=-1, keepdims=True)), MATRIX, distinct=True),
    Row("max_dim_0d", lambda a: ag.max(a, 0), lambda a: (a.reshape(()), np.array(0)), one((), (1,)), distinct=True),
    Row("max_binary", lambda a, b: ag.max(a, b), np.maximum, BINARY, distinct=True),
    Row("min_binary", lambda a, b: a.min(b), np.minimum, BINARY, distinct=True),
    Row("amax", lambda a: a.amax(dim=(0, -1), keepdim=True), lambda a: a.max(axis=(0, -1), keepdims=True), MATRIX,
        distinct=True),
    Row("amax_all", ag.amax, np.max, UNARY, distinct=True),
    Row("amin", lambda a: a.amin(-1), lambda a: a.min(axis=-1), MATRIX, distinct=True),
    Row("logsumexp", lambda a: a.logsumexp(dim=-1), lambda a: np.log(np.exp(a).sum(axis=-1)), MATRIX),
    Row("logsumexp_all", lambda a: ag.logsumexp(a, dim=tuple(range(a.ndim)), keepdim=True),
        lambda a: np.log(np.exp(a).sum(keepdims=True)), UNARY),
    Row("norm", lambda a: a.norm(), lambda a: np.sqrt((a * a).sum()), UNARY, avoid=[0.0]),
    Row("norm_dim", lambda a: ag.norm(a, 2, dim=-1, keepdim=True), lambda a: np.sqrt((a * a).sum(-1, keepdims=True)),
        MATRIX),
    Row("norm_p1", lambda a: a.norm(p=1, dim=0), lambda a: np.abs(a).sum(0), MATRIX, avoid=[0.0]),
    Row("norm_p3", lambda a: a.norm(p=3), lambda a: (np.abs(a) ** 3).sum() ** (1 / 3), UNARY, avoid=[0.0]),
    Row("norm_p_half", lambda a: a.norm(p=0.5, dim=-1), lambda a: (np.abs(a) ** 0.5).sum(-1) ** 2, MATRIX,
        domain=[(0.3, 2)]),
    Row("norm_inf", lambda a: a.norm(p=math.inf, dim=(0, 1)), lambda a: np.abs(a).max(axis=(0, 1)), MATRIX,
        domain=[(0.2, 2)], distinct=True),
    Row("norm_ninf", lambda a: a.norm(p=-math.inf), lambda a: np.abs(a).min(), UNARY, domain=[(-2, -0.2)],
        distinct=True),
    Row("norm_p0", lambda a: a.norm(p=0), lambda a: np.count_nonzero(a) * 1.0, UNARY, avoid=[0.0]),
    Row("cumsum", lambda a: a.cumsum(0), lambda a: np.cumsum(a, axis=0) if a.ndim else a, UNARY),
    Row("cumsum_last", lambda a: ag.cumsum(a, dim=-1), lambda a: np.cumsum(a, axis=-1), MATRIX),
    Row("argmax", lambda a: a.argmax(), np.argmax, UNARY, grad=False, distinct=True),
    Row("argmin_dim", lambda a: a.argmin(dim=-1, keepdim=True), lambda a: a.argmin(axis=-1, keepdims=True), MATRIX,
        grad=False, distinct=True),
    Row("all", lambda a: (a > 0).all(dim=-1), lambda a: (a > 0).all(axis=-1), MATRIX, grad=False, avoid=[0.0]),
    Row("any", lambda a: ag.any(a > 0), lambda a: (a > 0).any(), UNARY, grad=False, avoid=[0.0]),
    # ---- linalg rows (helper A) ----
    Row("mm", ag.mm, np.matmul, [((2, 3), (3, 4)), ((1, 3), (3, 1))]),
    Row("bmm", lambda a, b: a.bmm(b), np.matmul, [((2, 2, 3), (2, 3, 4)), ((1, 1, 2), (1, 2, 1))]),
    Row("dot", ag.dot, np.dot, [((3,), (3,)), ((1,), (1,))]),
    Row("outer", lambda a, b: a.outer(b), np.outer, [((3,), (2,)), ((1,), (4,))]),
    Row("einsum_scores", lambda q, k: ag.einsum("bhqd,bhkd->bhqk", q, k),
        lambda q, k: np.einsum("bhqd,bhkd->bhqk", q, k), [((2, 2, 3, 4), (2, 2, 5, 4)), ((1, 1, 1, 2), (1, 1, 3, 2))]),
    Row("einsum_values", lambda p, v: ag.einsum("bhqk,bhkd->bhqd", p, v),
        lambda p, v: np.einsum("bhqk,bhkd->bhqd", p, v), [((2, 2, 3, 4), (2, 2, 4, 5))]),
    Row("einsum_mm", lambda a, b: ag.einsum("ij,jk->ik", a, b), lambda a, b: a @ b, [((2, 3), (3, 4))]),
    Row("einsum_rowdot", lambda a, b: ag.einsum("bi,bi->b", a, b), lambda a, b: (a * b).sum(-1),
        [((3, 4), (3, 4)), ((1, 4), (3, 4)), ((3, 4), (3, 1))]),
    Row("einsum_outer", lambda a, b: ag.einsum("i,j->ij", [a, b]), np.outer, [((3,), (2,))]),
    Row("einsum_diag", lambda a: ag.einsum("ii->i", a), np.diagonal, one((3, 3), (1, 1))),
    Row("einsum_diag_broadcast", lambda a, b: ag.einsum("iij,ij->ij", a, b), lambda a, b: np.einsum("iij,ij->ij", a, b),
        [((3, 3, 1), (3, 4)), ((3, 3, 4), (1, 4))]),
    Row("einsum_trace", lambda a: ag.einsum("ii", a), np.trace, one((3, 3))),
    Row("einsum_repeat", lambda a, b: ag.einsum("iji,j->ij", a, b), lambda a, b: np.einsum("iji,j->ij", a, b),
        [((3, 2, 3), (2,))]),
    Row("einsum_ellipsis", lambda a, b: ag.einsum("...ij,...jk->...ik", a, b),
        lambda a, b: np.matmul(a, b), [((2, 3, 4), (4, 5)), ((2, 1, 3, 4), (3, 4, 2))]),
    Row("einsum_sum", lambda a: ag.einsum("ij->j", a), lambda a: a.sum(0), one((2, 3), (1, 3))),
    Row("einsum_sum_ellipsis", lambda a: ag.einsum("...i->i", a), lambda a: a.reshape(-1, a.shape[-1]).sum(0),
        one((3,), (2, 3), (2, 1, 3))),
    Row("einsum_implicit", lambda a, b: ag.einsum("ba,ac", a, b), lambda a, b: np.einsum("ba,ac", a, b),
        [((2, 3), (3, 4))]),
    Row("einsum_three", lambda a, b, c: ag.einsum("ij,jk,kl->il", a, b, c), lambda a, b, c: a @ b @ c,
        [((2, 3), (3, 4), (4, 2))]),
    Row("einsum_scalar", lambda a, b: ag.einsum(",i->i", a, b), lambda a, b: a * b, [((), (3,))]),
    Row("matmul", lambda a, b: a @ b, np.matmul,
        [((2, 3), (3, 4)), ((3,), (3, 2)), ((2, 3), (3,)), ((3,), (3,)), ((2, 2, 3), (3, 1)), ((2, 1, 2, 3), (3, 3, 2))]),
    # ---- movement rows (helper B) ----
    Row("reshape", lambda a: a.reshape(-1), lambda a: a.reshape(-1), UNARY),
    Row("permute", lambda a: a.permute(2, 0, 1), lambda a: a.transpose(2, 0, 1), one((2, 1, 3), (2, 3, 4))),
    Row("transpose", lambda a: a.transpose(0, -1), lambda a: np.swapaxes(a, 0, -1), MATRIX),
    Row("expand", lambda a: a.expand(2, 3, 4) if a.ndim else a.expand(2, 3, 4),
        lambda a: np.broadcast_to(a, (2, 3, 4)), one((), (1,), (4,), (3, 1), (1, 3, 4))),
    Row("to_double", lambda a: a.to(ag.float32).to(ag.float64) * 1.0, lambda a: a.astype(np.float32).astype(np.float64),
        UNARY, eps=1e-2, atol=1e-4, keeps_dtype=False),
    Row("clone", lambda a: a.clone(), lambda a: a.copy(), UNARY),
    Row("flatten", lambda a: a.flatten(), lambda a: a.reshape(-1), UNARY),
    Row("flatten_mid", lambda a: ag.flatten(a, 1, 2), lambda a: a.reshape(a.shape[0], -1), one((2, 3, 4), (3, 1, 2))),
    Row("unflatten", lambda a: a.unflatten(-1, (2, -1)), lambda a: a.reshape(a.shape[:-1] + (2, -1)),
        one((4,), (3, 6), (1, 2))),
    Row("squeeze", lambda a: a.squeeze(), np.squeeze, UNARY + one((1, 1))),
    Row("squeeze_dims", lambda a: ag.squeeze(a, (0, -1)),
        lambda a: a.reshape(tuple(s for i, s in enumerate(a.shape) if not (i in (0, a.ndim - 1) and s == 1))),
        one((1, 3, 1), (2, 1), (1, 1), (2, 3))),
    Row("unsqueeze", lambda a: a.unsqueeze(-1), lambda a: np.expand_dims(a, -1), UNARY),
    Row("unsqueeze_0", lambda a: ag.unsqueeze(a, 0), lambda a: a[None], UNARY),
    Row("movedim", lambda a: a.movedim(0, -1), lambda a: np.moveaxis(a, 0, -1), MATRIX),
    Row("movedim_multi", lambda a: ag.movedim(a, (0, 1), (2, 0)), lambda a: np.moveaxis(a, (0, 1), (2, 0)),
        one((2, 3, 4), (1, 2, 1))),
    Row("repeat", lambda a: a.repeat(2, 1, 3), lambda a: np.tile(a, (2, 1, 3)), one((), (3,), (2, 3), (1, 2, 1))),
    Row("tile", lambda a: ag.tile(a, (2,)), lambda a: np.tile(a, 2), one((), (3,), (2, 3))),
    Row("flip", lambda a: a.flip(0), lambda a: np.flip(a, 0), one((3,), (2, 3), (2, 1, 3))),
    Row("flip_dims", lambda a: ag.flip(a, (0, -1)), lambda a: np.flip(a, (0, -1)), MATRIX),
    Row("roll", lambda a: a.roll(1, 0), lambda a: np.roll(a, 1, 0), one((3,), (2, 3), (1, 2))),
    Row("roll_multi", lambda a: ag.roll(a, (1, -2), (0, 1)), lambda a: np.roll(a, (1, -2), (0, 1)),
        one((2, 3), (3, 1, 2))),
    Row("roll_flat", lambda a: a.roll(2), lambda a: np.roll(a, 2), UNARY),
    Row("cat", lambda a, b: ag.cat([a, b], 1), lambda a, b: np.concatenate([a, b], 1),
        [((2, 3), (2, 1)), ((1, 2, 1), (1, 3, 1)), ((2, 0), (2, 2))]),
    Row("cat_three", lambda a, b, c: ag.concatenate((a, b, c), dim=-1), lambda a, b, c: np.concatenate([a, b, c], -1),
        [((1,), (2,), (3,)), ((2, 1), (2, 2), (2, 1))]),
    Row("cat_same", lambda a: ag.cat([a, a * 2.0]), lambda a: np.concatenate([a, a * 2.0]), one((2,), (2, 3))),
    Row("stack", lambda a, b: ag.stack([a, b]), lambda a, b: np.stack([a, b]),
        [((), ()), ((3,), (3,)), ((2, 3), (2, 3))]),
    Row("stack_last", lambda a, b: ag.stack((a, b), dim=-1), lambda a, b: np.stack([a, b], -1),
        [((), ()), ((2, 1), (2, 1))]),
    Row("split", lambda a: a.split(2, dim=-1), lambda a: tuple(a[..., i:i + 2] for i in range(0, a.shape[-1], 2)),
        one((5,), (2, 3), (1, 4), (2, 1))),
    Row("split_sections", lambda a: ag.split(a, [1, 2], 0), lambda a: (a[:1], a[1:]), one((3,), (3, 2))),
    Row("chunk", lambda a: a.chunk(4, dim=1),
        lambda a: tuple(a[:, i:i + -(-a.shape[1] // 4)] for i in range(0, a.shape[1], -(-a.shape[1] // 4))),
        one((2, 3), (3, 5), (1, 1), (2, 8))),
    Row("unbind", lambda a: a.unbind(0), lambda a: tuple(a[i] for i in range(a.shape[0])), one((3,), (2, 3), (1, 2))),
    Row("unbind_dim", lambda a: ag.unbind(a, -1), lambda a: tuple(a[..., i] for i in range(a.shape[-1])), MATRIX),
    Row("iter", lambda a: tuple(a), lambda a: tuple(a), one((2,), (2, 3))),
    Row("narrow", lambda a: a.narrow(-1, 1, 2), lambda a: a[..., 1:3], one((3,), (2, 4))),
    Row("narrow_neg", lambda a: ag.narrow(a, 0, -2, 2), lambda a: a[-2:], one((3,), (2, 4))),
    Row("tril", lambda a: a.tril(), np.tril, MATRIX + one((3, 3))),
    Row("tril_k", lambda a: ag.tril(a, -1), lambda a: np.tril(a, -1), MATRIX),
    Row("triu", lambda a: a.triu(1), lambda a: np.triu(a, 1), MATRIX + one((3, 3))),
    # ---- indexing rows (helper B) ----
    Row("getitem_int", lambda a: a[1], lambda a: a[1], one((3,), (2, 3), (3, 1, 2))),
    Row("getitem_neg_step", lambda a: a[-1, ..., ::2], lambda a: a[-1, ..., ::2], one((2, 3), (3, 1, 4), (2, 1))),
    Row("getitem_slices", lambda a: a[::2, 1:], lambda a: a[::2, 1:], one((3, 3), (4, 2, 1), (1, 1))),
    Row("getitem_rev_step", lambda a: a[::-2], lambda a: a[::-2], one((5,), (3, 2))),
    Row("getitem_none", lambda a: a[None, ..., None], lambda a: a[None, ..., None], UNARY),
    Row("getitem_all", lambda a: a[...], lambda a: a[...], UNARY),
    Row("getitem_repeat", lambda a: a[[0, 2, 0, 0]], lambda a: a[[0, 2, 0, 0]], one((3,), (3, 2))),
    Row("getitem_tensor_index", lambda a: a[ag.tensor([[1, 0], [1, 1]])], lambda a: a[np.array([[1, 0], [1, 1]])],
        one((2,), (2, 3))),
    Row("getitem_mixed", lambda a: a[[0, 1, 1], :, [2, 0, 2]], lambda a: a[[0, 1, 1], :, [2, 0, 2]],
        one((2, 3, 3), (2, 1, 3))),
    Row("getitem_adv_later", lambda a: a[1:, [0, 0], None], lambda a: a[1:, [0, 0], None], one((3, 2), (2, 1, 2))),
    Row("getitem_mask", lambda a: a[a > 0], lambda a: a[a > 0], UNARY, avoid=[0.0]),
    Row("getitem_mask_fixed", lambda a: a[ag.tensor([True, False, True]), 1:],
        lambda a: a[np.array([True, False, True]), 1:], one((3, 2), (3, 3, 1))),
    Row("setitem", lambda a, b: [c := a * 1.0, c.__setitem__((Ellipsis, 1), b), c][-1],
        lambda a, b: [c := a.copy(), c.__setitem__((Ellipsis, 1), b), c][-1],
        [((2, 3), ()), ((2, 3), (2,)), ((3,), ()), ((3,), (1,)), ((2, 2), (1, 2))]),
    Row("setitem_adv", lambda a, b: [c := a * 1.0, c.__setitem__([0, 2], b), c][-1],
        lambda a, b: [c := a.copy(), c.__setitem__([0, 2], b), c][-1], [((3,), ()), ((3, 2), (2, 1))]),
    Row("setitem_mask", lambda a: [c := a * 1.0, c.__setitem__(a.detach() > 0, 0.5), c][-1],
        lambda a: np.where(a > 0, 0.5, a), UNARY, avoid=[0.0]),
    Row("gather", lambda a: a.gather(1, ag.tensor([[0, 0], [2, 1]])),
        lambda a: a[np.arange(2)[:, None], np.array([[0, 0], [2, 1]])], one((2, 3), (3, 4))),
    Row("gather_dim0", lambda a: ag.gather(a, 0, ag.tensor([[[1, 0]], [[1, 1]]])),
        lambda a: np.take_along_axis(a[:, :1, :2], np.array([[[1, 0]], [[1, 1]]]), 0), one((2, 2, 2), (3, 1, 2))),
    Row("scatter_add", lambda a, b: a.scatter_add(0, ag.tensor([[0, 1, 0], [0, 0, 2]]), b),
        lambda a, b: [c := a.copy(), np.add.at(c, (np.array([[0, 1, 0], [0, 0, 2]]), np.arange(3)), b[:2, :3]), c][-1],
        [((3, 3), (2, 3)), ((3, 4), (3, 3))]),
    Row("index_select", lambda a: a.index_select(0, ag.tensor([2, 0, 2])), lambda a: a[[2, 0, 2]], one((3,), (3, 2))),
    Row("index_select_last", lambda a: ag.index_select(a, -1, ag.tensor([1])), lambda a: a[..., [1]], MATRIX),
    Row("masked_fill", lambda a: a.masked_fill(a > 0, -1.5), lambda a: np.where(a > 0, -1.5, a), UNARY, avoid=[0.0]),
    Row("masked_fill_tensor", lambda a, v: ag.masked_fill(a, ag.tensor([True, False, True]), v),
        lambda a, v: np.where([True, False, True], v, a), [((3,), ()), ((2, 3), ())]),
    Row("topk", lambda a: a.topk(2), lambda a: (np.take_along_axis(a, np.argsort(-a, -1)[..., :2], -1),
                                                np.argsort(-a, -1)[..., :2]),
        one((3,), (2, 4), (1, 3)), distinct=True),
    Row("topk_smallest", lambda a: ag.topk(a, 1, dim=0, largest=False),
        lambda a: (np.take_along_axis(a, np.argsort(a, 0)[:1], 0), np.argsort(a, 0)[:1]), MATRIX, distinct=True),
    Row("sort", lambda a: a.sort(), lambda a: (np.sort(a, -1), np.argsort(a, -1)), one((3,), (2, 4), (1,)),
        distinct=True),
    Row("sort_desc", lambda a: ag.sort(a, dim=0, descending=True),
        lambda a: (np.flip(np.sort(a, 0), 0), np.flip(np.argsort(a, 0), 0)), MATRIX, distinct=True),
    # ---- nn_ops rows ----
    Row("affine", lambda x, w, b: nn_ops.Affine.apply(x, w, b), lambda x, w, b: x @ w.T + b,
        [((3, 4), (2, 4), (2,)), ((4,), (2, 4), (2,)), ((2, 3, 4), (5, 4), (5,)), ((1, 4), (1, 4), (1,))]),
    Row("affine_no_bias", lambda x, w: nn_ops.Affine.apply(x, w, None), lambda x, w: x @ w.T,
        [((3, 4), (2, 4)), ((2, 1, 4), (3, 4))]),
    Row("log_softmax", lambda a: nn_ops.log_softmax(a, a.ndim - 1 if a.ndim else None),
        lambda a: a - a.max(-1, keepdims=True) - np.log(np.exp(a - a.max(-1, keepdims=True)).sum(-1, keepdims=True))
        if a.ndim else np.zeros_like(a), UNARY),
    Row("log_softmax_dim0", lambda a: nn_ops.log_softmax(a, 0), lambda a: a - np.log(np.exp(a).sum(0, keepdims=True)),
        MATRIX),
    Row("softmax", lambda a: nn_ops.softmax(a, a.ndim - 1 if a.ndim else None),
        lambda a: np.exp(a) / np.exp(a).sum(-1, keepdims=True) if a.ndim else np.ones_like(a), UNARY),
    Row("softmax_dim1", lambda a: nn_ops.softmax(a, 1), lambda a: np.exp(a) / np.exp(a).sum(1, keepdims=True), MATRIX),
    Row("binary_cross_entropy", nn_ops.binary_cross_entropy,
        lambda p, t: -(t * np.log(p) + (1 - t) * np.log(1 - p)), BINARY, domain=[(0.05, 0.95), (0.0, 1.0)]),
    # ---- pooling rows ----
    Row("max_pool2d", lambda a: pool.max_pool2d(a, 2),
        lambda a: np.lib.stride_tricks.sliding_window_view(a, (2, 2), (-2, -1))[..., ::2, ::2, :, :].max((-2, -1)),
        one((1, 2, 4, 6), (2, 1, 5, 5), (3, 5, 5)), distinct=True),
    Row("max_pool2d_overlap", lambda a: pool.max_pool2d(a, 3, 1),
        lambda a: np.lib.stride_tricks.sliding_window_view(a, (3, 3), (-2, -1)).max((-2, -1)), one((1, 2, 5, 5)),
        distinct=True),
    Row("adaptive_max_pool2d", lambda a: pool.adaptive_max_pool2d(a, (2, 2)),
        lambda a: np.stack([np.stack([a[..., r, c].max((-2, -1)) for c in (slice(0, 3), slice(2, 5))], -1)
                            for r in (slice(0, 3), slice(2, 5))], -2), one((1, 2, 5, 5)), distinct=True),
    Row("pool_scatter", lambda g: pool.PoolScatter.apply(g, np.array([[[[0, 4], [4, 8]]]]), (3, 3), False),
        lambda g: np.array([g[0, 0, 0, 0], 0, 0, 0, g[0, 0, 0, 1] + g[0, 0, 1, 0], 0, 0, 0, g[0, 0, 1, 1]]
                           ).reshape(1, 1, 3, 3), one((1, 1, 2, 2))),
    Row("avg_pool2d", lambda a: pool.avg_pool2d(a, 2),
        lambda a: np.lib.stride_tricks.sliding_window_view(a, (2, 2), (-2, -1))[..., ::2, ::2, :, :].mean((-2, -1)),
        one((1, 2, 4, 6), (2, 1, 5, 5))),
    Row("avg_pool_transpose", lambda g: pool.AvgPoolTranspose.apply(
        g, pool._Geometry("avg_pool2d", (4, 4), (2, 2), (2, 2), (0, 0), (1, 1), False), np.full((2, 2), 4, np.float32)),
        lambda g: np.repeat(np.repeat(g, 2, -2), 2, -1) / 4, one((1, 2, 2, 2), (2, 2, 2))),
    Row("adaptive_avg_pool2d", lambda a: pool.adaptive_avg_pool2d(a, (2, 3)),
        lambda a: np.stack([np.stack([a[..., r, c].mean((-2, -1)) for c in (slice(0, 2), slice(1, 4), slice(3, 5))],
                                     -1) for r in (slice(0, 3), slice(2, 5))], -2), one((1, 2, 5, 5))),
    # ---- conv rows ----
    Row("conv2d", lambda x, w, b: _F.conv2d(x, w, b, padding=1), lambda x, w, b: _ref_conv2d(x, w, b, pad=(1,) * 4),
        [((2, 2, 5, 5), (3, 2, 3, 3), (3,))]),
    Row("conv2d_strided_groups", lambda x, w: _F.conv2d(x, w, stride=2, dilation=(1, 2), groups=2),
        lambda x, w: _ref_conv2d(x, w, stride=(2, 2), dilation=(1, 2), groups=2), [((1, 4, 5, 6), (4, 2, 2, 2))]),
    Row("conv_transpose2d", lambda x, w, b: _F.conv_transpose2d(x, w, b, stride=2, padding=1, output_padding=1),
        lambda x, w, b: _ref_conv_transpose2d(x, w, b, (2, 2), (1, 1), (1, 1)), [((2, 3, 3, 3), (3, 2, 3, 3), (2,))]),
    Row("conv2d_weight_grad", lambda x, gy: _conv.Conv2dWeightGrad.apply(x, gy, _WGEOM),
        lambda x, gy: np.einsum("nchwij,nohw->ocij", np.lib.stride_tricks.sliding_window_view(
            np.pad(x, ((0, 0), (0, 0), (1, 1), (1, 1))), (3, 3), axis=(2, 3)), gy), [((2, 2, 5, 5), (2, 3, 5, 5))]),
    # ---- attention rows (issue 8) ----
    Row("sdpa", lambda q, k, v: _F.scaled_dot_product_attention(q, k, v), lambda q, k, v: _ref_sdpa(q, k, v),
        [((2, 3, 4), (2, 5, 4), (2, 5, 2)), ((3, 4), (3, 4), (3, 4)), ((2, 1, 3, 4), (1, 2, 5, 4), (1, 2, 5, 3))]),
    Row("sdpa_causal_scaled", lambda q, k, v: _F.scaled_dot_product_attention(q, k, v, is_causal=True, scale=0.6),
        lambda q, k, v: _ref_sdpa(q, k, v, keep=np.tril(np.ones((q.shape[-2], k.shape[-2]), bool)), scale=0.6),
        [((2, 4, 3), (2, 4, 3), (2, 4, 2)), ((1, 3), (1, 3), (1, 3))]),
    Row("sdpa_bool_mask_full_row", lambda q, k, v: _F.scaled_dot_product_attention(q, k, v, attn_mask=_SDPA_KEEP),
        lambda q, k, v: _ref_sdpa(q, k, v, keep=_SDPA_KEEP.numpy()), [((2, 3, 4), (2, 5, 4), (2, 5, 2))]),
    Row("sdpa_float_mask", lambda q, k, v, m: _F.scaled_dot_product_attention(q, k, v, attn_mask=m),
        lambda q, k, v, m: _ref_sdpa(q, k, v, add=m), [((2, 3, 4), (2, 5, 4), (2, 5, 2), (3, 5))]),
    Row("layer_norm_last_dim", lambda x, w, b: _attn_ops.layer_norm_last_dim(x, w, b, 1e-5),
        lambda x, w, b: (x - x.mean(-1, keepdims=True)) / np.sqrt(x.var(-1, keepdims=True) + 1e-5) * w + b,
        [((3, 4), (4,), (4,)), ((2, 3, 5), (5,), (5,)), ((2,), (2,), (2,))]),
    Row("layer_norm_last_dim_no_affine", lambda x: _attn_ops.layer_norm_last_dim(x, None, None, 1e-5),
        lambda x: (x - x.mean(-1, keepdims=True)) / np.sqrt(x.var(-1, keepdims=True) + 1e-5), one((2, 3), (4, 1, 3))),
    Row("gelu_fused_tanh", lambda a: _attn_ops.gelu(a, "tanh"),
        lambda a: 0.5 * a * (1 + np.tanh(math.sqrt(2 / math.pi) * (a + 0.044715 * a ** 3))), UNARY),
    Row("gelu_fused_exact", lambda a: _attn_ops.gelu(a, "none"), lambda a: a * (1 + _erf(a / math.sqrt(2))) / 2, UNARY),
    Row("packed_self_attention_causal", lambda qkv: _attn_ops.packed_self_attention(qkv, 2, _attn_ops._causal_keep(4, 4)),
        lambda qkv: _ref_packed(qkv, 2, np.tril(np.ones((4, 4), bool))), one((2, 4, 12), (1, 4, 6))),
    Row("packed_self_attention_full_row", lambda qkv: _attn_ops.packed_self_attention(qkv, 3, _SDPA_KEEP[:, :3].numpy()),
        lambda qkv: _ref_packed(qkv, 3, _SDPA_KEEP[:, :3].numpy()), one((2, 3, 9))),
    # ---- recurrent rows (issue 7): cells, and whole layers (T=3, B=2, F=2, H=2) in both directions ----
    Row("lstm_cell", lambda g, c: _rnn.LSTMCell.apply(g, c), lambda g, c: _rr.lstm_cell(g, c), [((2, 8), (2, 2)), ((1, 4), (1, 1))]),
    Row("gru_cell", lambda gx, gh, h: _rnn.GRUCell.apply(gx, gh, h),
        lambda gx, gh, h: _rr.gru_cell(gx, gh, h), [((2, 6), (2, 6), (2, 2))]),
    Row("lstm_sequence", lambda xp_, wh, h, c: _rnn.LSTMSequence.apply(xp_, wh, h, c, False, False),
        lambda xp_, wh, h, c: _rr.lstm_layer(xp_, np.eye(xp_.shape[-1]), wh, None, h, c),
        [((3, 2, 8), (8, 2), (2, 2), (2, 2))], domain=[(-1, 1)]),
    Row("lstm_sequence_bf_reverse", lambda xp_, wh, h, c: _rnn.LSTMSequence.apply(xp_, wh, h, c, True, True),
        lambda xp_, wh, h, c: _rr.lstm_layer(xp_, np.eye(xp_.shape[-1]), wh, None, h, c, True, True),
        [((2, 3, 8), (8, 2), (2, 2), (2, 2))], domain=[(-1, 1)]),
    Row("gru_sequence", lambda x, h, wh, b: _rnn.GRUSequence.apply(x, h, wh, b, False, False),
        lambda x, h, wh, b: _rr.gru_layer(x, h, wh, b), [((3, 2, 6), (2, 2), (6, 2), (6,))], domain=[(-1, 1)]),
    Row("gru_sequence_bf_reverse", lambda x, h, wh, b: _rnn.GRUSequence.apply(x, h, wh, b, True, True),
        lambda x, h, wh, b: _rr.gru_layer(x, h, wh, b, True, True), [((2, 3, 6), (2, 2), (6, 2), (6,))],
        domain=[(-1, 1)]),
    Row("rnn_sequence_tanh", lambda x, h, wh: _rnn.RNNSequence.apply(x, h, wh, "tanh", False, True),
        lambda x, h, wh: _rr.rnn_layer(x, h, wh, "tanh", False, True), [((3, 2, 2), (2, 2), (2, 2))],
        domain=[(-1, 1)]),
    Row("rnn_sequence_relu", lambda x, h, wh: _rnn.RNNSequence.apply(x, h, wh, "relu", True, False),
        lambda x, h, wh: _rr.rnn_layer(x, h, wh, "relu", True, False), [((2, 3, 2), (2, 2), (2, 2))],
        domain=[(0.2, 1)]),
    # ---- generative rows (issue 9): the fused GAN hot path ----
    Row("leaky_relu", lambda a: nn_ops.leaky_relu(a, 0.2), lambda a: np.where(a > 0, a, 0.2 * a), UNARY,
        avoid=(0.0,)),
    Row("binary_cross_entropy_with_logits", nn_ops.binary_cross_entropy_with_logits,
        lambda x, t: (1 - t) * x + np.logaddexp(0, -x), BINARY, domain=[(-4.0, 4.0), (0.0, 1.0)]),
]

# recurrent (issue 7): the fused primitives and their step-by-step NumPy references
from autograd_core.ops import rnn as _rnn  # noqa: E402
import rnn_reference as _rr  # noqa: E402

# attention (issue 8): a NumPy reference and a bool mask with one fully masked row (it must give 0, not NaN)
from autograd_core.ops import attention as _attn_ops  # noqa: E402
from test_attention import ref_sdpa as _ref_sdpa  # noqa: E402
def _ref_packed(qkv, nh, keep):
    """(B, T, 3C) -> heads -> ref_sdpa -> (B, T, C)."""
    B, T, C3 = qkv.shape
    q, k, v = (qkv[..., i * C3 // 3:(i + 1) * C3 // 3].reshape(B, T, nh, -1).transpose(0, 2, 1, 3) for i in range(3))
    return _ref_sdpa(q, k, v, keep=keep).transpose(0, 2, 1, 3).reshape(B, T, C3 // 3)


_SDPA_KEEP = ag.tensor(np.array([[1, 0, 1, 1, 0], [0, 0, 0, 0, 0], [1, 1, 1, 0, 1]], bool))

_WGEOM = _conv._Geom((5, 5), (5, 5), (3, 3), (1, 1), (1, 1), (1, 1), 1)  # 3x3 conv, padding 1, on 5x5

# Functions whose forward/backward are checked elsewhere (and why): none yet.
COVERED_ELSEWHERE = {}


@pytest.mark.parametrize("row,shapes", all_cases(ROWS), ids=[case_id(r, s) for r, s in all_cases(ROWS)])
def test_forward_matches_numpy(row, shapes):
    xs = row.inputs(shapes)
    out = row.fn(*xs)
    if row.ref is None:
        return
    want = row.ref(*[x.detach().numpy() for x in xs])
    outs = out if isinstance(out, tuple) else (out,)
    wants = want if isinstance(want, tuple) else (want,)
    for o, w in zip(outs, wants):
        assert o.shape == np.shape(w), f"{row.name}: shape {o.shape} != reference {np.shape(w)}"
        np.testing.assert_allclose(o.detach().numpy(), w, rtol=1e-6, atol=1e-7, err_msg=row.name)


@pytest.mark.parametrize("row,shapes", all_cases([r for r in ROWS if r.grad]),
                         ids=[case_id(r, s) for r, s in all_cases([r for r in ROWS if r.grad])])
def test_gradcheck(row, shapes):
    xs = row.inputs(shapes)
    assert ag.gradcheck(row.fn, xs, eps=row.eps, atol=row.atol, rtol=row.rtol)


@pytest.mark.parametrize("row,shapes", all_cases([r for r in ROWS if r.grad and r.gradgrad]),
                         ids=[case_id(r, s) for r, s in all_cases([r for r in ROWS if r.grad and r.gradgrad])])
def test_gradgradcheck(row, shapes):
    xs = row.inputs(shapes)
    assert ag.gradgradcheck(row.fn, xs, eps=row.eps, atol=row.atol, rtol=row.rtol)


def test_float32_inputs_stay_float32():
    for row in [r for r in ROWS if r.keeps_dtype]:
        xs = row.inputs(row.shapes[-1], dtype=np.float32)
        out = row.fn(*xs)
        for o in (out if isinstance(out, tuple) else (out,)):
            if o.dtype.kind == "f":
                assert o.dtype == np.float32, f"{row.name}: float32 inputs gave {o.dtype}"


def test_every_function_has_a_row():
    """Guard: a new primitive must get a row (the table is walked to see which primitives each row records)."""
    covered = set()
    for row in ROWS:
        for shapes in row.shapes:
            covered |= graph_functions(row.fn(*row.inputs(shapes)))
    missing = sorted(f.__name__ for f in library_functions() - covered if f.__name__ not in COVERED_ELSEWHERE)
    assert not missing, f"Function subclasses without an op-table row: {missing}"


def _elementwise_calls(cls, x, y):
    """The ways an elementwise primitive is called in the hot path: tensor-tensor, and with a number."""
    n_in = len(inspect.signature(cls.forward).parameters) - 1
    if n_in == 1:
        return [(x,)]
    return [(x, y), (x, 1.5), (1.5, y)] if cls._number_operands else [(x, y)]


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_elementwise_primitives_give_gradients_of_their_inputs_shape_and_dtype(dtype):
    """Function._elementwise lets the reverse pass skip its shape and dtype checks on equal-shape inputs:
    each such primitive's backward must return gradients of the inputs' shape and dtype."""
    classes = sorted((c for c in library_functions() if c._elementwise), key=lambda c: c.__name__)
    assert len(classes) >= 10  # why: the guard means nothing if the flag went missing everywhere
    rng = np.random.default_rng(0)
    for cls in classes:
        x = ag.tensor(rng.uniform(0.5, 1.5, (3, 4)).astype(dtype), requires_grad=True)
        y = ag.tensor(rng.uniform(0.5, 1.5, (3, 4)).astype(dtype), requires_grad=True)
        for args in _elementwise_calls(cls, x, y):
            out = cls._apply1(*args) if len(args) == 1 else cls._apply2(*args)
            node = out.grad_fn
            assert all(e is None or e[4] for e in node._edges), f"{cls.__name__}: edges not marked exact"
            grads = type(node).backward(node, np.ones(out.shape, dtype))
            grads = grads if isinstance(grads, tuple) else (grads,)
            for arg, g in zip(args, grads):
                if isinstance(arg, ag.Tensor):
                    assert g is not None and np.shape(g) == (3, 4), f"{cls.__name__}{args}: grad shape {np.shape(g)}"
                    assert np.asarray(g).dtype == dtype, f"{cls.__name__}: {dtype.__name__} input, {np.asarray(g).dtype} grad"


def test_broadcast_or_mixed_dtype_edges_are_checked():
    """Edges of broadcasting or mixed-dtype elementwise ops are not exact: the reverse pass sums and casts."""
    a = ag.tensor(np.ones((3, 1), np.float32), requires_grad=True)
    b = ag.tensor(np.ones((1, 4), np.float32), requires_grad=True)
    c = ag.tensor(np.ones((3, 4), np.float64), requires_grad=True)
    assert not any(e[4] for e in (a * b).grad_fn._edges)
    assert not any(e[4] for e in (a * c).grad_fn._edges)
    (a * b * 2.0).sum().backward()
    assert a.grad.shape == (3, 1) and b.grad.shape == (1, 4)
    np.testing.assert_array_equal(a.grad.numpy(), np.full((3, 1), 8.0, np.float32))
    a.grad = None
    (a * c).sum().backward()
    assert a.grad.dtype == np.float32 and a.grad.shape == (3, 1)


@pytest.mark.parametrize("shape,dtype", [
    ((3, 4096), np.float32),          # whole blocks
    ((5, 1000, 3), np.float32),       # blocks and a partial last block
    ((4097,), np.float64),
    ((7,), np.float32),               # smaller than one block: the plain path
])
@pytest.mark.parametrize("name,fn,ref", [
    ("relu", ag.relu, lambda x: np.maximum(x, 0)),
    ("clamp min", lambda t: ag.clamp(t, min=-0.5), lambda x: np.maximum(x, -0.5)),
    ("clamp max", lambda t: ag.clamp(t, max=0.25), lambda x: np.minimum(x, 0.25)),
    ("clamp both", lambda t: ag.clamp(t, -0.5, 0.25), lambda x: np.minimum(np.maximum(x, -0.5), 0.25)),
])
def test_blocked_scalar_extremes_equal_numpy_with_nan_inf_and_signed_zero(shape, dtype, name, fn, ref):
    """ReLU's and clamp's forward compare against a block filled with the number (a faster NumPy loop):
    the same values, dtype and signs of zero as NumPy's maximum / minimum with the scalar."""
    x = np.random.default_rng(3).standard_normal(shape).astype(dtype)
    flat = x.reshape(-1)
    flat[[0, 1, 2, -1]] = [np.nan, -np.inf, -0.0, np.inf]
    y = fn(ag.tensor(x)).numpy()
    expected = ref(x)
    np.testing.assert_array_equal(y, expected)
    assert y.dtype == dtype and np.array_equal(np.signbit(y), np.signbit(expected))
    strided = fn(ag.tensor(x)[..., ::2]).numpy()  # not contiguous: the plain path
    np.testing.assert_array_equal(strided, ref(x[..., ::2]))
