"""F.scaled_dot_product_attention: values vs NumPy (masks, causal, scale, fully masked rows), gradients, errors."""
import math

import numpy as np
import pytest

import autograd_core as ag
import nn.functional as F
from autograd_core.ops import attention as A


def ref_sdpa(q, k, v, keep=None, add=None, scale=None):
    """NumPy softmax(q k^T scale + add, keep) v in float64; rows with nothing to attend to give 0 (as PyTorch)."""
    scale = 1 / math.sqrt(q.shape[-1]) if scale is None else scale
    s = q @ np.swapaxes(k, -1, -2) * scale
    if add is not None:
        s = s + add
    if keep is not None:
        s = np.where(keep, s, -np.inf)
    m = s.max(-1, keepdims=True)
    m = np.where(np.isfinite(m), m, 0)
    e = np.exp(s - m)
    tot = e.sum(-1, keepdims=True)
    p = e / np.where(tot == 0, 1, tot)
    return p @ v


def _qkv(shapes, seed=0, dtype=np.float64, grad=True):
    rng = np.random.default_rng(seed)
    return [ag.tensor(rng.standard_normal(s).astype(dtype), requires_grad=grad) for s in shapes]


SHAPES = [((2, 3, 4), (2, 5, 4), (2, 5, 2)),          # L != S, Ev != E
          ((3, 4), (3, 4), (3, 4)),                   # no batch dims
          ((2, 1, 3, 4), (1, 2, 5, 4), (1, 2, 5, 3))]  # broadcast batch dims


@pytest.mark.parametrize("shapes", SHAPES)
def test_plain_matches_numpy(shapes):
    q, k, v = _qkv(shapes)
    got = F.scaled_dot_product_attention(q, k, v).detach().numpy()
    np.testing.assert_allclose(got, ref_sdpa(*(t.detach().numpy() for t in (q, k, v))), rtol=1e-10, atol=1e-12)


@pytest.mark.parametrize("shapes", SHAPES)
def test_masks_causal_and_scale_match_numpy(shapes):
    q, k, v = _qkv(shapes)
    qa, ka, va = (t.detach().numpy() for t in (q, k, v))
    L, S = q.shape[-2], k.shape[-2]
    rng = np.random.default_rng(1)
    keep = rng.random((L, S)) > 0.3
    add = rng.standard_normal((L, S))
    causal = np.tril(np.ones((L, S), bool))
    cases = [(dict(attn_mask=ag.tensor(keep)), dict(keep=keep)),
             (dict(attn_mask=ag.tensor(add)), dict(add=add)),
             (dict(is_causal=True), dict(keep=causal)),
             (dict(scale=0.37), dict(scale=0.37)),
             (dict(attn_mask=ag.tensor(np.where(causal, 0.0, -np.inf))), dict(keep=causal))]
    for ours, ref in cases:
        got = F.scaled_dot_product_attention(q, k, v, **ours).detach().numpy()
        np.testing.assert_allclose(got, ref_sdpa(qa, ka, va, **ref), rtol=1e-10, atol=1e-12, err_msg=str(ours))


def test_fully_masked_rows_give_zeros_not_nan():
    q, k, v = _qkv(SHAPES[0])
    keep = np.ones((3, 5), bool)
    keep[1] = False
    for mask in (ag.tensor(keep), ag.tensor(np.where(keep, 0.0, -np.inf))):
        out = F.scaled_dot_product_attention(q, k, v, attn_mask=mask)
        assert np.isfinite(out.detach().numpy()).all()
        np.testing.assert_array_equal(out.detach().numpy()[:, 1], 0.0)
        out.sum().backward()
        for t in (q, k, v):
            assert np.isfinite(t.grad.numpy()).all()
            t.grad = None
    # and the gradient of q's masked row is 0
    F.scaled_dot_product_attention(q, k, v, attn_mask=ag.tensor(keep)).sum().backward()
    np.testing.assert_array_equal(q.grad.numpy()[:, 1], 0.0)


def test_strict_course_mask_first_row_is_zero():
    """The course's strict mask j < i leaves row 0 with no key: zeros there, finite everywhere."""
    q, k, v = _qkv(((4, 3), (4, 3), (4, 3)))
    strict = np.tril(np.ones((4, 4), bool), -1)
    out = F.scaled_dot_product_attention(q, k, v, attn_mask=ag.tensor(strict)).detach().numpy()
    np.testing.assert_array_equal(out[0], 0.0)
    np.testing.assert_allclose(out[1], v.detach().numpy()[0])


@pytest.mark.parametrize("kwargs", [{}, {"is_causal": True}, {"scale": 0.5}, {"mask": "bool"}, {"mask": "float"}])
def test_gradcheck_and_gradgradcheck(kwargs):
    q, k, v = _qkv(SHAPES[0])
    kwargs = dict(kwargs)
    inputs = [q, k, v]
    kind = kwargs.pop("mask", None)
    if kind == "bool":
        keep = np.random.default_rng(2).random((3, 5)) > 0.4
        keep[0] = False  # a fully masked row too
        kwargs["attn_mask"] = ag.tensor(keep)
    if kind == "float":
        inputs.append(ag.tensor(np.random.default_rng(3).standard_normal((3, 5)), requires_grad=True))

    def fn(q, k, v, *m):
        return F.scaled_dot_product_attention(q, k, v, *m, **kwargs)
    assert ag.gradcheck(fn, inputs)
    assert ag.gradgradcheck(fn, inputs)


def test_dropout_on_probabilities():
    q, k, v = _qkv(SHAPES[0])
    assert np.all(F.scaled_dot_product_attention(q, k, v, dropout_p=1.0).detach().numpy() == 0)

    def fn(q, k, v):
        ag.manual_seed(5)
        return F.scaled_dot_product_attention(q, k, v, dropout_p=0.4)
    a, b = fn(q, k, v), fn(q, k, v)
    np.testing.assert_array_equal(a.detach().numpy(), b.detach().numpy())
    assert not np.allclose(a.detach().numpy(), F.scaled_dot_product_attention(q, k, v).detach().numpy())
    assert ag.gradcheck(fn, [q, k, v])
    # the mask multiplies probabilities: each output row is a combination of v rows with weights p * 0 or p / 0.6
    ag.manual_seed(5)
    drop = (ag.rand(2, 3, 5, dtype=ag.float64).numpy() >= 0.4) / 0.6
    qa, ka, va = (t.detach().numpy() for t in (q, k, v))
    s = qa @ np.swapaxes(ka, -1, -2) / 2
    p = np.exp(s - s.max(-1, keepdims=True))
    p /= p.sum(-1, keepdims=True)
    np.testing.assert_allclose(a.detach().numpy(), (p * drop) @ va, rtol=1e-10)


def test_float32_stays_float32_and_saves_only_the_probabilities():
    q, k, v = _qkv(SHAPES[0], dtype=np.float32)
    out = F.scaled_dot_product_attention(q, k, v, is_causal=True)
    assert out.dtype == np.float32
    saved = out.grad_fn.saved_tensors
    arrays = [a for a in saved if isinstance(a, np.ndarray)]
    # q, k, v and one (..., L, S) probability array: no scores, no exp, no masks kept
    assert sorted(a.shape for a in arrays) == sorted([(2, 3, 4), (2, 5, 4), (2, 5, 2), (2, 3, 5)])


def test_errors_name_the_op_and_shapes():
    q, k, v = _qkv(SHAPES[0])
    with pytest.raises(RuntimeError, match=r"attn_mask of shape \(4, 5\).*\(2, 3, 5\)"):
        F.scaled_dot_product_attention(q, k, v, attn_mask=ag.ones(4, 5, dtype=ag.bool))
    with pytest.raises(ValueError, match="scaled_dot_product_attention"):
        F.scaled_dot_product_attention(q, _qkv([(2, 5, 3)])[0], v)
    with pytest.raises(RuntimeError, match="is_causal"):
        F.scaled_dot_product_attention(q, k, v, attn_mask=ag.ones(3, 5, dtype=ag.bool), is_causal=True)
    with pytest.raises(TypeError, match="attn_mask"):
        F.scaled_dot_product_attention(q, k, v, attn_mask=ag.ones(3, 5, dtype=ag.int64))


def test_causal_no_leakage():
    """Changing keys/values after position t leaves outputs up to t unchanged."""
    q, k, v = _qkv(((6, 4), (6, 4), (6, 4)), grad=False)
    out = F.scaled_dot_product_attention(q, k, v, is_causal=True).numpy()
    k2, v2 = k.clone(), v.clone()
    k2[4:] = 10.0
    v2[4:] = -7.0
    out2 = F.scaled_dot_product_attention(q, k2, v2, is_causal=True).numpy()
    np.testing.assert_array_equal(out[:4], out2[:4])
    assert not np.allclose(out[4:], out2[4:])


def test_fused_layer_norm_and_gelu_match_composites():
    rng = np.random.default_rng(0)
    x = ag.tensor(rng.standard_normal((3, 5, 8)))
    w, b = ag.tensor(rng.standard_normal(8)), ag.tensor(rng.standard_normal(8))
    np.testing.assert_allclose(A.layer_norm_last_dim(x, w, b, 1e-5).numpy(), F.layer_norm(x, (8,), w, b).numpy(),
                               rtol=1e-10, atol=1e-12)
    for approximate in ("none", "tanh"):
        np.testing.assert_allclose(A.gelu(x, approximate).numpy(), F.gelu(x, approximate=approximate).numpy(),
                                   rtol=1e-10, atol=1e-12)


def test_against_torch():
    torch = pytest.importorskip("torch")
    q, k, v = _qkv(SHAPES[2], dtype=np.float32)
    tq, tk, tv = (torch.tensor(t.detach().numpy(), requires_grad=True) for t in (q, k, v))
    keep = np.random.default_rng(4).random((3, 5)) > 0.5
    keep[2] = False
    for ours, theirs in [(dict(), dict()), (dict(is_causal=True), dict(is_causal=True)),
                         (dict(attn_mask=ag.tensor(keep)), dict(attn_mask=torch.tensor(keep))),
                         (dict(scale=0.2), dict(scale=0.2))]:
        o = F.scaled_dot_product_attention(q, k, v, **ours)
        t = torch.nn.functional.scaled_dot_product_attention(tq, tk, tv, **theirs)
        np.testing.assert_allclose(o.detach().numpy(), t.detach().numpy(), rtol=1e-5, atol=1e-6)
        o.sum().backward()
        t.sum().backward()
        for a, b in ((q, tq), (k, tk), (v, tv)):
            np.testing.assert_allclose(a.grad.numpy(), b.grad.numpy(), rtol=1e-4, atol=1e-5)
            a.grad, b.grad = None, None
