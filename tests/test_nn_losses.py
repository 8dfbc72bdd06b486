"""Losses: values vs NumPy formulas, gradients for every reduction, stability, errors, modules, PyTorch cross-checks."""
import numpy as np
import pytest

import autograd_core as ag
import nn
import nn.functional as F

REDUCTIONS = ["mean", "sum", "none"]
RNG = np.random.default_rng(0)


def _red(loss, reduction):
    return {"mean": np.mean, "sum": np.sum, "none": lambda v: v}[reduction](loss)


def _log_softmax(x, axis=1):
    z = x - x.max(axis=axis, keepdims=True)
    return z - np.log(np.exp(z).sum(axis=axis, keepdims=True))


def _logsig(x):
    return -np.logaddexp(0, -x)


X = RNG.normal(size=(4, 3))
T = RNG.normal(size=(4, 3))
P = RNG.uniform(0.05, 0.95, size=(4, 3))
B = (RNG.uniform(size=(4, 3)) > 0.5).astype(float)
LOGP = _log_softmax(RNG.normal(size=(4, 3)))
Q = np.exp(_log_softmax(RNG.normal(size=(4, 3))))
W3 = np.array([0.5, 2.0, 1.5])

# name, function(input, target, reduction), reference(x, t, reduction), input, target
POINTWISE = [
    ("mse", lambda x, t, r: F.mse_loss(x, t, reduction=r), lambda x, t, r: _red((x - t) ** 2, r), X, T),
    ("l1", lambda x, t, r: F.l1_loss(x, t, reduction=r), lambda x, t, r: _red(np.abs(x - t), r), X, T),
    ("smooth_l1", lambda x, t, r: F.smooth_l1_loss(x, t, reduction=r, beta=0.8),
     lambda x, t, r: _red(np.where(np.abs(x - t) < 0.8, 0.5 * (x - t) ** 2 / 0.8, np.abs(x - t) - 0.4), r), X, T),
    ("huber", lambda x, t, r: F.huber_loss(x, t, reduction=r, delta=0.7),
     lambda x, t, r: _red(np.where(np.abs(x - t) < 0.7, 0.5 * (x - t) ** 2, 0.7 * (np.abs(x - t) - 0.35)), r), X, T),
    ("bce", lambda x, t, r: F.binary_cross_entropy(x, t, reduction=r),
     lambda x, t, r: _red(-(t * np.log(x) + (1 - t) * np.log(1 - x)), r), P, B),
    ("bce_weight", lambda x, t, r: F.binary_cross_entropy(x, t, weight=ag.tensor(W3), reduction=r),
     lambda x, t, r: _red(-W3 * (t * np.log(x) + (1 - t) * np.log(1 - x)), r), P, P[::-1].copy()),
    ("bce_logits", lambda x, t, r: F.binary_cross_entropy_with_logits(x, t, reduction=r),
     lambda x, t, r: _red(-(t * _logsig(x) + (1 - t) * _logsig(-x)), r), X, B),
    ("bce_logits_pos_weight", lambda x, t, r: F.binary_cross_entropy_with_logits(
        x, t, weight=ag.tensor([[1.0], [2.0], [0.5], [1.0]]), pos_weight=ag.tensor(W3), reduction=r),
     lambda x, t, r: _red(-np.array([[1.0], [2.0], [0.5], [1.0]]) * (W3 * t * _logsig(x) + (1 - t) * _logsig(-x)), r),
     X, P),
    ("kl_div", lambda x, t, r: F.kl_div(x, t, reduction=r), lambda x, t, r: _red(t * (np.log(t) - x), r), LOGP, Q),
    ("kl_div_log_target", lambda x, t, r: F.kl_div(x, ag.log(t), reduction=r, log_target=True),
     lambda x, t, r: _red(t * (np.log(t) - x), r), LOGP, Q),
]


@pytest.mark.parametrize("reduction", REDUCTIONS)
@pytest.mark.parametrize("name,fn,ref,x,t", POINTWISE, ids=[p[0] for p in POINTWISE])
def test_pointwise_losses(name, fn, ref, x, t, reduction):
    xi, ti = ag.tensor(x, requires_grad=True), ag.tensor(t, requires_grad=True)
    out = fn(xi, ti, reduction)
    want = ref(x, t, reduction)
    assert out.shape == np.shape(want)
    np.testing.assert_allclose(out.detach().numpy(), want, rtol=1e-10, atol=1e-12)
    assert ag.gradcheck(lambda a, b: fn(a, b, reduction), (xi, ti))
    assert ag.gradgradcheck(lambda a: fn(a, ti.detach(), reduction), (xi,))


def test_kl_div_batchmean_and_zero_targets():
    x, t = ag.tensor(LOGP, requires_grad=True), ag.tensor(Q)
    np.testing.assert_allclose(F.kl_div(x, t, reduction="batchmean").item(), (Q * (np.log(Q) - LOGP)).sum() / 4)
    t0 = ag.tensor([[0.0, 1.0]])
    loss = F.kl_div(ag.tensor([[-1.0, -0.5]], requires_grad=True), t0, reduction="sum")
    assert loss.item() == pytest.approx(0.5)                 # 0 * log 0 counts as 0
    m = nn.KLDivLoss(reduction="batchmean", log_target=True)
    assert m.reduction == "batchmean"
    with pytest.raises(ValueError, match="batchmean"):
        F.kl_div(x, t, reduction="avg")


# ---- cross-entropy and nll ------------------------------------------------------------------

def _ce_ref(x, t, weight=None, ignore_index=-100, reduction="mean", ls=0.0):
    """PyTorch's formula, for class indices, (N, C) or (N, C, d)."""
    c = x.shape[1]
    logp = _log_softmax(x, 1)
    w = np.ones(c) if weight is None else weight
    valid = t != ignore_index
    ts = np.where(valid, t, 0)
    picked = np.take_along_axis(logp, ts[:, None], 1)[:, 0]
    wt = w[ts] * valid
    nll = -picked * wt
    smooth = -(logp * w.reshape((c,) + (1,) * (x.ndim - 2))).sum(1) * valid
    if reduction == "mean":
        nll, smooth = nll.sum() / wt.sum(), smooth.sum() / (wt.sum() if weight is not None else valid.sum())
    elif reduction == "sum":
        nll, smooth = nll.sum(), smooth.sum()
    return (1 - ls) * nll + ls / c * smooth


CE_CASES = [
    ("plain", {}, (5, 4)),
    ("weight", {"weight": np.array([0.2, 1.0, 3.0, 0.7])}, (5, 4)),
    ("ignore", {"ignore_index": 1}, (6, 4)),
    ("weight_ignore", {"weight": np.array([0.2, 1.0, 3.0, 0.7]), "ignore_index": 2}, (6, 4)),
    ("smoothing", {"label_smoothing": 0.2}, (5, 4)),
    ("all", {"weight": np.array([0.2, 1.0, 3.0, 0.7]), "ignore_index": 0, "label_smoothing": 0.3}, (6, 4)),
    ("spatial", {}, (3, 4, 2)),
    ("spatial_all", {"weight": np.array([1.0, 2.0, 0.5, 1.5]), "ignore_index": 3, "label_smoothing": 0.1},
     (3, 4, 5)),
]


@pytest.mark.parametrize("reduction", REDUCTIONS)
@pytest.mark.parametrize("name,kw,shape", CE_CASES, ids=[c[0] for c in CE_CASES])
def test_cross_entropy_class_indices(name, kw, shape, reduction):
    rng = np.random.default_rng(1)
    x = rng.normal(size=shape) * 2
    t = rng.integers(0, shape[1], size=(shape[0],) + shape[2:])
    t.flat[0] = kw.get("ignore_index", 0) if "ignore_index" in kw else t.flat[0]
    args = {k: (ag.tensor(v) if k == "weight" else v) for k, v in kw.items()}
    xi = ag.tensor(x, requires_grad=True)
    out = F.cross_entropy(xi, ag.tensor(t), reduction=reduction, **args)
    want = _ce_ref(x, t, kw.get("weight"), kw.get("ignore_index", -100), reduction, kw.get("label_smoothing", 0.0))
    np.testing.assert_allclose(out.detach().numpy(), want, rtol=1e-10, atol=1e-12)
    fn = lambda a: F.cross_entropy(a, ag.tensor(t), reduction=reduction, **args)  # noqa: E731
    assert ag.gradcheck(fn, (xi,))
    assert ag.gradgradcheck(fn, (xi,))
    if "label_smoothing" not in kw:
        nll = F.nll_loss(F.log_softmax(xi, 1), ag.tensor(t), reduction=reduction,
                         **{k: v for k, v in args.items() if k != "label_smoothing"})
        np.testing.assert_allclose(nll.detach().numpy(), want, rtol=1e-10, atol=1e-12)


def test_cross_entropy_single_sample_and_probabilities():
    x = ag.tensor([1.0, 2.0, 0.5], dtype=ag.float64, requires_grad=True)
    assert F.cross_entropy(x, ag.tensor(1)).item() == pytest.approx(-_log_softmax(x.detach().numpy()[None])[0, 1])
    rng = np.random.default_rng(2)
    a = rng.normal(size=(4, 3, 2))
    probs = np.exp(_log_softmax(rng.normal(size=(4, 3, 2))))
    w = np.array([1.0, 0.5, 2.0])
    for reduction in REDUCTIONS:
        for weight in (None, w):
            for ls in (0.0, 0.25):
                pt = probs * (1 - ls) + ls / 3
                per = -(_log_softmax(a) * pt * (1 if weight is None else w[:, None])).sum(1)
                want = per.mean() if reduction == "mean" else _red(per, reduction)
                xi = ag.tensor(a, requires_grad=True)
                wt = None if weight is None else ag.tensor(weight)
                fn = lambda t: F.cross_entropy(t, ag.tensor(probs), wt, reduction=reduction,  # noqa: E731
                                               label_smoothing=ls)
                np.testing.assert_allclose(fn(xi).detach().numpy(), want, rtol=1e-10)
                assert ag.gradcheck(fn, (xi,))


def test_cross_entropy_one_hot_equals_class_indices():
    x = ag.randn(5, 4, dtype=ag.float64, requires_grad=True)
    t = ag.tensor([0, 3, 1, 1, 2])
    a = F.cross_entropy(x, t)
    b = F.cross_entropy(x, F.one_hot(t, 4).double())
    assert a.item() == pytest.approx(b.item())


def test_softmax_cross_entropy_gradient_is_softmax_minus_target_over_p():
    # the course: dE/dxi_i = (y_i - d_i) / p for softmax outputs y and one-hot targets d over p examples
    x = ag.randn(6, 4, dtype=ag.float64, requires_grad=True)
    t = ag.tensor([0, 1, 2, 3, 0, 1])
    F.cross_entropy(x, t).backward()
    y = np.exp(_log_softmax(x.detach().numpy()))
    d = np.eye(4)[t.numpy()]
    np.testing.assert_allclose(x.grad.numpy(), (y - d) / 6, rtol=1e-10)


def test_bce_gradient_from_the_course():
    # with cross-entropy on a sigmoid output y = sigmoid(w x): d=1 gives -(1 - y) x, d=0 gives y x
    w = ag.tensor([0.3], dtype=ag.float64, requires_grad=True)
    x = 2.0
    for d in (1.0, 0.0):
        w.grad = None
        y = ag.sigmoid(w * x)
        F.binary_cross_entropy(y, ag.tensor([d], dtype=ag.float64), reduction="sum").backward()
        yv = 1 / (1 + np.exp(-0.6))
        assert w.grad.item() == pytest.approx(-(1 - yv) * x if d == 1 else yv * x)


@pytest.mark.parametrize("dtype", [ag.float32, ag.float64])
def test_losses_stable_at_huge_logits(dtype):
    x = ag.tensor([[1e4, -1e4, 0.0], [-1e4, 1e4, 5.0]], dtype=dtype, requires_grad=True)
    t = ag.tensor([1, 1])
    checks = [
        lambda: F.cross_entropy(x, t),
        lambda: F.cross_entropy(x, t, label_smoothing=0.1, weight=ag.tensor([1.0, 2.0, 3.0], dtype=dtype)),
        lambda: F.cross_entropy(x, F.softmax(x.detach() * 0, 1)),
        lambda: F.nll_loss(F.log_softmax(x, 1), t),
        lambda: F.binary_cross_entropy_with_logits(x, ag.ones(2, 3, dtype=dtype)),
        lambda: F.binary_cross_entropy_with_logits(x, ag.zeros(2, 3, dtype=dtype), pos_weight=ag.tensor([2.0])),
        lambda: F.kl_div(F.log_softmax(x, 1), F.softmax(x.detach().flip(1), 1), reduction="batchmean"),
    ]
    for i, make in enumerate(checks):
        x.grad = None
        loss = make()
        assert loss.dtype == dtype
        assert np.isfinite(loss.item()), i
        loss.backward()
        assert np.isfinite(x.grad.numpy()).all(), i
    assert F.cross_entropy(x, t).item() == pytest.approx(1e4, rel=1e-6)     # row 0: 1e4 - (-1e4) / 2 rows


def test_bce_clamps_log_at_minus_100():
    p = ag.tensor([0.0, 1.0, 0.0, 1.0], dtype=ag.float64, requires_grad=True)
    t = ag.tensor([1.0, 0.0, 0.0, 1.0], dtype=ag.float64)
    loss = F.binary_cross_entropy(p, t, reduction="none")
    assert loss.tolist() == [100.0, 100.0, 0.0, 0.0]
    loss.sum().backward()
    assert np.isfinite(p.grad.numpy()).all()
    assert p.grad.numpy()[0] == pytest.approx(-1e12) and p.grad.numpy()[1] == pytest.approx(1e12)


def test_bce_with_logits_gradient_at_zero():
    x = ag.zeros(3, dtype=ag.float64, requires_grad=True)
    F.binary_cross_entropy_with_logits(x, ag.tensor([1.0, 0.0, 0.5], dtype=ag.float64), reduction="sum").backward()
    np.testing.assert_allclose(x.grad.numpy(), [-0.5, 0.5, 0.0])          # sigmoid(0) - t


def test_cosine_embedding_loss():
    rng = np.random.default_rng(3)
    a, b = rng.normal(size=(5, 3)), rng.normal(size=(5, 3))
    y = np.array([1, -1, 1, -1, -1])
    cos = (a * b).sum(1) / np.sqrt((a * a).sum(1) * (b * b).sum(1))
    per = np.where(y == 1, 1 - cos, np.maximum(cos - 0.1, 0))
    xa, xb = ag.tensor(a, requires_grad=True), ag.tensor(b, requires_grad=True)
    for r in REDUCTIONS:
        out = F.cosine_embedding_loss(xa, xb, ag.tensor(y), margin=0.1, reduction=r)
        np.testing.assert_allclose(out.detach().numpy(), _red(per, r), rtol=1e-10)
    avoid = np.abs(cos - 0.1) > 0.05
    assert avoid.all()
    assert ag.gradcheck(lambda p, q: F.cosine_embedding_loss(p, q, ag.tensor(y), margin=0.1), (xa, xb))
    with pytest.raises(ValueError, match="1 or -1"):
        F.cosine_embedding_loss(xa, xb, ag.tensor([1, 0, 1, 1, 1]))
    assert nn.CosineEmbeddingLoss(margin=0.1)(xa, xb, ag.tensor(y)).item() == pytest.approx(per.mean())


# ---- errors ---------------------------------------------------------------------------------

def test_cross_entropy_errors():
    x = ag.randn(3, 5)
    with pytest.raises(IndexError, match=r"cross_entropy: target 7 is out of bounds for 5 classes"):
        F.cross_entropy(x, ag.tensor([0, 7, 1]))
    with pytest.raises(IndexError, match=r"nll_loss: target -1 is out of bounds for 5 classes"):
        F.nll_loss(x, ag.tensor([0, -1, 1]))
    with pytest.raises(TypeError, match=r"class indices must be an integer \(int64\) tensor"):
        F.cross_entropy(x, ag.tensor([0.0, 1.0, 2.0]))
    with pytest.raises(TypeError, match="integer"):
        F.nll_loss(x, ag.tensor([0.0, 1.0, 2.0]))
    with pytest.raises(ValueError, match=r"target of shape \(4,\) does not fit input of shape \(3, 5\)"):
        F.cross_entropy(x, ag.tensor([0, 1, 2, 3]))
    with pytest.raises(ValueError, match=r"weight must have one entry per class, shape \(5,\)"):
        F.cross_entropy(x, ag.tensor([0, 1, 2]), weight=ag.ones(4))
    with pytest.raises(ValueError, match="label_smoothing"):
        F.cross_entropy(x, ag.tensor([0, 1, 2]), label_smoothing=1.5)
    with pytest.raises(ValueError, match="reduction must be"):
        F.cross_entropy(x, ag.tensor([0, 1, 2]), reduction="avg")
    with pytest.raises(ValueError, match="0-d"):
        F.cross_entropy(ag.tensor(1.0), ag.tensor(0))
    # ignored targets may hold any value
    assert np.isfinite(F.cross_entropy(x, ag.tensor([0, -100, 4])).item())


def test_pointwise_loss_errors():
    with pytest.raises(ValueError, match=r"mse_loss: target shape \(3,\) differs from input shape \(3, 1\)"):
        F.mse_loss(ag.zeros(3, 1), ag.zeros(3))
    with pytest.raises(ValueError, match="l1_loss"):
        nn.L1Loss()(ag.zeros(2), ag.zeros(3))
    with pytest.raises(ValueError, match="between 0 and 1"):
        F.binary_cross_entropy(ag.tensor([1.5]), ag.tensor([1.0]))
    with pytest.raises(ValueError, match="binary_cross_entropy_with_logits"):
        F.binary_cross_entropy_with_logits(ag.zeros(2, 3), ag.zeros(3))
    with pytest.raises(ValueError, match="reduction"):
        nn.MSELoss(reduction="avg")
    with pytest.raises(ValueError, match="delta"):
        F.huber_loss(ag.zeros(2), ag.zeros(2), delta=0)


# ---- modules --------------------------------------------------------------------------------

def test_loss_modules_match_functional():
    rng = np.random.default_rng(4)
    x = ag.tensor(rng.normal(size=(4, 3)))
    t = ag.tensor(rng.normal(size=(4, 3)))
    p = ag.tensor(rng.uniform(0.1, 0.9, size=(4, 3)))
    b = ag.tensor((rng.uniform(size=(4, 3)) > 0.5).astype(float))
    c = ag.tensor([0, 2, 1, 1])
    w = ag.tensor([1.0, 2.0, 0.5], dtype=ag.float64)
    pairs = [
        (nn.MSELoss(reduction="sum")(x, t), F.mse_loss(x, t, reduction="sum")),
        (nn.L1Loss()(x, t), F.l1_loss(x, t)),
        (nn.SmoothL1Loss(beta=0.5)(x, t), F.smooth_l1_loss(x, t, beta=0.5)),
        (nn.HuberLoss(delta=2.0)(x, t), F.huber_loss(x, t, delta=2.0)),
        (nn.CrossEntropyLoss(weight=w, ignore_index=1, label_smoothing=0.1)(x, c),
         F.cross_entropy(x, c, weight=w, ignore_index=1, label_smoothing=0.1)),
        (nn.NLLLoss(weight=w, reduction="none")(F.log_softmax(x, 1), c),
         F.nll_loss(F.log_softmax(x, 1), c, weight=w, reduction="none")),
        (nn.BCELoss(weight=w)(p, b), F.binary_cross_entropy(p, b, weight=w)),
        (nn.BCEWithLogitsLoss(pos_weight=w)(x, b), F.binary_cross_entropy_with_logits(x, b, pos_weight=w)),
        (nn.KLDivLoss(reduction="batchmean")(F.log_softmax(x, 1), F.softmax(t, 1)),
         F.kl_div(F.log_softmax(x, 1), F.softmax(t, 1), reduction="batchmean")),
    ]
    for mod_out, fn_out in pairs:
        np.testing.assert_array_equal(mod_out.numpy(), fn_out.numpy())
    m = nn.BCEWithLogitsLoss(pos_weight=w)
    assert "pos_weight" in dict(m.named_buffers())
    assert "weight" in dict(nn.CrossEntropyLoss(weight=w).named_buffers())
    assert repr(nn.MSELoss()) == "MSELoss()" and repr(nn.L1Loss(reduction="sum")) == "L1Loss(reduction='sum')"
    assert nn.MSELoss(size_average=False).reduction == "sum" and nn.MSELoss(reduce=False).reduction == "none"


def test_training_a_classifier_with_cross_entropy_reduces_the_loss():
    rng = np.random.default_rng(5)
    a = rng.normal(size=(60, 2))
    t = ag.tensor((a[:, 0] + a[:, 1] > 0).astype(np.int64))
    x = ag.tensor(a, dtype=ag.float32)
    w = ag.zeros(2, 2, requires_grad=True)
    first = None
    for _ in range(50):
        loss = nn.CrossEntropyLoss()(F.linear(x, w), t)
        first = first if first is not None else loss.item()
        w.grad = None
        loss.backward()
        with ag.no_grad():
            w -= 0.5 * w.grad
    assert first == pytest.approx(np.log(2)) and loss.item() < 0.3


# ---- PyTorch cross-checks (skipped without torch) -------------------------------------------

def _compare_with_torch(ours, theirs, arrays, torch, rtol=1e-7):
    xs = [ag.tensor(a, requires_grad=a.dtype.kind == "f") for a in arrays]
    ts = [torch.tensor(a, requires_grad=a.dtype.kind == "f") for a in arrays]
    y, ty = ours(*xs), theirs(*ts)
    np.testing.assert_allclose(y.detach().numpy(), ty.detach().numpy(), rtol=rtol, atol=1e-10)
    g = np.random.default_rng(9).normal(size=np.shape(ty.detach().numpy()))
    y.backward(ag.tensor(g))
    ty.backward(torch.tensor(g))
    for x, tx in zip(xs, ts):
        if tx.requires_grad:
            np.testing.assert_allclose(x.grad.numpy(), tx.grad.numpy(), rtol=1e-6, atol=1e-10)


TORCH_LOSSES = [
    ("mse_loss", {}, "real"), ("l1_loss", {}, "real"), ("smooth_l1_loss", {"beta": 0.5}, "real"),
    ("huber_loss", {"delta": 0.8}, "real"), ("binary_cross_entropy", {}, "prob"),
    ("binary_cross_entropy_with_logits", {}, "prob_logits"), ("kl_div", {}, "kl"),
    ("kl_div", {"log_target": True}, "kl_log"),
]


@pytest.mark.filterwarnings("ignore:reduction. 'mean' divides")
@pytest.mark.parametrize("reduction", REDUCTIONS)
@pytest.mark.parametrize("name,kw,kind", TORCH_LOSSES, ids=[f"{n}{k}" for n, k, _ in TORCH_LOSSES])
def test_pointwise_losses_match_torch(name, kw, kind, reduction):
    torch = pytest.importorskip("torch")
    rng = np.random.default_rng(6)
    x, t = rng.normal(size=(4, 3)) * 2, rng.normal(size=(4, 3))
    if kind == "prob":
        x, t = rng.uniform(0.01, 0.99, (4, 3)), rng.uniform(0, 1, (4, 3))
    elif kind == "prob_logits":
        x, t = np.concatenate([x, [[1e4, -1e4, 0.0]]]), np.concatenate([rng.uniform(0, 1, (4, 3)), [[0, 1, 0.5]]])
    elif kind in ("kl", "kl_log"):
        x, t = _log_softmax(x), np.exp(_log_softmax(t))
        t = np.log(t) if kind == "kl_log" else t
    _compare_with_torch(lambda a, b: getattr(F, name)(a, b, reduction=reduction, **kw),
                        lambda a, b: getattr(torch.nn.functional, name)(a, b, reduction=reduction, **kw),
                        [x, t], torch)


@pytest.mark.parametrize("reduction", REDUCTIONS)
@pytest.mark.parametrize("name,kw,shape", CE_CASES, ids=[c[0] for c in CE_CASES])
def test_cross_entropy_matches_torch(name, kw, shape, reduction):
    torch = pytest.importorskip("torch")
    rng = np.random.default_rng(7)
    x = rng.normal(size=shape) * 3
    x.flat[1] = 1e4
    t = rng.integers(0, shape[1], size=(shape[0],) + shape[2:])
    if "ignore_index" in kw:
        t.flat[0] = kw["ignore_index"]
    w = kw.get("weight")
    rest = {k: v for k, v in kw.items() if k != "weight"}
    _compare_with_torch(
        lambda a: F.cross_entropy(a, ag.tensor(t), None if w is None else ag.tensor(w), reduction=reduction, **rest),
        lambda a: torch.nn.functional.cross_entropy(a, torch.tensor(t), None if w is None else torch.tensor(w),
                                                    reduction=reduction, **rest), [x], torch)
    if "label_smoothing" not in kw:
        _compare_with_torch(
            lambda a: F.nll_loss(a, ag.tensor(t), None if w is None else ag.tensor(w), reduction=reduction, **rest),
            lambda a: torch.nn.functional.nll_loss(a, torch.tensor(t), None if w is None else torch.tensor(w),
                                                   reduction=reduction, **rest), [x], torch)
    # probability targets, with weight and smoothing
    p = np.exp(_log_softmax(rng.normal(size=shape)))
    _compare_with_torch(
        lambda a, q: F.cross_entropy(a, q, None if w is None else ag.tensor(w), reduction=reduction,
                                     label_smoothing=kw.get("label_smoothing", 0.0)),
        lambda a, q: torch.nn.functional.cross_entropy(a, q, None if w is None else torch.tensor(w),
                                                       reduction=reduction,
                                                       label_smoothing=kw.get("label_smoothing", 0.0)),
        [x, p], torch)


@pytest.mark.parametrize("reduction", REDUCTIONS)
def test_weighted_bce_and_cosine_match_torch(reduction):
    torch = pytest.importorskip("torch")
    rng = np.random.default_rng(8)
    x, t = rng.normal(size=(5, 3)), rng.uniform(size=(5, 3))
    w, pw = rng.uniform(0.5, 2, size=(3,)), rng.uniform(0.5, 3, size=(3,))
    _compare_with_torch(
        lambda a, b: F.binary_cross_entropy_with_logits(a, b, ag.tensor(w), reduction=reduction,
                                                        pos_weight=ag.tensor(pw)),
        lambda a, b: torch.nn.functional.binary_cross_entropy_with_logits(
            a, b, torch.tensor(w), reduction=reduction, pos_weight=torch.tensor(pw)), [x, t], torch)
    _compare_with_torch(
        lambda a, b: F.binary_cross_entropy(ag.sigmoid(a), b, ag.tensor(w), reduction=reduction),
        lambda a, b: torch.nn.functional.binary_cross_entropy(torch.sigmoid(a), b, torch.tensor(w),
                                                              reduction=reduction),
        [x, t], torch)
    y = np.array([1, -1, -1, 1, -1])
    _compare_with_torch(
        lambda a, b: F.cosine_embedding_loss(a, b, ag.tensor(y), margin=-0.2, reduction=reduction),
        lambda a, b: torch.nn.functional.cosine_embedding_loss(a, b, torch.tensor(y), margin=-0.2, reduction=reduction),
        [x, rng.normal(size=(5, 3))], torch)
