"""Property tests: every broadcasting binary op (and matmul) against NumPy, over random broadcastable shapes.

For each op and shape pair the forward must equal NumPy's, and the gradient of sum(W * op(a, b)) for a random
W must have each input's shape and equal the NumPy-computed elementwise derivative summed over the broadcast
copies (so for a + b with W = 1 it is the number of copies of each element of a)."""
import numpy as np
from hypothesis import given, settings
from hypothesis import strategies as st

import autograd_core as ag

SETTINGS = settings(max_examples=100, deadline=None, derandomize=True, database=None)


# ---- strategies ----------------------------------------------------------------------------------------

@st.composite
def broadcastable_shapes(draw, n=2, max_dims=4, max_side=4):
    """n shapes that broadcast together: suffixes of one base shape, with some dims set to 1.

    Covers 0-d shapes (an empty suffix), size-1 dims and operands of different ranks.
    """
    base = draw(st.lists(st.integers(1, max_side), min_size=0, max_size=max_dims))
    shapes = []
    for _ in range(n):
        k = draw(st.integers(0, len(base)))
        suffix = base[len(base) - k:]
        ones = draw(st.lists(st.booleans(), min_size=k, max_size=k))
        shapes.append(tuple(1 if o else s for s, o in zip(suffix, ones)))
    return tuple(shapes)


@st.composite
def matmul_shapes(draw):
    """(shape_a, shape_b) valid for matmul: 1-D operands, plain matrices and broadcast batch dims."""
    n, k, m = draw(st.integers(1, 4)), draw(st.integers(1, 4)), draw(st.integers(1, 4))
    batch_a, batch_b = draw(broadcastable_shapes(n=2, max_dims=3, max_side=3))
    kind_a = draw(st.sampled_from(["vector", "matrix"]))
    kind_b = draw(st.sampled_from(["vector", "matrix"]))
    a = (k,) if kind_a == "vector" else batch_a + (n, k)
    b = (k,) if kind_b == "vector" else batch_b + (k, m)
    return a, b


seeds = st.integers(0, 2 ** 32 - 1)


# ---- NumPy references ----------------------------------------------------------------------------------

def reduce_to(g, shape):
    """Sum a gradient at the broadcast shape over the copies of each element of an input of `shape`."""
    while g.ndim > len(shape):
        g = g.sum(axis=0)
    for i, s in enumerate(shape):
        if s == 1 and g.shape[i] != 1:
            g = g.sum(axis=i, keepdims=True)
    return g


def signed(rng, shape, lo, hi):
    """Values with magnitude in [lo, hi] and random sign (keeps division away from 0)."""
    return rng.uniform(lo, hi, shape) * rng.choice([-1.0, 1.0], shape)


# name: (ag op, NumPy forward, d/da, d/db, sampler for a, sampler for b)
BINARY = {
    "add": (lambda a, b: a + b, np.add,
            lambda a, b: np.ones_like(a * b), lambda a, b: np.ones_like(a * b), None, None),
    "sub": (lambda a, b: a - b, np.subtract,
            lambda a, b: np.ones_like(a * b), lambda a, b: -np.ones_like(a * b), None, None),
    "mul": (lambda a, b: a * b, np.multiply,
            lambda a, b: b + 0 * a, lambda a, b: a + 0 * b, None, None),
    "div": (lambda a, b: a / b, np.divide,
            lambda a, b: 1 / b + 0 * a, lambda a, b: -a / b ** 2,
            None, lambda rng, s: signed(rng, s, 0.5, 2.0)),
    "pow": (lambda a, b: a ** b, np.power,
            lambda a, b: b * a ** (b - 1), lambda a, b: a ** b * np.log(a),
            lambda rng, s: rng.uniform(0.5, 2.0, s), lambda rng, s: rng.uniform(-1.5, 1.5, s)),
    "maximum": (ag.maximum, np.maximum,
                lambda a, b: (a > b) + 0.0 * b, lambda a, b: (b > a) + 0.0 * a, None, None),
    "minimum": (ag.minimum, np.minimum,
                lambda a, b: (a < b) + 0.0 * b, lambda a, b: (b < a) + 0.0 * a, None, None),
}


def _sample(sampler, rng, shape):
    if sampler is None:
        return rng.standard_normal(shape)
    return np.asarray(sampler(rng, shape), dtype=np.float64)


def _check_binary(name, shapes, seed):
    op, ref, da, db, sample_a, sample_b = BINARY[name]
    sa, sb = shapes
    rng = np.random.default_rng(seed)
    an, bn = _sample(sample_a, rng, sa), _sample(sample_b, rng, sb)
    out_shape = np.broadcast_shapes(sa, sb)
    wn = rng.standard_normal(out_shape)
    a = ag.tensor(an, requires_grad=True)
    b = ag.tensor(bn, requires_grad=True)
    out = op(a, b)
    assert out.shape == out_shape
    assert out.dtype == ag.float64
    np.testing.assert_allclose(out.detach().numpy(), ref(an, bn), rtol=1e-12, atol=0)
    (out * ag.tensor(wn)).sum().backward()
    for t, shape, deriv in ((a, sa, da), (b, sb, db)):
        assert t.grad is not None, f"{name}: no gradient for an input of shape {shape}"
        assert t.grad.shape == shape, f"{name}: grad shape {t.grad.shape} for input shape {shape}"
        assert t.grad.dtype == ag.float64
        expected = reduce_to(wn * np.broadcast_to(deriv(an, bn), out_shape), shape)
        np.testing.assert_allclose(t.grad.numpy(), expected, rtol=1e-10, atol=1e-12)


@SETTINGS
@given(broadcastable_shapes(), seeds)
def test_add(shapes, seed):
    _check_binary("add", shapes, seed)


@SETTINGS
@given(broadcastable_shapes(), seeds)
def test_sub(shapes, seed):
    _check_binary("sub", shapes, seed)


@SETTINGS
@given(broadcastable_shapes(), seeds)
def test_mul(shapes, seed):
    _check_binary("mul", shapes, seed)


@SETTINGS
@given(broadcastable_shapes(), seeds)
def test_div(shapes, seed):
    _check_binary("div", shapes, seed)


@SETTINGS
@given(broadcastable_shapes(), seeds)
def test_pow(shapes, seed):
    _check_binary("pow", shapes, seed)


@SETTINGS
@given(broadcastable_shapes(), seeds)
def test_maximum(shapes, seed):
    _check_binary("maximum", shapes, seed)


@SETTINGS
@given(broadcastable_shapes(), seeds)
def test_minimum(shapes, seed):
    _check_binary("minimum", shapes, seed)


@SETTINGS
@given(broadcastable_shapes(), seeds)
def test_add_counts_broadcast_copies(shapes, seed):
    # with W = 1 the gradient of sum(a + b) wrt a is how many times each element of a was used
    sa, sb = shapes
    a = ag.tensor(np.random.default_rng(seed).standard_normal(sa), requires_grad=True)
    b = ag.zeros(sb, dtype=ag.float64)
    (a + b).sum().backward()
    out_size = int(np.prod(np.broadcast_shapes(sa, sb)))
    copies = out_size // max(int(np.prod(sa)), 1)
    np.testing.assert_array_equal(a.grad.numpy(), np.full(sa, float(copies)))


@SETTINGS
@given(broadcastable_shapes(n=3), seeds)
def test_where(shapes, seed):
    sc, sa, sb = shapes
    rng = np.random.default_rng(seed)
    cn = rng.random(sc) < 0.5
    an, bn = rng.standard_normal(sa), rng.standard_normal(sb)
    out_shape = np.broadcast_shapes(sc, sa, sb)
    wn = rng.standard_normal(out_shape)
    a, b = ag.tensor(an, requires_grad=True), ag.tensor(bn, requires_grad=True)
    out = ag.where(ag.tensor(cn), a, b)
    assert out.shape == out_shape
    np.testing.assert_array_equal(out.detach().numpy(), np.where(cn, an, bn))
    (out * ag.tensor(wn)).sum().backward()
    c = np.broadcast_to(cn, out_shape)
    assert a.grad.shape == sa and b.grad.shape == sb
    np.testing.assert_allclose(a.grad.numpy(), reduce_to(np.where(c, wn, 0.0), sa), rtol=1e-12, atol=1e-12)
    np.testing.assert_allclose(b.grad.numpy(), reduce_to(np.where(c, 0.0, wn), sb), rtol=1e-12, atol=1e-12)


SCALAR_OPS = {
    "radd": (lambda t, s: s + t, lambda x, s: np.ones_like(x)),
    "rsub": (lambda t, s: s - t, lambda x, s: -np.ones_like(x)),
    "rmul": (lambda t, s: s * t, lambda x, s: np.full_like(x, s)),
    "rdiv": (lambda t, s: s / t, lambda x, s: -s / x ** 2),
    "div": (lambda t, s: t / s, lambda x, s: np.full_like(x, 1 / s)),
    "pow": (lambda t, s: t ** s, lambda x, s: s * x ** (s - 1)),
}


@SETTINGS
@given(broadcastable_shapes(n=1), st.sampled_from(sorted(SCALAR_OPS)),
       st.floats(0.5, 3.0, allow_nan=False), seeds)
def test_python_scalar_operand_keeps_float32(shape, name, s, seed):
    # a Python float must not promote a float32 tensor to float64 (PyTorch's rule)
    op, deriv = SCALAR_OPS[name]
    xn = signed(np.random.default_rng(seed), shape[0], 0.5, 2.0).astype(np.float32)
    if name == "pow":
        xn = np.abs(xn)
    x = ag.tensor(xn, requires_grad=True)
    out = op(x, s)
    assert out.dtype == ag.float32 and out.shape == shape[0]
    out.sum().backward()
    assert x.grad.dtype == ag.float32 and x.grad.shape == shape[0]
    np.testing.assert_allclose(x.grad.numpy(), deriv(xn.astype(np.float64), s), rtol=1e-4)


@SETTINGS
@given(matmul_shapes(), seeds)
def test_matmul(shapes, seed):
    sa, sb = shapes
    rng = np.random.default_rng(seed)
    an, bn = rng.standard_normal(sa), rng.standard_normal(sb)
    expected = np.matmul(an, bn)
    wn = rng.standard_normal(expected.shape)
    a, b = ag.tensor(an, requires_grad=True), ag.tensor(bn, requires_grad=True)
    out = a @ b
    assert out.shape == expected.shape
    np.testing.assert_allclose(out.detach().numpy(), expected, rtol=1e-12, atol=1e-12)
    (out * ag.tensor(wn)).sum().backward()
    # reference: promote vectors to matrices, differentiate, then undo the promotion
    A = an[None, :] if an.ndim == 1 else an
    B = bn[:, None] if bn.ndim == 1 else bn
    W = wn.reshape(np.matmul(A, B).shape)
    gA = reduce_to(W @ np.swapaxes(B, -1, -2), A.shape).reshape(sa)
    gB = reduce_to(np.swapaxes(A, -1, -2) @ W, B.shape).reshape(sb)
    assert a.grad.shape == sa and b.grad.shape == sb
    np.testing.assert_allclose(a.grad.numpy(), gA, rtol=1e-10, atol=1e-12)
    np.testing.assert_allclose(b.grad.numpy(), gB, rtol=1e-10, atol=1e-12)


@SETTINGS
@given(broadcastable_shapes(), seeds)
def test_shape_strategy_really_broadcasts(shapes, seed):
    # guards the strategy itself: both shapes broadcast and ranks stay within bounds
    out = np.broadcast_shapes(*shapes)
    assert all(len(s) <= len(out) <= 4 for s in shapes)
