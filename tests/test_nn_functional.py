"""nn.functional activations, layer functions and normalisation, and their modules (values, gradients, errors)."""
import math

import numpy as np
import pytest

import autograd_core as ag
import nn
import nn.functional as F

_erf = np.vectorize(math.erf)
SELU_A, SELU_S = 1.6732632423543772848170429916717, 1.0507009873554804934193349852946


def _softplus(x, beta=1.0, threshold=20.0):
    return np.where(beta * x > threshold, x, np.logaddexp(0, beta * x) / beta)


def _softmax(x, axis):
    e = np.exp(x - x.max(axis=axis, keepdims=True))
    return e / e.sum(axis=axis, keepdims=True)


# name, function, NumPy reference, kinks to keep inputs away from
ACTIVATIONS = [
    ("relu", F.relu, lambda x: np.maximum(x, 0), [0.0]),
    ("leaky_relu", lambda x: F.leaky_relu(x, 0.2), lambda x: np.where(x > 0, x, 0.2 * x), [0.0]),
    ("elu", lambda x: F.elu(x, 0.7), lambda x: np.where(x > 0, x, 0.7 * np.expm1(x)), [0.0]),
    ("selu", F.selu, lambda x: SELU_S * np.where(x > 0, x, SELU_A * np.expm1(x)), [0.0]),
    ("celu", lambda x: F.celu(x, 1.5), lambda x: np.where(x > 0, x, 1.5 * np.expm1(x / 1.5)), [0.0]),
    ("gelu", F.gelu, lambda x: 0.5 * x * (1 + _erf(x / math.sqrt(2))), []),
    ("gelu_tanh", lambda x: F.gelu(x, approximate="tanh"),
     lambda x: 0.5 * x * (1 + np.tanh(math.sqrt(2 / math.pi) * (x + 0.044715 * x ** 3))), []),
    ("silu", F.silu, lambda x: x / (1 + np.exp(-x)), []),
    ("mish", F.mish, lambda x: x * np.tanh(np.log1p(np.exp(x))), []),
    ("sigmoid", F.sigmoid, lambda x: 1 / (1 + np.exp(-x)), []),
    ("tanh", F.tanh, np.tanh, []),
    ("softplus", F.softplus, _softplus, []),
    ("softplus_beta", lambda x: F.softplus(x, beta=2.0, threshold=3.0), lambda x: _softplus(x, 2.0, 3.0), [1.5]),
    ("softsign", F.softsign, lambda x: x / (1 + np.abs(x)), []),
    ("hardtanh", lambda x: F.hardtanh(x, -0.5, 1.0), lambda x: np.clip(x, -0.5, 1.0), [-0.5, 1.0]),
    ("relu6", lambda x: F.relu6(x * 4), lambda x: np.clip(x * 4, 0, 6), [0.0, 1.5]),
    ("logsigmoid", F.logsigmoid, lambda x: -np.logaddexp(0, -x), []),
    ("softmax", lambda x: F.softmax(x, dim=-1), lambda x: _softmax(x, -1), []),
    ("softmax_dim0", lambda x: F.softmax(x, 0), lambda x: _softmax(x, 0), []),
    ("softmin", lambda x: F.softmin(x, 1), lambda x: _softmax(-x, 1), []),
    ("log_softmax", lambda x: F.log_softmax(x, dim=1), lambda x: np.log(_softmax(x, 1)), []),
    ("log_softmax_dim0", lambda x: F.log_softmax(x, dim=0), lambda x: np.log(_softmax(x, 0)), []),
]


def _input(avoid, shape=(3, 4), seed=0):
    a = np.random.default_rng(seed).uniform(-2.5, 2.5, shape)
    for p in avoid:
        a = np.where(np.abs(a - p) < 0.1, p + 0.2 * np.sign(a - p + 1e-12), a)
    return ag.tensor(a, requires_grad=True)


@pytest.mark.parametrize("name,fn,ref,avoid", ACTIVATIONS, ids=[a[0] for a in ACTIVATIONS])
def test_activation_values_and_gradients(name, fn, ref, avoid):
    x = _input(avoid)
    np.testing.assert_allclose(fn(x).detach().numpy(), ref(x.detach().numpy()), rtol=1e-6, atol=1e-7)
    assert ag.gradcheck(fn, (x,))
    assert ag.gradgradcheck(fn, (x,))


@pytest.mark.parametrize("name,fn,ref,avoid", ACTIVATIONS, ids=[a[0] for a in ACTIVATIONS])
def test_activation_stable_at_large_inputs(name, fn, ref, avoid):
    for dtype in (ag.float32, ag.float64):
        x = ag.tensor([[-1e4, -50.0, 0.0, 50.0, 1e4]], dtype=dtype, requires_grad=True)
        y = fn(x)
        assert y.dtype == dtype
        assert np.isfinite(y.detach().numpy()).all(), name
        y.sum().backward()
        assert np.isfinite(x.grad.numpy()).all(), name


def test_activation_gradients_at_the_kinks_follow_pytorch():
    x = ag.tensor([0.0], dtype=ag.float64, requires_grad=True)
    for fn, want in [(F.relu, 0.0), (lambda t: F.leaky_relu(t, 0.1), 0.1), (lambda t: F.elu(t, 2.0), 2.0),
                     (F.softplus, 0.5), (F.silu, 0.5), (lambda t: F.hardtanh(t, 0.0, 1.0), 0.0)]:
        (g,) = ag.grad(fn(x).sum(), x)
        assert g.item() == pytest.approx(want)


def test_softmax_is_stable_and_normalised():
    x = ag.tensor([[1e4, 0.0, -1e4], [-1e4, -1e4 + 1, -1e4]], requires_grad=True)
    p = F.softmax(x, dim=1)
    np.testing.assert_allclose(p.detach().numpy().sum(1), 1.0, rtol=1e-6)
    lp = F.log_softmax(x, dim=1)
    assert np.isfinite(lp.detach().numpy()).all()
    assert lp.detach().numpy()[0, 0] == 0.0 and lp.detach().numpy()[0, 2] == pytest.approx(-2e4)
    (lp[:, 1].sum() + p[:, 0].sum()).backward()
    assert np.isfinite(x.grad.numpy()).all()
    # a row with -inf entries (a masked position) gets probability 0, not nan
    m = F.softmax(ag.tensor([0.0, -math.inf, 1.0]), dim=0).numpy()
    assert m[1] == 0.0 and np.isclose(m.sum(), 1.0)


def test_softmax_implicit_dim_warns_and_matches_pytorch_choice():
    x = ag.randn(2, 3)
    with pytest.warns(UserWarning, match="implicit dimension"):
        p = F.softmax(x)
    np.testing.assert_allclose(p.numpy().sum(1), 1.0, rtol=1e-6)
    with pytest.raises(IndexError, match="dimension out of range"):
        F.log_softmax(x, dim=2)


def test_softmax_dtype_and_integer_input():
    assert F.softmax(ag.tensor([1, 2, 3]), dim=0).dtype == ag.float32
    assert F.log_softmax(ag.tensor([1.0, 2.0]), 0, dtype=ag.float64).dtype == ag.float64
    assert F.softmax(ag.tensor(3.0), dim=0).item() == 1.0


def test_step_is_forward_only():
    x = ag.tensor([-1.0, 0.0, 0.5], requires_grad=True)
    y = F.step(x)
    assert y.tolist() == [0.0, 1.0, 1.0] and not y.requires_grad and y.dtype == ag.float32
    assert F.step(x, inclusive=False).tolist() == [0.0, 0.0, 1.0]
    assert F.step(x, threshold=0.5).tolist() == [0.0, 0.0, 1.0]
    m = nn.Step()
    assert m(x).tolist() == [0.0, 1.0, 1.0] and repr(m) == "Step(threshold=0.0)"


def test_step_xor_network_from_the_course():
    # the course's XOR step network: h1 = step(-1 + 2x1 + 2x2), h2 = step(3 - 2x1 - 2x2), out = AND(h1, h2)
    x = ag.tensor([[1.0, 1.0], [1.0, 0.0], [0.0, 1.0], [0.0, 0.0]])
    h = F.step(F.linear(x, ag.tensor([[2.0, 2.0], [-2.0, -2.0]]), ag.tensor([-1.0, 3.0])))
    out = F.step(F.linear(h, ag.tensor([[1.0, 1.0]]), ag.tensor([-2.0])))
    assert out.reshape(-1).tolist() == [0.0, 1.0, 1.0, 0.0]


# ---- modules ----------------------------------------------------------------------------------

MODULES = [
    (nn.ReLU(), F.relu, "ReLU()"),
    (nn.LeakyReLU(0.2), lambda x: F.leaky_relu(x, 0.2), "LeakyReLU(negative_slope=0.2)"),
    (nn.ELU(alpha=0.5), lambda x: F.elu(x, 0.5), "ELU(alpha=0.5)"),
    (nn.SELU(), F.selu, "SELU()"),
    (nn.CELU(2.0), lambda x: F.celu(x, 2.0), "CELU(alpha=2.0)"),
    (nn.GELU(), F.gelu, "GELU(approximate='none')"),
    (nn.GELU("tanh"), lambda x: F.gelu(x, "tanh"), "GELU(approximate='tanh')"),
    (nn.SiLU(), F.silu, "SiLU()"),
    (nn.Mish(), F.mish, "Mish()"),
    (nn.Sigmoid(), F.sigmoid, "Sigmoid()"),
    (nn.Tanh(), F.tanh, "Tanh()"),
    (nn.Softplus(beta=2, threshold=10), lambda x: F.softplus(x, 2, 10), "Softplus(beta=2, threshold=10)"),
    (nn.Softsign(), F.softsign, "Softsign()"),
    (nn.Hardtanh(-2.0, 2.0), lambda x: F.hardtanh(x, -2.0, 2.0), "Hardtanh(min_val=-2.0, max_val=2.0)"),
    (nn.ReLU6(inplace=True), F.relu6, "ReLU6(inplace=True)"),
    (nn.LogSigmoid(), F.logsigmoid, "LogSigmoid()"),
    (nn.Softmax(dim=1), lambda x: F.softmax(x, 1), "Softmax(dim=1)"),
    (nn.Softmin(dim=0), lambda x: F.softmin(x, 0), "Softmin(dim=0)"),
    (nn.LogSoftmax(dim=-1), lambda x: F.log_softmax(x, -1), "LogSoftmax(dim=-1)"),
]


@pytest.mark.parametrize("module,fn,text", MODULES, ids=[m[2] for m in MODULES])
def test_activation_modules(module, fn, text):
    x = ag.tensor(np.random.default_rng(1).normal(size=(3, 4)) * 3, dtype=ag.float32)
    np.testing.assert_array_equal(module(x).numpy(), fn(x).numpy())
    assert repr(module) == text
    assert list(module.parameters()) == []


def test_activation_module_argument_errors():
    with pytest.raises(ValueError, match="approximate"):
        nn.GELU("fast")
    with pytest.raises(ValueError, match="min_val"):
        nn.Hardtanh(1.0, -1.0)
    with pytest.raises(ValueError, match="approximate"):
        F.gelu(ag.zeros(2), approximate="erf")


# ---- layer functions --------------------------------------------------------------------------

def test_linear_values_gradients_and_errors():
    x = ag.randn(4, 3, dtype=ag.float64, requires_grad=True)
    w = ag.randn(2, 3, dtype=ag.float64, requires_grad=True)
    b = ag.randn(2, dtype=ag.float64, requires_grad=True)
    np.testing.assert_allclose(F.linear(x, w, b).detach().numpy(),
                               x.detach().numpy() @ w.detach().numpy().T + b.detach().numpy())
    assert ag.gradcheck(F.linear, (x, w, b))
    assert F.linear(ag.randn(5, 4, 3), ag.randn(2, 3)).shape == (5, 4, 2)
    with pytest.raises(ValueError, match=r"linear: input of shape \(4, 3\) has 3 features"):
        F.linear(x, ag.randn(2, 5, dtype=ag.float64))


def test_dropout_is_inverted_and_seeded():
    x = ag.ones(200, 100, requires_grad=True)
    ag.manual_seed(0)
    y = F.dropout(x, p=0.3)
    vals = np.unique(y.detach().numpy())
    np.testing.assert_allclose(vals, [0.0, 1 / 0.7], rtol=1e-6)
    assert abs((y.detach().numpy() == 0).mean() - 0.3) < 0.02
    assert abs(y.detach().numpy().mean() - 1.0) < 0.03          # expectation kept
    y.sum().backward()
    np.testing.assert_array_equal(x.grad.numpy(), y.detach().numpy())   # gradient uses the same mask
    ag.manual_seed(0)
    np.testing.assert_array_equal(F.dropout(x, p=0.3).detach().numpy(), y.detach().numpy())
    assert F.dropout(x, 0.3, training=False) is x
    assert (F.dropout(x, 1.0).detach().numpy() == 0).all()
    assert F.dropout(x, 0.5).dtype == ag.float32
    with pytest.raises(ValueError, match="between 0 and 1"):
        F.dropout(x, 1.5)


def test_embedding_lookup_padding_and_errors():
    w = ag.randn(5, 3, dtype=ag.float64, requires_grad=True)
    idx = ag.tensor([[0, 2], [4, 2]])
    out = F.embedding(idx, w)
    assert out.shape == (2, 2, 3)
    np.testing.assert_array_equal(out.detach().numpy(), w.detach().numpy()[idx.numpy()])
    F.embedding(idx, w, padding_idx=2).sum().backward()
    assert w.grad.numpy()[:, 0].tolist() == [1.0, 0.0, 0.0, 0.0, 1.0]    # padding row gets no gradient
    assert ag.gradcheck(lambda w: F.embedding(idx, w, padding_idx=3), (w,))   # 3 is never looked up
    with pytest.raises(IndexError, match="index 5 is out of range for 5 embeddings"):
        F.embedding(ag.tensor([5]), w)
    with pytest.raises(TypeError, match="integer"):
        F.embedding(ag.tensor([1.0]), w)


def test_embedding_max_norm_renormalises_rows():
    w = ag.tensor([[3.0, 4.0], [0.3, 0.4]])
    out = F.embedding(ag.tensor([0, 1]), w, max_norm=1.0)
    np.testing.assert_allclose(np.linalg.norm(out.numpy(), axis=1), [1.0, 0.5], rtol=1e-5)
    np.testing.assert_allclose(w.numpy()[0], [0.6, 0.8], rtol=1e-5)


def test_one_hot():
    t = ag.tensor([[0, 2], [1, 0]])
    oh = F.one_hot(t)
    assert oh.shape == (2, 2, 3) and oh.dtype == ag.int64
    assert oh.tolist()[0] == [[1, 0, 0], [0, 0, 1]]
    assert F.one_hot(ag.tensor([1]), num_classes=4).tolist() == [[0, 1, 0, 0]]
    with pytest.raises(RuntimeError, match="class value 3 is out of range for num_classes=3"):
        F.one_hot(ag.tensor([3]), 3)
    with pytest.raises(RuntimeError, match="non-negative"):
        F.one_hot(ag.tensor([-1]), 3)
    with pytest.raises(TypeError, match="integer"):
        F.one_hot(ag.tensor([1.0]))


def test_pad_constant():
    x = ag.tensor(np.arange(6.0).reshape(2, 3), requires_grad=True)
    y = F.pad(x, (1, 2))
    assert y.shape == (2, 6) and y.tolist()[0] == [0, 0, 1, 2, 0, 0]
    z = F.pad(x, (0, 1, 1, 0), value=-1.0)
    np.testing.assert_array_equal(z.detach().numpy(), np.pad(x.detach().numpy(), ((1, 0), (0, 1)), constant_values=-1))
    c = F.pad(x, (-1, 0))                          # negative pads crop
    np.testing.assert_array_equal(c.detach().numpy(), x.detach().numpy()[:, 1:])
    assert ag.gradcheck(lambda t: F.pad(t, (2, 1, 0, 1), value=0.5), (x.double().detach().requires_grad_(),))
    with pytest.raises(ValueError, match="even"):
        F.pad(x, (1,))
    with pytest.raises(NotImplementedError, match="circular"):
        F.pad(x, (1, 1), mode="circular")


def test_normalize_and_cosine_similarity():
    x = ag.randn(4, 3, dtype=ag.float64, requires_grad=True)
    n = F.normalize(x, dim=1).detach().numpy()
    np.testing.assert_allclose(np.linalg.norm(n, axis=1), 1.0)
    assert ag.gradcheck(lambda t: F.normalize(t, p=2, dim=1), (x,))
    assert F.normalize(ag.zeros(2, 3)).abs().sum().item() == 0.0
    y = ag.randn(4, 3, dtype=ag.float64)
    a, b = x.detach().numpy(), y.numpy()
    want = (a * b).sum(1) / (np.linalg.norm(a, axis=1) * np.linalg.norm(b, axis=1))
    np.testing.assert_allclose(F.cosine_similarity(x, y).detach().numpy(), want)


# ---- normalisation ----------------------------------------------------------------------------

def _standardise(a, axes, eps):
    return (a - a.mean(axes, keepdims=True)) / np.sqrt(a.var(axes, keepdims=True) + eps)


def test_layer_norm_values_and_gradients():
    x = ag.randn(2, 3, 4, dtype=ag.float64, requires_grad=True)
    w = ag.randn(3, 4, dtype=ag.float64, requires_grad=True)
    b = ag.randn(3, 4, dtype=ag.float64, requires_grad=True)
    want = _standardise(x.detach().numpy(), (1, 2), 1e-5) * w.detach().numpy() + b.detach().numpy()
    np.testing.assert_allclose(F.layer_norm(x, (3, 4), w, b).detach().numpy(), want, rtol=1e-10)
    assert ag.gradcheck(lambda x, w, b: F.layer_norm(x, (3, 4), w, b), (x, w, b))
    assert ag.gradgradcheck(lambda x: F.layer_norm(x, 4), (x,))
    with pytest.raises(ValueError, match=r"normalized_shape \[3\] must match"):
        F.layer_norm(x, 3)
    m = nn.LayerNorm(4)
    assert m.weight.shape == (4,) and m.bias.shape == (4,)
    assert repr(m) == "LayerNorm((4,), eps=1e-05, elementwise_affine=True)"
    np.testing.assert_allclose(m(x.float()).detach().numpy(), _standardise(x.detach().numpy(), (2,), 1e-5), atol=1e-5)
    assert nn.LayerNorm([3, 4], bias=False).bias is None
    assert list(nn.LayerNorm(4, elementwise_affine=False).parameters()) == []


def test_group_norm_values_and_gradients():
    x = ag.randn(2, 4, 3, dtype=ag.float64, requires_grad=True)
    w = ag.randn(4, dtype=ag.float64, requires_grad=True)
    b = ag.randn(4, dtype=ag.float64, requires_grad=True)
    a = x.detach().numpy().reshape(2, 2, 6)
    want = _standardise(a, (2,), 1e-5).reshape(2, 4, 3) * w.detach().numpy()[:, None] + b.detach().numpy()[:, None]
    np.testing.assert_allclose(F.group_norm(x, 2, w, b).detach().numpy(), want, rtol=1e-10)
    assert ag.gradcheck(lambda x, w, b: F.group_norm(x, 2, w, b), (x, w, b))
    assert ag.gradgradcheck(lambda x: F.group_norm(x, 4), (x,))
    with pytest.raises(ValueError, match="divisible"):
        F.group_norm(x, 3)
    with pytest.raises(ValueError, match="divisible"):
        nn.GroupNorm(3, 4)
    m = nn.GroupNorm(2, 4)
    assert repr(m) == "GroupNorm(2, 4, eps=1e-05, affine=True)"
    np.testing.assert_allclose(m(x).detach().numpy(), _standardise(a, (2,), 1e-5).reshape(2, 4, 3), rtol=1e-10)


def test_batch_norm_functional_train_and_eval():
    x = ag.randn(6, 3, dtype=ag.float64, requires_grad=True)
    w = ag.randn(3, dtype=ag.float64, requires_grad=True)
    b = ag.randn(3, dtype=ag.float64, requires_grad=True)
    rm, rv = ag.zeros(3, dtype=ag.float64), ag.ones(3, dtype=ag.float64)
    a = x.detach().numpy()
    y = F.batch_norm(x, rm, rv, w, b, training=True, momentum=0.2)
    want = _standardise(a, (0,), 1e-5) * w.detach().numpy() + b.detach().numpy()
    np.testing.assert_allclose(y.detach().numpy(), want)
    np.testing.assert_allclose(rm.numpy(), 0.2 * a.mean(0))
    np.testing.assert_allclose(rv.numpy(), 0.8 + 0.2 * a.var(0, ddof=1))     # unbiased running variance
    y = F.batch_norm(x, rm, rv, training=False)
    np.testing.assert_allclose(y.detach().numpy(), (a - rm.numpy()) / np.sqrt(rv.numpy() + 1e-5))
    assert ag.gradcheck(lambda x, w, b: F.batch_norm(x, None, None, w, b, training=True), (x, w, b))
    assert ag.gradgradcheck(lambda x: F.batch_norm(x, None, None, training=True), (x,))
    assert ag.gradcheck(lambda x: F.batch_norm(x, rm, rv, training=False), (x,))
    with pytest.raises(ValueError, match="more than 1 value per channel"):
        F.batch_norm(ag.randn(1, 3), None, None, training=True)
    with pytest.raises(ValueError, match="running_mean must have shape"):
        F.batch_norm(x, ag.zeros(2), ag.ones(2), training=True)


def test_batch_norm1d_running_stats_over_steps():
    bn = nn.BatchNorm1d(3, momentum=0.1).double()
    assert [n for n, _ in bn.named_buffers()] == ["running_mean", "running_var", "num_batches_tracked"]
    assert list(bn.state_dict()) == ["weight", "bias", "running_mean", "running_var", "num_batches_tracked"]
    rng = np.random.default_rng(0)
    mean, var = np.zeros(3), np.ones(3)
    for _ in range(4):
        a = rng.normal(2.0, 3.0, size=(8, 3))
        y = bn(ag.tensor(a))
        np.testing.assert_allclose(y.detach().numpy(), _standardise(a, (0,), 1e-5), rtol=1e-10)
        mean = 0.9 * mean + 0.1 * a.mean(0)
        var = 0.9 * var + 0.1 * a.var(0, ddof=1)
    np.testing.assert_allclose(bn.running_mean.numpy(), mean)
    np.testing.assert_allclose(bn.running_var.numpy(), var)
    assert bn.num_batches_tracked.item() == 4
    bn.eval()
    a = rng.normal(size=(2, 3))
    np.testing.assert_allclose(bn(ag.tensor(a)).detach().numpy(), (a - mean) / np.sqrt(var + 1e-5))
    assert bn.num_batches_tracked.item() == 4             # eval leaves the statistics alone
    np.testing.assert_allclose(bn.running_mean.numpy(), mean)


def test_batch_norm1d_three_d_input_and_cumulative_momentum():
    bn = nn.BatchNorm1d(2, momentum=None, affine=False).double()
    rng = np.random.default_rng(1)
    batches = [rng.normal(size=(4, 2, 5)) for _ in range(3)]
    for a in batches:
        y = bn(ag.tensor(a))
        np.testing.assert_allclose(y.numpy(), _standardise(a, (0, 2), 1e-5), rtol=1e-10)
    # momentum=None: the plain average of the batch statistics
    np.testing.assert_allclose(bn.running_mean.numpy(), np.mean([a.mean((0, 2)) for a in batches], 0))
    np.testing.assert_allclose(bn.running_var.numpy(), np.mean([a.var((0, 2), ddof=1) for a in batches], 0))
    assert list(bn.parameters()) == []


def test_batch_norm_without_running_stats_and_errors():
    bn = nn.BatchNorm1d(3, track_running_stats=False)
    assert bn.running_mean is None and bn.num_batches_tracked is None
    bn.eval()
    a = np.random.default_rng(2).normal(size=(5, 3)).astype(np.float32)
    np.testing.assert_allclose(bn(ag.tensor(a)).detach().numpy(), _standardise(a, (0,), 1e-5), atol=1e-5)
    with pytest.raises(ValueError, match=r"BatchNorm1d: expected 2D or 3D input, got 4D"):
        nn.BatchNorm1d(3)(ag.randn(2, 3, 4, 4))
    with pytest.raises(ValueError, match=r"BatchNorm1d\(3\): expected 3 channels"):
        nn.BatchNorm1d(3)(ag.randn(2, 4))
    assert repr(nn.BatchNorm1d(4)) == "BatchNorm1d(4, eps=1e-05, momentum=0.1, affine=True, track_running_stats=True)"
    bn2 = nn.BatchNorm2d(2)
    y = bn2(ag.randn(3, 2, 4, 4))
    assert y.shape == (3, 2, 4, 4) and bn2.num_batches_tracked.item() == 1


def test_batch_norm_module_gradients():
    bn = nn.BatchNorm1d(3).double()
    x = ag.randn(5, 3, dtype=ag.float64, requires_grad=True)
    assert ag.gradcheck(lambda x, w, b: F.batch_norm(x, None, None, w, b, True), (x, bn.weight, bn.bias))
    bn(x).pow(2).sum().backward()
    assert bn.weight.grad.shape == (3,) and bn.bias.grad.shape == (3,)
    np.testing.assert_allclose(bn.bias.grad.numpy(), 0.0, atol=1e-10)   # normalised outputs sum to 0 per feature


# ---- PyTorch cross-checks (skipped without torch) ---------------------------------------------

TORCH_ACTIVATIONS = [
    ("relu", {}), ("leaky_relu", {"negative_slope": 0.1}), ("elu", {"alpha": 0.8}), ("selu", {}),
    ("celu", {"alpha": 1.3}), ("gelu", {}), ("gelu", {"approximate": "tanh"}), ("silu", {}), ("mish", {}),
    ("sigmoid", {}), ("tanh", {}), ("softplus", {}), ("softplus", {"beta": 2.0, "threshold": 1.0}),
    ("softsign", {}), ("hardtanh", {"min_val": -0.5, "max_val": 0.7}), ("relu6", {}), ("logsigmoid", {}),
    ("softmax", {"dim": 1}), ("softmin", {"dim": 0}), ("log_softmax", {"dim": -1}),
]


@pytest.mark.parametrize("name,kwargs", TORCH_ACTIVATIONS, ids=[f"{n}{k}" for n, k in TORCH_ACTIVATIONS])
def test_activations_match_torch(name, kwargs):
    torch = pytest.importorskip("torch")
    a = np.random.default_rng(3).normal(size=(4, 5)) * 4
    a = np.concatenate([a, [[-1e4, -30.0, 0.0, 30.0, 1e4]]])
    g = np.random.default_rng(4).normal(size=a.shape)
    x = ag.tensor(a, requires_grad=True)
    getattr(F, name)(x, **kwargs).backward(ag.tensor(g))
    tx = torch.tensor(a, requires_grad=True)
    ty = getattr(torch.nn.functional, name)(tx, **kwargs)
    ty.backward(torch.tensor(g))
    np.testing.assert_allclose(getattr(F, name)(x, **kwargs).detach().numpy(), ty.detach().numpy(),
                               rtol=1e-7, atol=1e-10)
    np.testing.assert_allclose(x.grad.numpy(), tx.grad.numpy(), rtol=1e-6, atol=1e-10)


def test_normalisation_matches_torch():
    torch = pytest.importorskip("torch")
    rng = np.random.default_rng(5)
    a = rng.normal(size=(4, 6, 3))
    w, b = rng.normal(size=6), rng.normal(size=6)
    for ours, theirs in [
        (lambda x, w, b: F.group_norm(x, 3, w, b), lambda x, w, b: torch.nn.functional.group_norm(x, 3, w, b)),
        (lambda x, w, b: F.batch_norm(x, None, None, w, b, True),
         lambda x, w, b: torch.nn.functional.batch_norm(x, None, None, w, b, True)),
        (lambda x, w, b: F.layer_norm(x, (3,), w[:3], b[:3]),
         lambda x, w, b: torch.nn.functional.layer_norm(x, (3,), w[:3], b[:3])),
    ]:
        xs = [ag.tensor(v, requires_grad=True) for v in (a, w, b)]
        ts = [torch.tensor(v, requires_grad=True) for v in (a, w, b)]
        y, ty = ours(*xs), theirs(*ts)
        np.testing.assert_allclose(y.detach().numpy(), ty.detach().numpy(), rtol=1e-7, atol=1e-10)
        (y * y * y).sum().backward()
        (ty * ty * ty).sum().backward()
        for p, tp in zip(xs, ts):
            np.testing.assert_allclose(p.grad.numpy(), tp.grad.numpy(), rtol=1e-6, atol=1e-9)


def test_batch_norm1d_running_stats_match_torch():
    torch = pytest.importorskip("torch")
    ours, theirs = nn.BatchNorm1d(3).double(), torch.nn.BatchNorm1d(3).double()
    rng = np.random.default_rng(6)
    for _ in range(3):
        a = rng.normal(1.0, 2.0, size=(5, 3, 2))
        np.testing.assert_allclose(ours(ag.tensor(a)).detach().numpy(), theirs(torch.tensor(a)).detach().numpy(),
                                   rtol=1e-7, atol=1e-10)
    for name in ("running_mean", "running_var", "num_batches_tracked"):
        np.testing.assert_allclose(getattr(ours, name).numpy(), getattr(theirs, name).numpy(), rtol=1e-10)
    ours.eval()
    theirs.eval()
    a = rng.normal(size=(2, 3))
    np.testing.assert_allclose(ours(ag.tensor(a)).detach().numpy(), theirs(torch.tensor(a)).detach().numpy(),
                               rtol=1e-7)


# ---- linear of an embedding lookup (F.linear projects the table instead of the looked-up rows) ----

def _lookup_case(seed=0):
    rng = np.random.default_rng(seed)
    emb = nn.Embedding(5, 4).double()
    lin = nn.Linear(4, 3).double()
    ids = ag.tensor(rng.integers(0, 5, (6, 7)))
    return emb, lin, ids


def _grads(*modules):
    return [p.grad.numpy().copy() for m in modules for p in m.parameters()]


@pytest.mark.parametrize("layer", ["functional", "module"])
def test_linear_of_lookup_matches_the_plain_product(layer):
    emb, lin, ids = _lookup_case()
    x = F.embedding(ids, emb.weight) if layer == "functional" else emb(ids)
    assert "_lookup" in x.__dict__  # the fast path is taken ...
    y = lin(x)
    want = x.detach().numpy() @ lin.weight.detach().numpy().T + lin.bias.detach().numpy()
    np.testing.assert_allclose(y.detach().numpy(), want, rtol=1e-12)
    (y * y).sum().backward()
    fast = _grads(emb, lin)
    for p in list(emb.parameters()) + list(lin.parameters()):
        p.grad = None
    x2 = emb.weight[ids.numpy()]  # ... and a plain index is not marked, so this is the ordinary product
    assert "_lookup" not in x2.__dict__
    y2 = lin(x2)
    (y2 * y2).sum().backward()
    for a, b in zip(fast, _grads(emb, lin)):
        np.testing.assert_allclose(a, b, rtol=1e-10, atol=1e-12)


def test_linear_of_lookup_after_an_inplace_write_uses_the_written_values():
    emb, lin, ids = _lookup_case()
    x = emb(ids)
    with ag.no_grad():
        x[0, 0] = 100.0
    y = lin(x)
    want = x.detach().numpy() @ lin.weight.detach().numpy().T + lin.bias.detach().numpy()
    np.testing.assert_allclose(y.detach().numpy(), want, rtol=1e-12)


def test_linear_of_lookup_keeps_the_lookups_own_gradient_when_retained():
    emb, lin, ids = _lookup_case()
    x = emb(ids)
    x.retain_grad()
    lin(x).sum().backward()
    np.testing.assert_allclose(x.grad.numpy(), np.broadcast_to(lin.weight.detach().numpy().sum(0), x.shape))
