"""Tensor creation, dtypes, attributes and conversions, randomness, devices, and ag.save / ag.load."""
import collections
import io
import json
import os
import pickle
import zipfile

import numpy as np
import pytest

import autograd_core as ag
import autograd_core.serialization as ser

# ---- dtype rules of ag.tensor ---------------------------------------------------------------------------

DTYPE_RULES = [
    # data, expected dtype
    (1.5, ag.float32),
    ([1.0, 2.0], ag.float32),
    ([1, 2.5], ag.float32),
    ([[1, 2], [3, 4]], ag.int64),
    (7, ag.int64),
    ([True, False], ag.bool),
    (True, ag.bool),
    (np.ones(3), ag.float64),
    (np.ones(3, dtype=np.float32), ag.float32),
    (np.arange(3, dtype=np.int32), ag.int32),
    (np.arange(3), ag.int64),
    (np.array([True]), ag.bool),
    (np.float64(1.5), ag.float64),
    (np.float32(1.5), ag.float32),
]


@pytest.mark.parametrize("data, dtype", DTYPE_RULES, ids=[f"{type(d).__name__}-{t}" for d, t in DTYPE_RULES])
def test_tensor_dtype_rules(data, dtype):
    t = ag.tensor(data)
    assert t.dtype == dtype
    np.testing.assert_array_equal(t.numpy(), np.asarray(data))


def test_explicit_dtype_wins():
    assert ag.tensor([1, 2], dtype=ag.float64).dtype == ag.float64
    assert ag.tensor(np.ones(2), dtype=ag.float32).dtype == ag.float32
    assert ag.tensor([1.7], dtype=ag.long).tolist() == [1]
    assert ag.tensor([1.0], dtype="float16").dtype == ag.half


def test_dtype_aliases():
    assert ag.float is ag.float32 or ag.float == ag.float32
    assert (ag.double, ag.half, ag.long, ag.int) == (ag.float64, ag.float16, ag.int64, ag.int32)


def test_tensor_copies_but_from_numpy_shares():
    a = np.zeros(3)
    t, s = ag.tensor(a), ag.from_numpy(a)
    a[0] = 5.0
    assert t.numpy()[0] == 0.0 and s.numpy()[0] == 5.0
    assert s.dtype == ag.float64
    with pytest.raises(TypeError, match="from_numpy"):
        ag.from_numpy([1.0])


def test_Tensor_constructor_and_tensor_of_tensors():
    t = ag.Tensor([1.0, 2.0], requires_grad=True)
    assert t.requires_grad and t.dtype == ag.float32
    u = ag.tensor([ag.tensor(1.0), ag.tensor(2.0)])
    assert u.shape == (2,) and u.tolist() == [1.0, 2.0]


def test_tensor_rejects_objects():
    with pytest.raises(TypeError, match="tensor"):
        ag.tensor([object()])


def test_default_dtype_switch():
    assert ag.get_default_dtype() == ag.float32
    try:
        ag.set_default_dtype(ag.float64)
        assert ag.tensor(1.5).dtype == ag.float64
        assert ag.zeros(2).dtype == ag.float64
    finally:
        ag.set_default_dtype(ag.float32)
    assert ag.tensor(1.5).dtype == ag.float32
    with pytest.raises(TypeError, match="floating"):
        ag.set_default_dtype(ag.int64)


# ---- creation functions ------------------------------------------------------------------------------------

CREATION = [
    # name, call, expected array
    ("zeros varargs", lambda: ag.zeros(2, 3), np.zeros((2, 3), np.float32)),
    ("zeros tuple", lambda: ag.zeros((2, 3)), np.zeros((2, 3), np.float32)),
    ("zeros list", lambda: ag.zeros([2]), np.zeros(2, np.float32)),
    ("zeros 0-d", lambda: ag.zeros(()), np.zeros((), np.float32)),
    ("ones int", lambda: ag.ones(2, dtype=ag.int64), np.ones(2, np.int64)),
    ("empty", lambda: ag.empty(2, 2), np.zeros((2, 2), np.float32)),
    ("full int", lambda: ag.full((2,), 7), np.full(2, 7, np.int64)),
    ("full float", lambda: ag.full((2,), 7.0), np.full(2, 7.0, np.float32)),
    ("full bool", lambda: ag.full((1,), True), np.ones(1, bool)),
    ("full int size", lambda: ag.full(3, 1.5), np.full(3, 1.5, np.float32)),
    ("arange end", lambda: ag.arange(5), np.arange(5)),
    ("arange start end", lambda: ag.arange(2, 5), np.arange(2, 5)),
    ("arange float", lambda: ag.arange(0, 1, 0.25), np.arange(0, 1, 0.25, dtype=np.float32)),
    ("arange float end", lambda: ag.arange(3.0), np.arange(3, dtype=np.float32)),
    ("arange negative step", lambda: ag.arange(5, 0, -2), np.array([5, 3, 1])),
    ("arange dtype", lambda: ag.arange(3, dtype=ag.float64), np.arange(3.0)),
    ("linspace", lambda: ag.linspace(0, 1, 5), np.linspace(0, 1, 5, dtype=np.float32)),
    ("linspace one", lambda: ag.linspace(2, 3, 1), np.array([2.0], np.float32)),
    ("eye", lambda: ag.eye(3), np.eye(3, dtype=np.float32)),
    ("eye rect", lambda: ag.eye(2, 3), np.eye(2, 3, dtype=np.float32)),
    ("zeros_like", lambda: ag.zeros_like(ag.ones(2, dtype=ag.int64)), np.zeros(2, np.int64)),
    ("ones_like", lambda: ag.ones_like(ag.zeros(2, 1)), np.ones((2, 1), np.float32)),
    ("full_like", lambda: ag.full_like(ag.zeros(2, dtype=ag.float64), 3), np.full(2, 3.0)),
    ("ones_like dtype", lambda: ag.ones_like(ag.zeros(2), dtype=ag.int32), np.ones(2, np.int32)),
]


@pytest.mark.parametrize("call, expected", [c[1:] for c in CREATION], ids=[c[0] for c in CREATION])
def test_creation(call, expected):
    t = call()
    assert isinstance(t, ag.Tensor)
    assert t.shape == expected.shape and t.dtype == expected.dtype
    np.testing.assert_allclose(t.numpy(), expected)
    assert not t.requires_grad and t.is_leaf


@pytest.mark.parametrize("fn", [ag.zeros, ag.ones, ag.empty, ag.rand, ag.randn])
def test_creation_requires_grad_and_device(fn):
    t = fn(2, 3, requires_grad=True, device="cpu")
    assert t.requires_grad and t.is_leaf and t.dtype == ag.float32
    u = fn(2, dtype=ag.float64, device=ag.device("cpu"))
    assert u.dtype == ag.float64
    with pytest.raises(RuntimeError, match="cuda"):
        fn(2, device="cuda")


def test_creation_errors():
    with pytest.raises(RuntimeError, match="negative"):
        ag.zeros(-1)
    with pytest.raises(RuntimeError, match="step"):
        ag.arange(0, 3, 0)
    with pytest.raises(RuntimeError, match="floating point"):
        ag.zeros(2, dtype=ag.int64, requires_grad=True)


def test_like_functions_keep_shape_and_dtype():
    base = ag.zeros(2, 3, dtype=ag.float64)
    for fn in (ag.zeros_like, ag.ones_like, ag.rand_like, ag.randn_like, ag.empty_like):
        t = fn(base)
        assert t.shape == (2, 3) and t.dtype == ag.float64
    r = ag.rand_like(base)
    assert ((r.numpy() >= 0) & (r.numpy() < 1)).all()


# ---- randomness ------------------------------------------------------------------------------------------

RANDOM_CALLS = [
    ("rand", lambda g: ag.rand(3, 4, generator=g)),
    ("randn", lambda g: ag.randn(3, 4, generator=g)),
    ("randint", lambda g: ag.randint(0, 10, (5,), generator=g)),
    ("randperm", lambda g: ag.randperm(8, generator=g)),
    ("multinomial", lambda g: ag.multinomial(ag.tensor([0.1, 0.2, 0.7]), 2, generator=g)),
    ("bernoulli", lambda g: ag.bernoulli(ag.full((6,), 0.5), generator=g)),
]


@pytest.mark.parametrize("call", [c[1] for c in RANDOM_CALLS], ids=[c[0] for c in RANDOM_CALLS])
def test_manual_seed_reproducible(call):
    ag.manual_seed(123)
    a = call(None).numpy().copy()
    b = call(None).numpy().copy()
    ag.manual_seed(123)
    c = call(None).numpy().copy()
    np.testing.assert_array_equal(a, c)
    if a.size > 3:
        assert not np.array_equal(a, b)


@pytest.mark.parametrize("call", [c[1] for c in RANDOM_CALLS], ids=[c[0] for c in RANDOM_CALLS])
def test_generator_reproducible_and_independent_of_default(call):
    a = call(ag.Generator().manual_seed(7)).numpy().copy()
    ag.manual_seed(0)
    state = ag.get_rng_state()
    b = call(ag.Generator().manual_seed(7)).numpy().copy()
    np.testing.assert_array_equal(a, b)
    # a private generator does not consume the default generator's stream
    assert ag.get_rng_state() == state


def test_generator_seed_chaining_and_state():
    g = ag.Generator()
    assert g.manual_seed(5) is g and g.initial_seed() == 5
    st = g.get_state()
    a = ag.randn(4, generator=g).numpy().copy()
    g.set_state(st)
    np.testing.assert_array_equal(ag.randn(4, generator=g).numpy(), a)
    assert ag.manual_seed(3).initial_seed() == 3 and ag.initial_seed() == 3


def test_randint_both_signatures():
    ag.manual_seed(0)
    a = ag.randint(3, 7, (200,))
    b = ag.randint(4, (200,))
    c = ag.randint(4, size=(2, 3))
    assert a.dtype == ag.int64 and b.dtype == ag.int64
    assert a.numpy().min() >= 3 and a.numpy().max() < 7
    assert set(np.unique(b.numpy())) == {0, 1, 2, 3}
    assert c.shape == (2, 3)
    with pytest.raises(RuntimeError, match="high"):
        ag.randint(5, 5, (2,))


def test_randperm_is_permutation():
    ag.manual_seed(1)
    p = ag.randperm(50)
    assert p.dtype == ag.int64
    np.testing.assert_array_equal(np.sort(p.numpy()), np.arange(50))


def test_rand_randn_statistics():
    g = ag.Generator().manual_seed(0)
    u = ag.rand(20000, generator=g).numpy()
    n = ag.randn(20000, generator=g).numpy()
    assert u.min() >= 0 and u.max() < 1 and abs(u.mean() - 0.5) < 0.01
    assert abs(n.mean()) < 0.03 and abs(n.std() - 1) < 0.03


def test_multinomial_with_replacement_frequencies():
    g = ag.Generator().manual_seed(0)
    probs = ag.tensor([0.1, 0.0, 0.6, 0.3])
    s = ag.multinomial(probs, 20000, replacement=True, generator=g)
    assert s.shape == (20000,) and s.dtype == ag.int64
    freq = np.bincount(s.numpy(), minlength=4) / 20000
    np.testing.assert_allclose(freq, [0.1, 0.0, 0.6, 0.3], atol=0.015)
    assert freq[1] == 0.0


def test_multinomial_unnormalised_weights_2d():
    g = ag.Generator().manual_seed(1)
    w = ag.tensor([[1.0, 3.0, 0.0], [0.0, 0.0, 5.0]])
    s = ag.multinomial(w, 500, replacement=True, generator=g)
    assert s.shape == (2, 500)
    assert set(np.unique(s.numpy()[1])) == {2}
    assert abs((s.numpy()[0] == 1).mean() - 0.75) < 0.06


def test_multinomial_without_replacement():
    g = ag.Generator().manual_seed(2)
    w = ag.tensor([[0.2, 0.0, 0.5, 0.3], [1.0, 1.0, 1.0, 1.0]])
    for _ in range(20):
        s = ag.multinomial(w, 3, generator=g).numpy()
        assert s.shape == (2, 3)
        assert len(set(s[0])) == 3 and 1 not in s[0]  # distinct, zero-weight never drawn
        assert len(set(s[1])) == 3
    full = ag.multinomial(ag.tensor([1.0, 2.0, 3.0]), 3, generator=g).numpy()
    assert sorted(full) == [0, 1, 2]
    with pytest.raises(RuntimeError, match="without replacement"):
        ag.multinomial(ag.tensor([0.5, 0.5]), 3)
    with pytest.raises(RuntimeError, match="non-negative"):
        ag.multinomial(ag.tensor([-0.5, 1.5]), 1)


def test_multinomial_first_draw_follows_probabilities():
    g = ag.Generator().manual_seed(3)
    s = ag.multinomial(ag.tensor([[0.7, 0.2, 0.1]] * 4000), 2, generator=g).numpy()
    np.testing.assert_allclose(np.bincount(s[:, 0], minlength=3) / 4000, [0.7, 0.2, 0.1], atol=0.03)


def test_bernoulli():
    g = ag.Generator().manual_seed(0)
    p = ag.tensor([0.0, 1.0] + [0.3] * 10000, dtype=ag.float64)
    s = ag.bernoulli(p, generator=g)
    assert s.shape == p.shape and s.dtype == ag.float64
    assert s.numpy()[0] == 0.0 and s.numpy()[1] == 1.0
    assert set(np.unique(s.numpy())) <= {0.0, 1.0}
    assert abs(s.numpy()[2:].mean() - 0.3) < 0.02
    with pytest.raises(RuntimeError, match="bernoulli"):
        ag.bernoulli(ag.tensor([1.5]))


# ---- attributes and conversions ---------------------------------------------------------------------------

def test_data_shares_storage_and_does_not_require_grad():
    w = ag.tensor([1.0, 2.0], requires_grad=True)
    d = w.data
    assert not d.requires_grad and d.is_leaf
    d.add_(1.0)
    np.testing.assert_allclose(w.detach().numpy(), [2.0, 3.0])
    w.data.mul_(2)
    np.testing.assert_allclose(w.detach().numpy(), [4.0, 6.0])
    assert w.requires_grad


def test_numpy_shares_memory_when_no_grad():
    t = ag.zeros(3)
    t.numpy()[1] = 4.0
    assert t.tolist() == [0.0, 4.0, 0.0]


def test_shape_size_dims():
    t = ag.zeros(2, 3, 4)
    assert t.shape == (2, 3, 4) and isinstance(t.shape, tuple)
    assert t.size() == (2, 3, 4) and t.size(1) == 3 and t.size(-1) == 4
    assert t.ndim == 3 and t.dim() == 3 and t.numel() == 24
    with pytest.raises((IndexError, ValueError, RuntimeError)):
        t.size(3)


def test_T_and_mT():
    a = np.arange(24.0).reshape(2, 3, 4)
    t = ag.tensor(a)
    np.testing.assert_array_equal(t.T.numpy(), a.transpose(2, 1, 0))
    np.testing.assert_array_equal(t.mT.numpy(), a.swapaxes(-1, -2))
    m = ag.tensor(a[0])
    np.testing.assert_array_equal(m.T.numpy(), a[0].T)
    np.testing.assert_array_equal(m.t().numpy(), a[0].T)


def test_T_gradient():
    x = ag.tensor(np.arange(6.0).reshape(2, 3), requires_grad=True)
    (x.T * ag.tensor(np.arange(6.0).reshape(3, 2))).sum().backward()
    np.testing.assert_array_equal(x.grad.numpy(), np.arange(6.0).reshape(3, 2).T)


def test_item_and_tolist():
    assert ag.tensor(2.5).item() == 2.5 and isinstance(ag.tensor(2.5).item(), float)
    assert ag.tensor([7]).item() == 7 and isinstance(ag.tensor([7]).item(), int)
    assert ag.tensor(True).item() is True
    assert ag.tensor([[1, 2], [3, 4]]).tolist() == [[1, 2], [3, 4]]
    assert ag.tensor(3.0).tolist() == 3.0
    with pytest.raises(RuntimeError, match="item"):
        ag.ones(2).item()


def test_format():
    loss = ag.tensor(0.123456)
    assert f"{loss:.4f}" == "0.1235"
    assert f"{ag.tensor([2.0]):.1f}" == "2.0"
    assert f"{ag.tensor(3):d}" == "3"
    assert f"{ag.tensor([1.0, 2.0])}" == repr(ag.tensor([1.0, 2.0]))
    x = ag.tensor(1.5, requires_grad=True) * 2
    assert f"{x:.2f}" == "3.00"
    with pytest.raises(TypeError, match="format"):
        f"{ag.ones(2):.2f}"


def test_bool():
    assert bool(ag.tensor(1.0)) and not bool(ag.tensor(0.0))
    assert bool(ag.tensor([True]))
    with pytest.raises(RuntimeError, match="ambiguous"):
        bool(ag.ones(2))
    if ag.tensor(0.5) > 0:
        pass
    else:
        pytest.fail("comparison result should be truthy")


def test_index():
    items = [10, 20, 30]
    assert items[ag.tensor(2)] == 30
    assert list(range(10))[ag.tensor(1):ag.tensor(3)] == [1, 2]
    assert np.arange(5)[ag.tensor(4)] == 4
    with pytest.raises(TypeError, match="__index__"):
        items[ag.tensor(1.0)]
    with pytest.raises(TypeError):
        items[ag.tensor([0, 1])]


def test_int_float_conversions():
    assert int(ag.tensor(3.7)) == 3 and float(ag.tensor(2)) == 2.0


def test_array_protocol():
    t = ag.tensor([[1.0, 2.0]])
    a = np.asarray(t)
    assert a.dtype == np.float32 and a.shape == (1, 2)
    assert np.asarray(t, dtype=np.float64).dtype == np.float64
    np.testing.assert_array_equal(np.array(t), [[1.0, 2.0]])
    with pytest.raises(RuntimeError, match="detach"):
        np.asarray(ag.ones(2, requires_grad=True))


def test_len_and_iter():
    t = ag.tensor([[1, 2], [3, 4], [5, 6]])
    assert len(t) == 3
    rows = list(t)
    assert len(rows) == 3 and all(isinstance(r, ag.Tensor) for r in rows)
    assert rows[2].tolist() == [5, 6]
    with pytest.raises(TypeError, match="0-d"):
        len(ag.tensor(1.0))
    with pytest.raises(TypeError, match="0-d"):
        iter(ag.tensor(1.0))


def test_iter_carries_gradient():
    x = ag.tensor([1.0, 2.0, 3.0], requires_grad=True)
    total = sum(v * v for v in x)
    total.backward()
    np.testing.assert_allclose(x.grad.numpy(), [2.0, 4.0, 6.0])


REPRS = [
    (lambda: ag.tensor([1.0, 2.5]), ["tensor(", "1.", "2.5"], ["dtype", "grad_fn", "requires_grad"]),
    (lambda: ag.tensor([1, 2]), ["1, 2"], ["dtype"]),
    (lambda: ag.tensor([1.0], dtype=ag.float64), ["dtype=float64"], []),
    (lambda: ag.tensor([1.0], requires_grad=True), ["requires_grad=True"], ["grad_fn"]),
    (lambda: ag.tensor([1.0], requires_grad=True) * 2, ["grad_fn=<MulBackward0>", "2."], []),
    (lambda: ag.tensor([1, 2], dtype=ag.int32), ["dtype=int32"], []),
]


@pytest.mark.parametrize("make, present, absent", REPRS)
def test_repr(make, present, absent):
    r = repr(make())
    for p in present:
        assert p in r, r
    for a in absent:
        assert a not in r, r
    assert str(make()) == r


CONVERSIONS = [
    ("to float64", lambda t: t.to(ag.float64), ag.float64),
    ("to dtype kw", lambda t: t.to(dtype=ag.float16), ag.float16),
    ("to device dtype", lambda t: t.to("cpu", ag.float64), ag.float64),
    ("float", lambda t: t.float(), ag.float32),
    ("double", lambda t: t.double(), ag.float64),
    ("long", lambda t: t.long(), ag.int64),
    ("int", lambda t: t.int(), ag.int32),
    ("bool", lambda t: t.bool(), ag.bool),
    ("half", lambda t: t.half(), ag.float16),
    ("type", lambda t: t.type(ag.float64), ag.float64),
    ("type_as", lambda t: t.type_as(ag.zeros(1, dtype=ag.int64)), ag.int64),
    ("to tensor", lambda t: t.to(ag.zeros(1, dtype=ag.float64)), ag.float64),
]


@pytest.mark.parametrize("conv, dtype", [c[1:] for c in CONVERSIONS], ids=[c[0] for c in CONVERSIONS])
def test_dtype_conversions(conv, dtype):
    t = ag.tensor([0.0, 1.5, -2.0])
    u = conv(t)
    assert u.dtype == dtype and u.shape == (3,)
    np.testing.assert_array_equal(u.numpy(), t.numpy().astype(dtype))


def test_to_same_dtype_and_cpu_return_self():
    t = ag.tensor([1.0])
    assert t.to("cpu") is t and t.to(ag.device("cpu")) is t and t.float() is t and t.cpu() is t
    with pytest.raises(RuntimeError, match="cuda"):
        t.to("cuda")
    with pytest.raises(RuntimeError, match="GPU"):
        t.cuda()


def test_to_dtype_is_differentiable():
    x = ag.tensor([1.0, 2.0], requires_grad=True)
    y = x.double()
    assert y.dtype == ag.float64 and y.grad_fn is not None
    (y * y).sum().backward()
    assert x.grad.dtype == ag.float32
    np.testing.assert_allclose(x.grad.numpy(), [2.0, 4.0])


def test_type_names():
    assert ag.zeros(1).type() == "ag.FloatTensor"
    assert ag.zeros(1, dtype=ag.int64).type() == "ag.LongTensor"


def test_device():
    d = ag.device("cpu")
    assert d.type == "cpu" and str(d) == "cpu"
    assert d == "cpu" and d == ag.device(d)
    assert ag.zeros(1).device == d and ag.zeros(1).device == "cpu"
    assert ag.device("cpu:0").type == "cpu"
    with pytest.raises(RuntimeError, match="cuda"):
        ag.device("cuda")
    assert ag.cuda.is_available() is False
    assert ag.cuda.device_count() == 0
    dev = ag.device("cuda" if ag.cuda.is_available() else "cpu")  # PyTorch's boilerplate
    assert ag.ones(2).to(dev).device == "cpu"


def test_new_tensor_helpers():
    t = ag.zeros(2, dtype=ag.float64)
    assert t.new_zeros(3).dtype == ag.float64 and t.new_zeros(3).shape == (3,)
    assert t.new_ones((2, 2)).tolist() == [[1.0, 1.0], [1.0, 1.0]]
    assert t.new_full((2,), 4.0).tolist() == [4.0, 4.0]
    assert t.new_tensor([1, 2]).dtype == ag.float64


def test_clone_detach_requires_grad_():
    x = ag.tensor([1.0, 2.0], requires_grad=True)
    c = x.clone()
    assert c.grad_fn is not None
    d = x.detach()
    assert not d.requires_grad and np.shares_memory(d.numpy(), x.detach().numpy())
    cd = x.detach().clone()
    cd.add_(1)
    assert x.tolist() == [1.0, 2.0]
    y = ag.zeros(2)
    assert y.requires_grad_() is y and y.requires_grad
    y.requires_grad = False
    assert not y.requires_grad


# ---- ag.save / ag.load ----------------------------------------------------------------------------------

def _state_like():
    return {
        "model": collections.OrderedDict([
            ("layer.weight", ag.tensor(np.arange(6.0, dtype=np.float32).reshape(2, 3))),
            ("layer.bias", ag.zeros(2, requires_grad=True)),
        ]),
        "optimizer": {
            "state": {0: {"step": 12, "exp_avg": ag.ones(2, 3, dtype=ag.float64)}, 1: {"step": 12}},
            "param_groups": [{"lr": 1e-3, "betas": (0.9, 0.999), "eps": 1e-8, "params": [0, 1],
                              "amsgrad": False, "weight_decay": 0.0}],
        },
        "epoch": 3,
        "best": float("inf"),
        "nan": float("nan"),
        "name": "mlp ✓",
        "blob": b"\x00\x01\xff",
        "none": None,
        "history": [0.5, 0.25],
        "shape": (2, 3),
        "arrays": (np.arange(4, dtype=np.int32), np.array([[1.5, 2.5]]), np.array([True, False])),
        "scalar": np.float32(0.5),
        "empty": {"list": [], "tuple": (), "dict": {}},
        "int_and_bool": [1, True, 0, False],
        7: "int key",
        -1: {2: "nested int key"},
    }


def _assert_same(a, b, path="root"):
    assert type(a) is type(b), f"{path}: {type(a)} vs {type(b)}"
    if isinstance(a, ag.Tensor):
        assert a.dtype == b.dtype and a.shape == b.shape and a.requires_grad == b.requires_grad, path
        np.testing.assert_array_equal(a.detach().numpy(), b.detach().numpy())
    elif isinstance(a, np.ndarray):
        assert a.dtype == b.dtype, path
        np.testing.assert_array_equal(a, b)
    elif isinstance(a, np.generic):
        assert a.dtype == b.dtype and a == b, path
    elif isinstance(a, dict):
        assert list(a.keys()) == list(b.keys()), path
        for k in a:
            _assert_same(a[k], b[k], f"{path}[{k!r}]")
    elif isinstance(a, (list, tuple)):
        assert len(a) == len(b), path
        for i, (x, y) in enumerate(zip(a, b)):
            _assert_same(x, y, f"{path}[{i}]")
    elif isinstance(a, float) and np.isnan(a):
        assert np.isnan(b), path
    else:
        assert a == b, path


@pytest.mark.parametrize("kind", ["str", "pathlib", "file", "bytesio"])
def test_save_load_round_trip(tmp_path, kind):
    obj = _state_like()
    target = tmp_path / "ckpt.pt"
    if kind == "str":
        ag.save(obj, str(target))
        back = ag.load(str(target))
    elif kind == "pathlib":
        ag.save(obj, target)
        back = ag.load(target, weights_only=True)
    elif kind == "file":
        with open(target, "wb") as f:
            ag.save(obj, f)
        with open(target, "rb") as f:
            back = ag.load(f)
    else:
        buf = io.BytesIO()
        ag.save(obj, buf)
        buf.seek(0)
        back = ag.load(buf)
    _assert_same(obj, back)
    assert back["model"]["layer.bias"].is_leaf


def test_load_map_location(tmp_path):
    p = tmp_path / "t.pt"
    ag.save({"w": ag.ones(2)}, p)
    for loc in (None, "cpu", ag.device("cpu")):
        assert ag.load(p, map_location=loc)["w"].tolist() == [1.0, 1.0]
    for bad in ("cuda", "cuda:0", {"cuda:0": "cpu"}, lambda s, loc: s):
        with pytest.raises(RuntimeError, match="map_location"):
            ag.load(p, map_location=bad)


def test_save_tensor_views_and_shared_tensor(tmp_path):
    base = ag.tensor(np.arange(12.0).reshape(3, 4))
    obj = {"t": base.T, "a": base, "b": base}
    p = tmp_path / "v.pt"
    ag.save(obj, p)
    back = ag.load(p)
    np.testing.assert_array_equal(back["t"].numpy(), np.arange(12.0).reshape(3, 4).T)
    np.testing.assert_array_equal(back["a"].numpy(), back["b"].numpy())


def test_save_single_tensor_and_plain_values(tmp_path):
    p = tmp_path / "x.pt"
    for obj in (ag.tensor(3.5), 42, "text", None, [1, [2, (3,)]], 2 ** 80, -0.0):
        ag.save(obj, p)
        _assert_same(obj, ag.load(p))


def test_save_unsupported_object_names_type_and_path(tmp_path):
    class Foo:
        pass

    p = tmp_path / "bad.pt"
    with pytest.raises(TypeError) as e:
        ag.save({"model": {"x": Foo()}}, p)
    assert "Foo" in str(e.value) and "['model']['x']" in str(e.value)
    with pytest.raises(TypeError, match=r"\['layers'\]\[1\]"):
        ag.save({"layers": [1, {2, 3}]}, p)
    with pytest.raises(TypeError, match="object"):
        ag.save({"a": np.array([None, 1], dtype=object)}, p)
    with pytest.raises(TypeError, match="key"):
        ag.save({(1, object()): 1}, p)
    assert not p.exists()
    assert os.listdir(tmp_path) == []


def test_save_reference_cycle_is_an_error(tmp_path):
    loop = []
    loop.append(loop)
    with pytest.raises(ValueError, match="cycle"):
        ag.save({"x": loop}, tmp_path / "c.pt")


def test_save_is_atomic_when_the_writer_crashes(tmp_path, monkeypatch):
    p = tmp_path / "ckpt.pt"
    ag.save({"epoch": 1, "w": ag.ones(3)}, p)
    before = p.read_bytes()

    real_write = np.lib.format.write_array
    calls = []

    def crash_on_second_array(fp, array, **kwargs):
        calls.append(1)
        if len(calls) == 2:
            raise OSError("disk full (simulated)")
        return real_write(fp, array, **kwargs)

    monkeypatch.setattr(np.lib.format, "write_array", crash_on_second_array)
    with pytest.raises(OSError, match="simulated"):
        ag.save({"epoch": 2, "w": ag.zeros(3), "v": ag.zeros(100)}, p)
    monkeypatch.undo()
    assert len(calls) == 2  # the crash really happened midway
    assert p.read_bytes() == before
    assert os.listdir(tmp_path) == ["ckpt.pt"]  # no temporary file left behind
    assert ag.load(p)["epoch"] == 1


def test_save_is_atomic_when_interrupted_before_rename(tmp_path, monkeypatch):
    p = tmp_path / "ckpt.pt"
    ag.save([1], p)

    def fail_replace(src, dst):
        raise KeyboardInterrupt

    monkeypatch.setattr(ser.os, "replace", fail_replace)
    with pytest.raises(KeyboardInterrupt):
        ag.save([2], p)
    monkeypatch.undo()
    assert ag.load(p) == [1]
    assert os.listdir(tmp_path) == ["ckpt.pt"]


def test_save_fsyncs_before_rename(tmp_path, monkeypatch):
    events = []
    real_fsync, real_replace = os.fsync, os.replace
    monkeypatch.setattr(ser.os, "fsync", lambda fd: (events.append("fsync"), real_fsync(fd))[1])
    monkeypatch.setattr(ser.os, "replace", lambda a, b: (events.append("replace"), real_replace(a, b))[1])
    ag.save({"a": 1}, tmp_path / "f.pt")
    assert "fsync" in events and events.index("fsync") < events.index("replace")


def test_save_keeps_existing_file_mode(tmp_path):
    p = tmp_path / "m.pt"
    ag.save(1, p)
    os.chmod(p, 0o640)
    ag.save(2, p)
    assert (os.stat(p).st_mode & 0o777) == 0o640


class _Boom:
    """Unpickling this sets a flag: the loader must never get that far."""
    triggered = False

    def __reduce__(self):
        return (_trigger, ())


def _trigger():
    _Boom.triggered = True
    return "pwned"


def _write_archive(path, manifest, members):
    with zipfile.ZipFile(path, "w") as zf:
        zf.writestr("manifest.json", json.dumps(manifest))
        for name, data in members.items():
            zf.writestr(name, data)


def test_load_refuses_pickled_object_array(tmp_path):
    buf = io.BytesIO()
    np.save(buf, np.array([_Boom()], dtype=object), allow_pickle=True)
    p = tmp_path / "evil.pt"
    manifest = {"format": "autograd_core.save", "version": 1, "root": {"t": "ndarray", "a": 0}}
    _write_archive(p, manifest, {"arrays/0.npy": buf.getvalue()})
    _Boom.triggered = False
    with pytest.raises(RuntimeError, match="pickle"):
        ag.load(p)
    assert not _Boom.triggered


def test_load_refuses_pickle_files(tmp_path):
    p = tmp_path / "pickled.pt"
    p.write_bytes(pickle.dumps({"x": _Boom()}))
    _Boom.triggered = False
    with pytest.raises(RuntimeError, match="pickle"):
        ag.load(p)
    # torch.save's format: a zip whose payload is a pickle
    q = tmp_path / "torch_style.pt"
    with zipfile.ZipFile(q, "w") as zf:
        zf.writestr("archive/data.pkl", pickle.dumps({"x": _Boom()}))
    with pytest.raises(RuntimeError, match="torch.save"):
        ag.load(q)
    assert not _Boom.triggered


def test_load_rejects_damaged_or_foreign_manifest(tmp_path):
    p = tmp_path / "bad.pt"
    _write_archive(p, {"format": "something else"}, {})
    with pytest.raises(RuntimeError, match="not a file written by ag.save"):
        ag.load(p)
    _write_archive(p, {"format": "autograd_core.save", "version": 1, "root": {"t": "ndarray", "a": 3}}, {})
    with pytest.raises(RuntimeError, match="missing"):
        ag.load(p)
    _write_archive(p, {"format": "autograd_core.save", "version": 1, "root": {"t": "exec", "v": "1"}}, {})
    with pytest.raises(RuntimeError, match="unknown kind"):
        ag.load(p)


def test_load_does_not_import_named_classes(tmp_path):
    # a tensor tagged with a class that is not already imported loads as a plain Tensor
    p = tmp_path / "cls.pt"
    buf = io.BytesIO()
    np.lib.format.write_array(buf, np.ones(2, np.float32), allow_pickle=False)
    manifest = {"format": "autograd_core.save", "version": 1,
                "root": {"t": "tensor", "a": 0, "requires_grad": True, "cls": "os.system"}}
    _write_archive(p, manifest, {"arrays/0.npy": buf.getvalue()})
    t = ag.load(p)
    assert type(t) is ag.Tensor and t.requires_grad and t.tolist() == [1.0, 1.0]


def test_tensor_subclass_round_trip(tmp_path):
    class Marked(ag.Tensor):
        pass

    m = Marked([1.0, 2.0], requires_grad=True)
    p = tmp_path / "sub.pt"
    ag.save({"p": m}, p)
    back = ag.load(p)["p"]
    assert type(back) is Marked and back.requires_grad and back.is_leaf
    assert back.tolist() == [1.0, 2.0]


PROMOTION = [
    # (left, right, expected dtype) as PyTorch promotes: Python numbers and 0-d tensors don't widen arrays
    (lambda: ag.tensor([1, 2]), lambda: 1.5, ag.float32),
    (lambda: ag.tensor([1, 2]), lambda: ag.tensor([2, 4]), ag.float32),  # true division of ints
    (lambda: ag.tensor([1.0, 2.0]), lambda: np.float64(2.0), ag.float32),
    (lambda: ag.tensor([1.0, 2.0]), lambda: ag.tensor(2.0, dtype=ag.float64), ag.float32),
    (lambda: ag.tensor([1.0, 2.0], dtype=ag.float64), lambda: 2.0, ag.float64),
    (lambda: ag.tensor(2.0, dtype=ag.float64), lambda: ag.tensor(3.0, dtype=ag.float64), ag.float64),
    (lambda: ag.tensor([1.0, 2.0]), lambda: ag.tensor([1.0, 2.0], dtype=ag.float64), ag.float64),
]


@pytest.mark.parametrize("left,right,expected", PROMOTION)
def test_division_promotes_like_pytorch(left, right, expected):
    assert (left() / right()).dtype == expected
    assert (left() * right()).dtype == expected or expected == ag.float32 and (left() * right()).dtype.kind in "i"


def test_softmax_and_log_softmax_methods_match_their_formulas():
    rng = np.random.default_rng(0)
    a = rng.standard_normal((3, 4))
    x = ag.tensor(a, requires_grad=True)
    p = x.softmax(dim=1)
    np.testing.assert_allclose(p.detach().numpy(), np.exp(a) / np.exp(a).sum(1, keepdims=True), rtol=1e-12)
    np.testing.assert_allclose(x.log_softmax(-1).detach().numpy(), np.log(p.detach().numpy()), rtol=1e-12)
    assert x.softmax(0, dtype=ag.float32).dtype == ag.float32
    assert ag.gradcheck(lambda t: t.softmax(dim=0) * t, [x])
    with pytest.raises(IndexError, match="softmax: dimension out of range"):
        x.softmax(dim=2)
