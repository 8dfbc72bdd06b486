"""Layers (containers, Linear, Bilinear, Flatten, Embedding, Dropout), nn.init and nn.utils."""
import math

import numpy as np
import pytest

import autograd_core as ag
import nn
from nn import init


def _rng():
    return np.random.default_rng(0)


# ---- gradients of every layer: (name, layer factory, input factories) -----------------------
def _long(*shape, high=6):
    return ag.tensor(_rng().integers(0, high, shape))


GRADCHECK_LAYERS = [
    ("linear", lambda: nn.Linear(3, 2), [lambda: ag.randn(4, 3)]),
    ("linear_3d_input", lambda: nn.Linear(3, 2), [lambda: ag.randn(2, 4, 3)]),
    ("linear_1d_input", lambda: nn.Linear(3, 2), [lambda: ag.randn(3)]),
    ("linear_no_bias", lambda: nn.Linear(3, 2, bias=False), [lambda: ag.randn(4, 3)]),
    ("bilinear", lambda: nn.Bilinear(3, 2, 4), [lambda: ag.randn(5, 3), lambda: ag.randn(5, 2)]),
    ("flatten", lambda: nn.Flatten(), [lambda: ag.randn(2, 3, 2)]),
    ("unflatten", lambda: nn.Unflatten(1, (2, 3)), [lambda: ag.randn(2, 6)]),
    ("sequential", lambda: nn.Sequential(nn.Linear(3, 4), nn.Identity(), nn.Flatten(0), nn.Unflatten(0, (2, 4)),
                                          nn.Linear(4, 2)), [lambda: ag.randn(2, 3)]),
]


@pytest.mark.parametrize("name, make, inputs", GRADCHECK_LAYERS, ids=[r[0] for r in GRADCHECK_LAYERS])
def test_layer_gradcheck(name, make, inputs):
    ag.manual_seed(0)
    layer = make().double()
    xs = [f().double().requires_grad_() for f in inputs]
    params = list(layer.parameters())
    n = len(xs)
    assert ag.gradcheck(lambda *args: layer(*args[:n]), (*xs, *params))


def test_embedding_gradcheck_and_padding_gradient():
    ag.manual_seed(0)
    idx = ag.tensor([[0, 2, 5], [2, 2, 1]])
    plain = nn.Embedding(6, 3).double()
    assert ag.gradcheck(lambda w: plain(idx) * ag.arange(3, dtype=ag.float64), (plain.weight,))
    emb = nn.Embedding(6, 3, padding_idx=2).double()
    emb(idx).sum().backward()
    counts = np.bincount(idx.numpy().ravel(), minlength=6).astype(float)
    counts[2] = 0.0                                # the padding row gets no gradient
    np.testing.assert_array_equal(emb.weight.grad.numpy(), np.repeat(counts[:, None], 3, axis=1))


def test_dropout_gradient_is_the_mask():
    ag.manual_seed(3)
    x = ag.randn(50, 20, dtype=ag.float64, requires_grad=True)
    y = nn.Dropout(0.3)(x)
    y.sum().backward()
    kept = y.detach().numpy() != 0
    np.testing.assert_allclose(x.grad.numpy(), kept / 0.7)


# ---- containers ----------------------------------------------------------------------------
def test_sequential_indexing_len_iteration_append():
    from collections import OrderedDict
    a, b, c = nn.Linear(2, 3), nn.Identity(), nn.Linear(3, 1)
    seq = nn.Sequential(a, b, c)
    assert len(seq) == 3 and seq[0] is a and seq[-1] is c and list(seq) == [a, b, c]
    sub = seq[1:]
    assert isinstance(sub, nn.Sequential) and list(sub) == [b, c] and list(sub._modules) == ["1", "2"]
    with pytest.raises(IndexError, match="out of range"):
        seq[3]  # noqa: B018
    seq.append(nn.Identity())
    assert len(seq) == 4 and list(seq._modules) == ["0", "1", "2", "3"]
    del seq[1]
    assert list(seq._modules) == ["0", "1", "2"] and seq[1] is c
    named = nn.Sequential(OrderedDict([("fc", a), ("out", c)]))
    assert [n for n, _ in named.named_parameters()] == ["fc.weight", "fc.bias", "out.weight", "out.bias"]
    x = ag.randn(4, 2)
    np.testing.assert_allclose(named(x).detach().numpy(), c(a(x)).detach().numpy())


def test_modulelist_and_moduledict():
    layers = nn.ModuleList([nn.Linear(2, 2) for _ in range(3)])
    assert len(layers) == 3 and len(list(layers.parameters())) == 6
    layers.append(nn.Linear(2, 1))
    layers.extend([nn.Identity()])
    layers.insert(0, nn.Identity())
    assert [type(m).__name__ for m in layers] == ["Identity", "Linear", "Linear", "Linear", "Linear", "Identity"]
    assert isinstance(layers[1:3], nn.ModuleList) and len(layers[1:3]) == 2 and layers[-1] is layers[5]
    with pytest.raises(NotImplementedError):
        layers(ag.randn(1, 2))
    d = nn.ModuleDict({"b": nn.Linear(1, 1)})
    d["a"] = nn.Identity()
    d.update([("c", nn.Linear(1, 2))])
    assert list(d.keys()) == ["b", "a", "c"] and "a" in d and len(d) == 3
    assert [n for n, _ in d.named_parameters()] == ["b.weight", "b.bias", "c.weight", "c.bias"]
    assert isinstance(d.pop("a"), nn.Identity) and list(d) == ["b", "c"]


# ---- Linear ----------------------------------------------------------------------------------
def test_linear_matches_numpy_and_layout():
    ag.manual_seed(0)
    lin = nn.Linear(5, 3)
    assert lin.weight.shape == (3, 5) and lin.bias.shape == (3,) and lin.weight.dtype == np.float32
    x = ag.randn(7, 5)
    w, b = lin.weight.detach().numpy(), lin.bias.detach().numpy()
    np.testing.assert_allclose(lin(x).detach().numpy(), x.numpy() @ w.T + b, rtol=1e-6)
    assert repr(lin) == "Linear(in_features=5, out_features=3, bias=True)"
    assert nn.Linear(2, 2, bias=False).bias is None
    assert nn.Linear(2, 2, dtype=ag.float64).weight.dtype == np.float64


def test_linear_wrong_feature_count_names_the_layer():
    with pytest.raises(ValueError) as e:
        nn.Linear(784, 256)(ag.randn(64, 780))
    assert str(e.value) == ("Linear(in_features=784, out_features=256): expected input with last "
                            "dimension 784, got shape (64, 780)")


def test_linear_default_init_bounds():
    ag.manual_seed(0)
    lin = nn.Linear(400, 300)
    bound = 1 / math.sqrt(400)
    w, b = lin.weight.detach().numpy(), lin.bias.detach().numpy()
    assert np.abs(w).max() <= bound and np.abs(w).max() > 0.99 * bound
    assert np.abs(b).max() <= bound
    assert abs(w.var() - bound ** 2 / 3) < 0.02 * bound ** 2   # U(-a, a) has variance a^2 / 3


def test_flatten_unflatten_shapes():
    x = ag.randn(2, 3, 4, 5)
    assert nn.Flatten()(x).shape == (2, 60)
    assert nn.Flatten(0, 1)(x).shape == (6, 4, 5)
    assert nn.Unflatten(1, (3, 20))(nn.Flatten()(x)).shape == (2, 3, 20)
    assert repr(nn.Flatten()) == "Flatten(start_dim=1, end_dim=-1)"
    assert repr(nn.Unflatten(1, (2, 3))) == "Unflatten(dim=1, unflattened_size=(2, 3))"
    i = nn.Identity(54, unused="x")
    assert i(x) is x


# ---- Embedding -----------------------------------------------------------------------------
def test_embedding_lookup_init_and_padding():
    ag.manual_seed(0)
    emb = nn.Embedding(1000, 64, padding_idx=-1)
    assert emb.padding_idx == 999 and emb.weight.shape == (1000, 64)
    w = emb.weight.detach().numpy()
    assert np.all(w[999] == 0)
    assert abs(w[:999].mean()) < 0.01 and abs(w[:999].std() - 1) < 0.01     # N(0, 1)
    idx = ag.tensor([[1, 999], [5, 1]])
    out = emb(idx)
    assert out.shape == (2, 2, 64)
    np.testing.assert_array_equal(out.detach().numpy(), w[idx.numpy()])
    assert repr(emb) == "Embedding(1000, 64, padding_idx=999)"


@pytest.mark.parametrize("indices, error, match", [
    (ag.tensor([0, 10]), IndexError, "index 10 is out of range for 10 embeddings"),
    (ag.tensor([-1]), IndexError, "index -1 is out of range"),
    (ag.tensor([1.0, 2.0]), TypeError, "integer dtype"),
])
def test_embedding_bad_indices(indices, error, match):
    with pytest.raises(error, match=match):
        nn.Embedding(10, 3)(indices)


def test_embedding_from_pretrained_and_max_norm():
    table = ag.tensor([[3.0, 4.0], [0.3, 0.4]])
    emb = nn.Embedding.from_pretrained(table)
    assert not emb.weight.requires_grad
    np.testing.assert_allclose(emb(ag.tensor([1, 0])).numpy(), [[0.3, 0.4], [3.0, 4.0]], rtol=1e-6)
    capped = nn.Embedding(2, 2, max_norm=1.0, _weight=ag.tensor([[3.0, 4.0], [0.3, 0.4]]))
    out = capped(ag.tensor([0, 1])).detach().numpy()
    np.testing.assert_allclose(np.linalg.norm(out, axis=1), [1.0, 0.5], rtol=1e-5)


# ---- Dropout -------------------------------------------------------------------------------
@pytest.mark.parametrize("p", [0.1, 0.5, 0.8])
def test_dropout_train_scaling_and_eval_identity(p):
    ag.manual_seed(0)
    drop = nn.Dropout(p)
    x = ag.ones(200_000)
    y = drop(x).numpy()
    kept = y != 0
    assert abs(kept.mean() - (1 - p)) < 0.01
    np.testing.assert_allclose(y[kept], 1 / (1 - p), rtol=1e-6)
    assert abs(y.mean() - 1) < 0.02                                  # E[train output] = input
    drop.eval()
    assert drop(x) is x


def test_dropout_course_mode_non_inverted():
    ag.manual_seed(0)
    drop = nn.Dropout(0.5, inverted=False)
    y = drop(ag.ones(100_000)).numpy()
    assert set(np.unique(y)) == {0.0, 1.0} and abs(y.mean() - 0.5) < 0.01
    drop.eval()
    assert drop(ag.ones(3)).tolist() == [0.5, 0.5, 0.5]                # test-time scaling by keep prob
    assert repr(drop) == "Dropout(p=0.5, inplace=False, inverted=False)"


def test_dropout_reproducible_with_manual_seed_and_edge_cases():
    x = ag.randn(100)
    ag.manual_seed(7)
    a = nn.Dropout(0.5)(x).numpy()
    ag.manual_seed(7)
    b = nn.Dropout(0.5)(x).numpy()
    np.testing.assert_array_equal(a, b)
    assert np.all(nn.Dropout(1.0)(x).numpy() == 0)
    assert nn.Dropout(0.0)(x) is x
    for bad in (-0.1, 1.5):
        with pytest.raises(ValueError, match="between 0 and 1"):
            nn.Dropout(bad)
    y = nn.Dropout2d(0.5)(ag.ones(8, 16, 3, 3)).numpy()
    per_channel = y.reshape(8, 16, 9)
    assert np.all(per_channel.min(-1) == per_channel.max(-1))          # whole channels dropped


# ---- nn.init -------------------------------------------------------------------------------
def test_calculate_gain_table():
    table = {"linear": 1, "conv2d": 1, "sigmoid": 1, "tanh": 5 / 3, "relu": math.sqrt(2),
             "leaky_relu": math.sqrt(2 / (1 + 0.01 ** 2)), "selu": 0.75}
    for name, gain in table.items():
        assert init.calculate_gain(name) == pytest.approx(gain)
    assert init.calculate_gain("leaky_relu", 0.2) == pytest.approx(math.sqrt(2 / 1.04))
    with pytest.raises(ValueError, match="unsupported nonlinearity"):
        init.calculate_gain("swish")


def test_fan_in_fan_out():
    assert init._calculate_fan_in_and_fan_out(ag.empty(5, 3)) == (3, 5)
    assert init._calculate_fan_in_and_fan_out(ag.empty(8, 4, 3, 3)) == (36, 72)
    with pytest.raises(ValueError, match="fewer than 2 dimensions"):
        init._calculate_fan_in_and_fan_out(ag.empty(5))


FAN_IN, FAN_OUT = 500, 300
# (name, init call, expected bound or None, expected variance)
INIT_STATS = [
    ("uniform", lambda t: init.uniform_(t, -0.5, 0.5), 0.5, 1 / 12),
    ("normal", lambda t: init.normal_(t, 0.0, 0.3), None, 0.09),
    ("xavier_uniform", init.xavier_uniform_, math.sqrt(6 / (FAN_IN + FAN_OUT)), 2 / (FAN_IN + FAN_OUT)),
    ("xavier_normal", init.xavier_normal_, None, 2 / (FAN_IN + FAN_OUT)),
    ("kaiming_uniform_relu", lambda t: init.kaiming_uniform_(t, nonlinearity="relu"),
     math.sqrt(6 / FAN_IN), 2 / FAN_IN),
    ("kaiming_uniform_fan_out", lambda t: init.kaiming_uniform_(t, mode="fan_out", nonlinearity="relu"),
     math.sqrt(6 / FAN_OUT), 2 / FAN_OUT),
    ("kaiming_normal_relu", lambda t: init.kaiming_normal_(t, nonlinearity="relu"), None, 2 / FAN_IN),
    ("kaiming_uniform_sqrt5", lambda t: init.kaiming_uniform_(t, a=math.sqrt(5)),
     1 / math.sqrt(FAN_IN), 1 / (3 * FAN_IN)),
    ("lecun_uniform", init.lecun_uniform_, math.sqrt(3 / FAN_IN), 1 / FAN_IN),
    ("lecun_normal", init.lecun_normal_, None, 1 / FAN_IN),
    ("trunc_normal", lambda t: init.trunc_normal_(t, 0.0, 1.0, -1.0, 1.0), 1.0, 0.2911),
]


@pytest.mark.parametrize("name, fn, bound, var", INIT_STATS, ids=[r[0] for r in INIT_STATS])
def test_init_statistics(name, fn, bound, var):
    ag.manual_seed(0)
    t = ag.empty(FAN_OUT, FAN_IN, requires_grad=True)
    assert fn(t) is t and t.is_leaf and t.requires_grad
    a = t.detach().numpy().astype(np.float64)
    assert abs(a.mean()) < 0.02 * math.sqrt(var) * 10
    assert abs(a.var() / var - 1) < 0.02
    if bound is not None:
        assert np.abs(a).max() <= bound * (1 + 1e-6) and np.abs(a).max() > 0.99 * bound


def test_init_constant_eye_orthogonal_and_generator():
    t = ag.empty(3, 4)
    assert init.constant_(t, 0.25).tolist()[0] == [0.25] * 4
    assert np.all(init.zeros_(t).numpy() == 0) and np.all(init.ones_(t).numpy() == 1)
    np.testing.assert_array_equal(init.eye_(t).numpy(), np.eye(3, 4))
    w = init.orthogonal_(ag.empty(6, 4, dtype=ag.float64), gain=2.0).numpy()
    np.testing.assert_allclose(w.T @ w, 4 * np.eye(4), atol=1e-10)
    w = init.orthogonal_(ag.empty(3, 2, 2, dtype=ag.float64)).numpy().reshape(3, 4)
    np.testing.assert_allclose(w @ w.T, np.eye(3), atol=1e-10)
    g1, g2 = ag.Generator().manual_seed(5), ag.Generator().manual_seed(5)
    a = init.kaiming_normal_(ag.empty(4, 4), generator=g1).numpy()
    b = init.kaiming_normal_(ag.empty(4, 4), generator=g2).numpy()
    np.testing.assert_array_equal(a, b)
    with pytest.raises(ValueError):
        init.eye_(ag.empty(2, 2, 2))


def test_lecun_init_keeps_unit_variance_with_standardised_inputs():
    # the course's derivation: Var[xi] = n Var[w] Var[y] = 1 for standardised inputs
    ag.manual_seed(0)
    lin = nn.Linear(256, 512, bias=False)
    init.lecun_normal_(lin.weight)
    x = ag.randn(2000, 256)
    assert abs(lin(x).detach().numpy().var() - 1) < 0.05


# ---- nn.utils ------------------------------------------------------------------------------
def _grads(*arrays):
    ps = [nn.Parameter(ag.zeros(*np.shape(a))) for a in arrays]
    for p, a in zip(ps, arrays):
        p.grad = ag.tensor(np.asarray(a, np.float32))
    return ps


@pytest.mark.parametrize("norm_type, expected", [(2.0, 13.0), (1.0, 3 + 4 + 12), (math.inf, 12.0)])
def test_clip_grad_norm(norm_type, expected):
    ps = _grads([3.0, 4.0], [[12.0]])
    total = nn.utils.clip_grad_norm_(ps, max_norm=1.0, norm_type=norm_type)
    assert isinstance(total, ag.Tensor) and total.item() == pytest.approx(expected)
    scale = 1.0 / (expected + 1e-6)
    np.testing.assert_allclose(ps[0].grad.numpy(), np.array([3.0, 4.0]) * scale, rtol=1e-6)
    # below max_norm: untouched
    ps = _grads([3.0, 4.0])
    assert nn.utils.clip_grad_norm_(ps, max_norm=10.0).item() == pytest.approx(5.0)
    assert ps[0].grad.tolist() == [3.0, 4.0]


def test_clip_grad_norm_nonfinite_and_no_grads():
    ps = _grads([np.inf, 1.0])
    with pytest.raises(RuntimeError, match="non-finite"):
        nn.utils.clip_grad_norm_(ps, 1.0, error_if_nonfinite=True)
    assert nn.utils.clip_grad_norm_([nn.Parameter(ag.zeros(2))], 1.0).item() == 0.0


def test_clip_grad_value_and_vector_round_trip():
    ps = _grads([-3.0, 0.5, 2.0])
    nn.utils.clip_grad_value_(ps, 1.0)
    assert ps[0].grad.tolist() == [-1.0, 0.5, 1.0]
    model = nn.Sequential(nn.Linear(3, 2), nn.Linear(2, 1))
    vec = nn.utils.parameters_to_vector(model.parameters())
    assert vec.shape == (11,)
    w = model[0].weight
    nn.utils.vector_to_parameters(ag.arange(11, dtype=ag.float32), model.parameters())
    assert model[0].weight is w and w.tolist() == [[0.0, 1.0, 2.0], [3.0, 4.0, 5.0]]
    assert model[1].bias.tolist() == [10.0]
    with pytest.raises(ValueError, match="expected \\(11,\\)"):
        nn.utils.vector_to_parameters(ag.zeros(5), model.parameters())


# ---- cross-checks against PyTorch -------------------------------------------------------------
def test_default_inits_match_torch_distributions():
    torch = pytest.importorskip("torch")
    torch.manual_seed(0)
    ag.manual_seed(0)
    for ours, theirs in [(nn.Linear(300, 200), torch.nn.Linear(300, 200)),
                         (nn.Embedding(400, 100), torch.nn.Embedding(400, 100))]:
        for (n1, p1), (n2, p2) in zip(ours.named_parameters(), theirs.named_parameters()):
            a, b = p1.detach().numpy(), p2.detach().numpy()
            assert n1 == n2 and a.shape == b.shape and a.dtype == b.dtype
            assert abs(np.abs(a).max() / np.abs(b).max() - 1) < 0.05
            assert abs(a.std() / b.std() - 1) < 0.05
    t = torch.empty(300, 500)
    for name in ["linear", "tanh", "relu", "selu", "sigmoid", "conv2d"]:
        assert init.calculate_gain(name) == pytest.approx(torch.nn.init.calculate_gain(name))
    assert init._calculate_fan_in_and_fan_out(ag.empty(8, 4, 3, 3)) == \
        torch.nn.init._calculate_fan_in_and_fan_out(torch.empty(8, 4, 3, 3))
    torch.nn.init.kaiming_uniform_(t, a=math.sqrt(5))
    w = init.kaiming_uniform_(ag.empty(300, 500), a=math.sqrt(5)).numpy()
    assert abs(np.abs(w).max() / t.abs().max().item() - 1) < 0.01


def test_clip_grad_norm_matches_torch():
    torch = pytest.importorskip("torch")
    rng = _rng()
    arrays = [rng.standard_normal(s).astype(np.float32) for s in [(3, 4), (4,), (2, 2, 2)]]
    for norm_type in (2.0, 1.0, 3.0, math.inf):
        ours = _grads(*arrays)
        theirs = [torch.zeros(a.shape, requires_grad=True) for a in arrays]
        for p, a in zip(theirs, arrays):
            p.grad = torch.from_numpy(a.copy())
        t1 = nn.utils.clip_grad_norm_(ours, 0.5, norm_type)
        t2 = torch.nn.utils.clip_grad_norm_(theirs, 0.5, norm_type)
        assert t1.item() == pytest.approx(t2.item(), rel=1e-5)
        for p, q in zip(ours, theirs):
            np.testing.assert_allclose(p.grad.numpy(), q.grad.numpy(), rtol=1e-5, atol=1e-7)


def test_linear_and_embedding_outputs_match_torch():
    torch = pytest.importorskip("torch")
    tl, te = torch.nn.Linear(5, 3), torch.nn.Embedding(7, 4, padding_idx=1)
    ol, oe = nn.Linear(5, 3), nn.Embedding(7, 4, padding_idx=1)
    ol.load_state_dict({k: v.detach().numpy() for k, v in tl.state_dict().items()})
    oe.load_state_dict({k: v.detach().numpy() for k, v in te.state_dict().items()})
    x = _rng().standard_normal((2, 5)).astype(np.float32)
    np.testing.assert_allclose(ol(ag.tensor(x)).detach().numpy(), tl(torch.from_numpy(x)).detach().numpy(),
                               rtol=1e-5, atol=1e-6)
    idx = np.array([[1, 2, 1], [6, 0, 1]])
    oe(ag.tensor(idx)).sum().backward()
    te(torch.from_numpy(idx)).sum().backward()
    np.testing.assert_array_equal(oe.weight.grad.numpy(), te.weight.grad.numpy())
