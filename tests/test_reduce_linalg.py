"""Reductions and linear algebra beyond the op table: overloads, named tuples, dtypes, ties, zeros, errors."""
import math

import numpy as np
import pytest

import autograd_core as ag


def t64(data, requires_grad=True):
    return ag.tensor(np.asarray(data, dtype=np.float64), requires_grad=requires_grad)


def grad_of(fn, x):
    """The gradient of fn(x).sum() with respect to x, as an array."""
    x = t64(x)
    fn(x).sum().backward()
    return x.grad.numpy()


# ---- prod ---------------------------------------------------------------------------------------

@pytest.mark.parametrize("data", [[2.0, 0.0, 3.0, 4.0], [0.0, 0.0, 3.0, 4.0], [0.0, 0.0, 0.0, 4.0],
                                  [[1.0, 0.0, 2.0], [0.0, 0.0, 5.0]], [[0.0, 2.0], [3.0, 0.0]]])
@pytest.mark.parametrize("dim", [None, -1, 0])
def test_prod_with_zeros_has_exact_first_and_second_derivatives(data, dim):
    x = t64(data)
    fn = (lambda t: t.prod()) if dim is None else (lambda t: t.prod(dim))
    assert ag.gradcheck(fn, [x])
    assert ag.gradgradcheck(fn, [x])


def test_prod_gradient_values_at_zeros():
    np.testing.assert_allclose(grad_of(lambda t: t.prod(), [2.0, 0.0, 3.0]), [0.0, 6.0, 0.0])
    np.testing.assert_allclose(grad_of(lambda t: t.prod(), [0.0, 0.0, 3.0]), [0.0, 0.0, 0.0])
    np.testing.assert_allclose(grad_of(lambda t: t.prod(), [2.0, 5.0, 3.0]), [15.0, 6.0, 10.0])


def test_prod_dtypes():
    assert ag.tensor([1, 2, 3]).prod().dtype == np.int64
    assert ag.tensor([True, False]).prod().dtype == np.int64
    assert ag.tensor([1.0, 2.0]).prod().dtype == np.float32
    assert ag.tensor([1, 2]).prod(dtype=ag.float64).dtype == np.float64
    x = ag.tensor([[1.0, 2.0], [3.0, 0.5]], requires_grad=True)
    x.prod(dim=0).sum().backward()
    assert x.grad.dtype == np.float32
    np.testing.assert_allclose(x.grad.numpy(), [[3.0, 0.5], [1.0, 2.0]])


def test_prod_keepdim_and_numpy_spelling():
    x = ag.tensor(np.arange(1.0, 7.0).reshape(2, 3))
    assert x.prod(1, keepdim=True).shape == (2, 1)
    assert x.prod(axis=0, keepdims=True).shape == (1, 3)
    np.testing.assert_allclose(x.prod(1).numpy(), [6.0, 120.0])


# ---- var / std ------------------------------------------------------------------------------------

def test_var_overloads():
    a = np.array([[1.0, 2.0, 4.0], [3.0, 5.0, 11.0]])
    x = ag.tensor(a)
    np.testing.assert_allclose(x.var().numpy(), a.var(ddof=1), rtol=1e-6)
    np.testing.assert_allclose(ag.var(x, 1).numpy(), a.var(1, ddof=1), rtol=1e-6)
    np.testing.assert_allclose(ag.var(x, 1, False).numpy(), a.var(1), rtol=1e-6)
    assert ag.var(x, 1, True, True).shape == (2, 1)
    np.testing.assert_allclose(x.var(False).numpy(), a.var(), rtol=1e-6)
    np.testing.assert_allclose(x.var(unbiased=False).numpy(), a.var(), rtol=1e-6)
    np.testing.assert_allclose(x.var(dim=0, correction=0).numpy(), a.var(0), rtol=1e-6)
    np.testing.assert_allclose(x.var(dim=(0, 1), correction=2).numpy(), a.var(ddof=2), rtol=1e-6)
    np.testing.assert_allclose(x.std(0, keepdim=True).numpy(), a.std(0, ddof=1, keepdims=True), rtol=1e-6)
    np.testing.assert_allclose(x.std(axis=1, keepdims=True).numpy(), a.std(1, ddof=1, keepdims=True), rtol=1e-6)
    with pytest.raises(TypeError, match="var"):
        x.var(unbiased=True, correction=0)


def test_var_std_refuse_integers_and_keep_float32():
    with pytest.raises(RuntimeError, match="var.*floating"):
        ag.tensor([1, 2, 3]).var()
    with pytest.raises(RuntimeError, match="std.*floating"):
        ag.tensor([1, 2, 3]).std()
    x = ag.tensor([1.0, 2.0, 4.0], requires_grad=True)
    y = x.std()
    assert y.dtype == np.float32
    y.backward()
    assert x.grad.dtype == np.float32


def test_std_of_constant_has_zero_gradient():
    x = t64([2.0, 2.0, 2.0])
    x.std().backward()
    np.testing.assert_array_equal(x.grad.numpy(), [0.0, 0.0, 0.0])


def test_var_without_degrees_of_freedom_is_nan_quietly():
    with np.errstate(all="raise"):
        assert math.isnan(ag.tensor([3.0]).var().item())
        assert ag.tensor([3.0]).var(correction=0).item() == 0.0


# ---- max / min / amax / amin --------------------------------------------------------------------

def test_max_with_dim_returns_named_tuple():
    x = ag.tensor([[1.0, 5.0, 2.0], [7.0, 3.0, 0.0]], requires_grad=True)
    out = x.max(dim=1)
    values, indices = out
    assert out.values is values and out.indices is indices
    np.testing.assert_array_equal(values.detach().numpy(), [5.0, 7.0])
    np.testing.assert_array_equal(indices.numpy(), [1, 0])
    assert indices.dtype == np.int64 and not indices.requires_grad
    assert values.dtype == np.float32 and values.requires_grad
    assert "values=" in repr(out) and "indices=" in repr(out)
    kept = ag.min(x, 0, keepdim=True)
    assert kept.values.shape == (1, 3) and kept.indices.shape == (1, 3)
    np.testing.assert_array_equal(kept.indices.numpy(), [[0, 1, 1]])
    assert x.max(axis=-1, keepdims=True).indices.shape == (2, 1)


def test_max_with_dim_sends_gradient_to_the_selected_index():
    x = t64([[3.0, 1.0, 3.0], [2.0, 2.0, 2.0]])
    values, indices = x.max(1)
    np.testing.assert_array_equal(indices.numpy(), [0, 0])  # first occurrence, as NumPy and PyTorch (CPU)
    values.sum().backward()
    np.testing.assert_array_equal(x.grad.numpy(), [[1.0, 0.0, 0.0], [1.0, 0.0, 0.0]])


def test_full_max_min_amax_share_ties_evenly():
    np.testing.assert_allclose(grad_of(lambda t: t.max(), [1.0, 3.0, 3.0, 2.0]), [0.0, 0.5, 0.5, 0.0])
    np.testing.assert_allclose(grad_of(lambda t: t.min(), [1.0, 1.0, 1.0, 2.0]), [1 / 3, 1 / 3, 1 / 3, 0.0])
    np.testing.assert_allclose(grad_of(lambda t: t.amax(dim=1), [[1.0, 4.0, 4.0], [0.0, 0.0, -1.0]]),
                               [[0.0, 0.5, 0.5], [0.5, 0.5, 0.0]])
    np.testing.assert_allclose(grad_of(lambda t: ag.amin(t, (0, 1)), [[1.0, 4.0], [1.0, 2.0]]),
                               [[0.5, 0.0], [0.5, 0.0]])


def test_max_of_two_tensors_is_elementwise():
    a, b = ag.tensor([1.0, 5.0, 2.0]), ag.tensor([3.0, 4.0, 2.0])
    np.testing.assert_array_equal(ag.max(a, b).numpy(), [3.0, 5.0, 2.0])
    np.testing.assert_array_equal(a.min(b).numpy(), [1.0, 4.0, 2.0])


def test_max_shapes_and_zero_dim_input():
    x = ag.tensor([[1.0, 2.0], [3.0, 4.0]])
    assert x.max().shape == () and x.max().item() == 4.0
    assert x.amax(dim=()).shape == ()
    assert x.amax(dim=0, keepdim=True).shape == (1, 2)
    s = ag.tensor(5.0, requires_grad=True)
    values, indices = s.max(0)
    assert values.shape == () and indices.item() == 0 and indices.dtype == np.int64
    values.backward()
    assert s.grad.item() == 1.0


def test_max_errors():
    x = ag.tensor([[1.0, 2.0], [3.0, 4.0]])
    with pytest.raises(IndexError, match="max: dimension out of range"):
        x.max(2)
    with pytest.raises(TypeError, match="max: dim must be an int"):
        x.max((0, 1))
    with pytest.raises(RuntimeError, match="max.*empty"):
        ag.zeros(0).max()
    with pytest.raises(IndexError, match="max.*zero-size"):
        ag.zeros(0, 3).max(0)
    with pytest.raises(IndexError, match="amax.*zero-size"):
        ag.zeros(0, 3).amax()
    assert ag.zeros(0, 3).max(1).values.shape == (0,)


def test_max_min_of_integers_keep_dtype():
    x = ag.tensor([[1, 7], [4, 2]])
    assert x.max().dtype == np.int64 and x.max().item() == 7
    assert x.min(1).values.dtype == np.int64
    np.testing.assert_array_equal(x.min(1).values.numpy(), [1, 2])


# ---- argmax / argmin -----------------------------------------------------------------------------

def test_argmax_argmin_shapes_dtypes_keepdim():
    a = np.array([[1.0, 9.0, 3.0], [8.0, 2.0, 8.0]])
    x = ag.tensor(a, requires_grad=True)
    r = x.argmax()
    assert r.shape == () and r.dtype == np.int64 and r.item() == 1 and not r.requires_grad
    assert x.argmax(keepdim=True).shape == (1, 1)
    np.testing.assert_array_equal(x.argmax(dim=1).numpy(), [1, 0])  # first of the tied 8s
    np.testing.assert_array_equal(ag.argmin(x, 0, keepdim=True).numpy(), [[0, 1, 0]])
    np.testing.assert_array_equal(x.argmin(axis=-1).numpy(), [0, 1])
    assert ag.tensor(3.0).argmax(0).item() == 0
    with pytest.raises(IndexError, match="argmax"):
        ag.zeros(0).argmax()
    with pytest.raises(IndexError, match="argmin: dimension out of range"):
        x.argmin(-3)


# ---- logsumexp ----------------------------------------------------------------------------------

def test_logsumexp_is_stable_and_its_gradient_is_softmax():
    x = ag.tensor([[1000.0, 1000.0], [-1000.0, -1001.0]], requires_grad=True)
    y = x.logsumexp(dim=1)
    np.testing.assert_allclose(y.detach().numpy(), [1000 + math.log(2), -1000 + math.log1p(math.exp(-1))],
                               rtol=1e-6)
    y.sum().backward()
    e = math.exp(-1)
    # exp(x - result), as PyTorch: float32 rounding of result (~1000.69) limits the accuracy to ~1e-4
    np.testing.assert_allclose(x.grad.numpy(), [[0.5, 0.5], [1 / (1 + e), e / (1 + e)]], rtol=1e-4)
    assert x.logsumexp(1, keepdim=True).shape == (2, 1)
    assert x.logsumexp(dim=(0, 1)).shape == ()


def test_logsumexp_edge_cases():
    assert ag.tensor([-math.inf, -math.inf]).logsumexp(0).item() == -math.inf
    assert ag.tensor([1.0, math.inf]).logsumexp(0).item() == math.inf
    assert ag.zeros(0).logsumexp(0).item() == -math.inf
    r = ag.tensor([1, 2, 3]).logsumexp(0)
    assert r.dtype == np.float32
    np.testing.assert_allclose(r.item(), np.log(np.exp([1.0, 2.0, 3.0]).sum()), rtol=1e-6)


# ---- norm --------------------------------------------------------------------------------------

def test_norm_values_for_every_p():
    a = np.array([[3.0, -4.0, 0.0], [1.0, -2.0, 2.0]])
    x = ag.tensor(a)
    np.testing.assert_allclose(x.norm().item(), np.sqrt((a * a).sum()), rtol=1e-6)
    np.testing.assert_allclose(x.norm("fro").item(), np.sqrt((a * a).sum()), rtol=1e-6)
    np.testing.assert_allclose(x.norm(dim=1).numpy(), [5.0, 3.0], rtol=1e-6)
    np.testing.assert_allclose(x.norm(p=1, dim=1).numpy(), [7.0, 5.0], rtol=1e-6)
    np.testing.assert_allclose(x.norm(p=math.inf, dim=1).numpy(), [4.0, 2.0])
    np.testing.assert_allclose(x.norm(p=-math.inf, dim=1).numpy(), [0.0, 1.0])
    np.testing.assert_allclose(x.norm(p=0, dim=1).numpy(), [2.0, 3.0])
    np.testing.assert_allclose(x.norm(p=3).item(), (np.abs(a) ** 3).sum() ** (1 / 3), rtol=1e-6)
    assert x.norm(dim=0, keepdim=True).shape == (1, 3)
    assert ag.tensor([3.0, 4.0]).norm(p=3).dtype == np.float32
    assert ag.tensor([3.0, 4.0], dtype=ag.float32).norm(dtype=ag.float64).dtype == np.float64


@pytest.mark.parametrize("p", [2, "fro", 3, 1.5, 1, math.inf, 0.5])
def test_norm_gradient_at_zero_vector_is_zero_not_nan(p):
    x = t64([0.0, 0.0, 0.0])
    x.norm(p=p).backward()
    np.testing.assert_array_equal(x.grad.numpy(), [0.0, 0.0, 0.0])


def test_norm_gradient_ties_and_p0():
    np.testing.assert_allclose(grad_of(lambda t: t.norm(p=math.inf), [-2.0, 2.0, 1.0]), [-0.5, 0.5, 0.0])
    np.testing.assert_array_equal(grad_of(lambda t: t.norm(p=0), [-2.0, 0.0, 1.0]), [0.0, 0.0, 0.0])
    np.testing.assert_allclose(grad_of(lambda t: t.norm(), [3.0, 0.0, -4.0]), [0.6, 0.0, -0.8])


def test_norm_errors():
    with pytest.raises(RuntimeError, match="norm.*floating"):
        ag.tensor([1, 2]).norm()
    with pytest.raises(ValueError, match="norm: p='nuc'"):
        ag.tensor([1.0, 2.0]).norm(p="nuc")


# ---- cumsum ------------------------------------------------------------------------------------

def test_cumsum_values_dtypes_and_gradient():
    x = ag.tensor([[1.0, 2.0, 3.0], [4.0, 5.0, 6.0]], requires_grad=True)
    np.testing.assert_array_equal(x.cumsum(1).detach().numpy(), [[1.0, 3.0, 6.0], [4.0, 9.0, 15.0]])
    np.testing.assert_array_equal(ag.cumsum(x, dim=0).detach().numpy(), [[1.0, 2.0, 3.0], [5.0, 7.0, 9.0]])
    (x.cumsum(-1) * ag.tensor([1.0, 10.0, 100.0])).sum().backward()
    np.testing.assert_array_equal(x.grad.numpy(), [[111.0, 110.0, 100.0]] * 2)
    assert x.grad.dtype == np.float32
    assert ag.tensor([1, 2, 3]).cumsum(0).dtype == np.int64
    assert ag.tensor([True, True]).cumsum(0).tolist() == [1, 2]
    assert ag.tensor([1, 2]).cumsum(0, dtype=ag.float32).dtype == np.float32
    assert ag.tensor(2.0).cumsum(0).item() == 2.0
    with pytest.raises(IndexError, match="cumsum: dimension out of range"):
        x.cumsum(2)


def test_cumsum_gradient_of_gradient():
    x = t64([1.0, 2.0, 3.0])
    g, = ag.grad((x.cumsum(0) ** 2).sum(), x, create_graph=True)
    np.testing.assert_allclose(g.detach().numpy(), [2 * (1 + 3 + 6), 2 * (3 + 6), 2 * 6])
    gg, = ag.grad(g.sum(), x)
    np.testing.assert_allclose(gg.numpy(), [2 * 6, 2 * 5, 2 * 3])


# ---- all / any ---------------------------------------------------------------------------------

def test_all_any():
    x = ag.tensor([[1.0, 0.0, 2.0], [3.0, 4.0, 5.0]], requires_grad=True)
    assert x.all().dtype == np.bool_ and x.all().item() is False
    assert x.any().item() is True
    np.testing.assert_array_equal(x.all(dim=1).numpy(), [False, True])
    np.testing.assert_array_equal(ag.any(x == 0, 0, keepdim=True).numpy(), [[False, True, False]])
    assert x.all(axis=(0, 1), keepdims=True).shape == (1, 1)
    assert ag.zeros(0).all().item() is True and ag.zeros(0).any().item() is False


# ---- matrix products ------------------------------------------------------------------------------

def test_mm_bmm_dot_outer_errors():
    with pytest.raises(RuntimeError, match=r"mm: expected two 2-D tensors, got shapes \(2, 3, 4\) and \(4, 2\)"):
        ag.mm(ag.zeros(2, 3, 4), ag.zeros(4, 2))
    with pytest.raises(RuntimeError, match=r"mm: \(4, 3\) @ \(4, 3\): inner dimensions 3 and 4 differ"):
        ag.mm(ag.zeros(4, 3), ag.zeros(4, 3))
    with pytest.raises(RuntimeError, match="bmm: expected two 3-D tensors"):
        ag.bmm(ag.zeros(2, 3), ag.zeros(3, 2))
    with pytest.raises(RuntimeError, match="bmm: .*batch sizes 2 and 3 differ"):
        ag.bmm(ag.zeros(2, 3, 4), ag.zeros(3, 4, 5))
    with pytest.raises(RuntimeError, match="bmm: .*inner dimensions"):
        ag.bmm(ag.zeros(2, 3, 4), ag.zeros(2, 5, 5))
    with pytest.raises(RuntimeError, match=r"dot: 1-D tensors of different lengths: \(3,\) and \(4,\)"):
        ag.dot(ag.zeros(3), ag.zeros(4))
    with pytest.raises(RuntimeError, match="dot: expected two 1-D tensors"):
        ag.zeros(3, 1).dot(ag.zeros(3))
    with pytest.raises(RuntimeError, match="outer: expected two 1-D tensors"):
        ag.outer(ag.zeros(3), ag.zeros(2, 2))


def test_products_stay_float32_with_gradients():
    a = ag.randn(2, 3, requires_grad=True)
    b = ag.randn(3, 4, requires_grad=True)
    for y in (ag.mm(a, b), ag.einsum("ij,jk->ik", a, b), ag.outer(a.sum(1), b.sum(0))):
        assert y.dtype == np.float32
    y = ag.dot(a.sum(0), b.sum(1))
    assert y.shape == () and y.dtype == np.float32
    y.backward()
    assert a.grad.dtype == np.float32 and b.grad.dtype == np.float32


# ---- einsum ------------------------------------------------------------------------------------

def test_einsum_attention_matches_matmul():
    rng = np.random.default_rng(0)
    q, k, v = (t64(rng.standard_normal((2, 3, 4, 5))) for _ in range(3))
    scores = ag.einsum("bhqd,bhkd->bhqk", q, k)
    np.testing.assert_allclose(scores.detach().numpy(), (q @ k.transpose(-2, -1)).detach().numpy(), rtol=1e-12)
    out = ag.einsum("bhqk,bhkd->bhqd", scores, v)
    out.sum().backward()
    grads = [t.grad.numpy().copy() for t in (q, k, v)]
    for t in (q, k, v):
        t.grad = None
    ((q @ k.transpose(-2, -1)) @ v).sum().backward()
    for g, t in zip(grads, (q, k, v)):
        np.testing.assert_allclose(g, t.grad.numpy(), rtol=1e-10)


def test_einsum_forms():
    a = ag.tensor(np.arange(9.0).reshape(3, 3))
    assert ag.einsum("ii", a).item() == 12.0
    np.testing.assert_array_equal(ag.einsum("ii->i", a).numpy(), [0.0, 4.0, 8.0])
    np.testing.assert_array_equal(ag.einsum("ij", a).numpy(), a.numpy())
    np.testing.assert_array_equal(ag.einsum("ba", a).numpy(), a.numpy().T)  # implicit output is sorted
    np.testing.assert_array_equal(ag.einsum("i j -> j i", a).numpy(), a.numpy().T)
    np.testing.assert_array_equal(ag.einsum("...i->i", a).numpy(), a.numpy().sum(0))  # PyTorch sums '...'
    np.testing.assert_array_equal(ag.einsum("ij,jk", [a, a]).numpy(), a.numpy() @ a.numpy())
    np.testing.assert_array_equal(np.einsum("ij->j", a).numpy(), a.numpy().sum(0))  # NumPy's einsum dispatches
    assert ag.einsum("i,i->", ag.ones(3), ag.ones(3)).shape == ()


def test_einsum_diagonal_gradient():
    x = t64(np.arange(9.0).reshape(3, 3))
    (ag.einsum("ii->i", x) * ag.tensor([1.0, 2.0, 3.0], dtype=ag.float64)).sum().backward()
    np.testing.assert_array_equal(x.grad.numpy(), np.diag([1.0, 2.0, 3.0]))


def test_einsum_errors():
    a = ag.zeros(2, 3)
    with pytest.raises(ValueError, match="einsum: .*2 operand subscript.*1 operand"):
        ag.einsum("ij,jk->ik", a)
    with pytest.raises(ValueError, match=r"einsum: .*'ijk' name 3 dimension\(s\) but the operand has shape \(2, 3\)"):
        ag.einsum("ijk->i", a)
    with pytest.raises(ValueError, match="einsum: .*subscript 'j' has size 3 in one operand and 2 in another"):
        ag.einsum("ij,jk->ik", a, a)
    with pytest.raises(ValueError, match="einsum: .*output subscript 'k' does not appear"):
        ag.einsum("ij->k", a)
    with pytest.raises(ValueError, match="einsum: .*output subscript 'i' appears more than once"):
        ag.einsum("ij->ii", a)
    with pytest.raises(ValueError, match="einsum: .*subscripts must be letters"):
        ag.einsum("i1->i", a)
    with pytest.raises(TypeError, match="einsum: the equation must be a string"):
        ag.einsum(3, a)


def test_einsum_gradgrad_with_constant_operand():
    rng = np.random.default_rng(1)
    w = rng.standard_normal((3, 4))
    x = t64(rng.standard_normal((2, 3)))
    assert ag.gradcheck(lambda t: ag.einsum("bi,ij->bj", t, w) ** 2, [x])
    assert ag.gradgradcheck(lambda t: ag.einsum("bi,ij->bj", t, w) ** 2, [x])


# ---- cross-checks against PyTorch (skipped without it; each behaviour is also tested above) ----------

def _torch_grad(torch, fn, a):
    t = torch.tensor(a, dtype=torch.float64, requires_grad=True)
    out = fn(t)
    out = out[0] if isinstance(out, tuple) else out
    out.sum().backward()
    return out.detach().numpy(), t.grad.numpy()


def _ag_grad(fn, a):
    t = t64(a)
    out = fn(t)
    out = out[0] if isinstance(out, tuple) else out
    out.sum().backward()
    return out.detach().numpy(), t.grad.numpy()


TORCH_CASES = [
    ("prod_zero", lambda t: t.prod(), [[2.0, 0.0], [3.0, 4.0]]),
    ("prod_dim_zero", lambda t: t.prod(1), [[2.0, 0.0, 1.0], [0.0, 0.0, 4.0]]),
    ("var", lambda t: t.var(1), [[1.0, 2.0, 4.0], [3.0, 3.0, 3.0]]),
    ("var_biased", lambda t: t.var(0, False, True), [[1.0, 2.0, 4.0], [3.0, 5.0, 3.0]]),
    ("std_const", lambda t: t.std(1), [[1.0, 2.0, 4.0], [3.0, 3.0, 3.0]]),
    ("max_ties", lambda t: t.max(), [[1.0, 3.0], [3.0, 2.0]]),
    ("max_dim", lambda t: t.max(1), [[1.0, 3.0, 0.0], [3.0, 2.0, 5.0]]),
    ("min_dim_keep", lambda t: t.min(0, keepdim=True), [[1.0, 3.0, 0.0], [3.0, 2.0, 5.0]]),
    ("amax_ties", lambda t: t.amax(0), [[1.0, 3.0], [1.0, 2.0]]),
    ("amin_ties", lambda t: t.amin((0, 1)), [[1.0, 3.0], [1.0, 1.0]]),
    ("logsumexp", lambda t: t.logsumexp(1), [[1.0, 3.0], [100.0, 2.0]]),
    ("norm_zero", lambda t: t.norm(dim=1), [[0.0, 0.0], [3.0, 4.0]]),
    ("norm_p3_zero", lambda t: t.norm(p=3, dim=1), [[0.0, 0.0], [3.0, -4.0]]),
    ("norm_p1", lambda t: t.norm(p=1), [[1.0, -2.0], [0.0, 4.0]]),
    ("norm_inf_ties", lambda t: t.norm(p=float("inf")), [[1.0, -4.0], [4.0, 2.0]]),
    ("norm_p_half", lambda t: t.norm(p=0.5, dim=0), [[1.0, 2.0], [0.5, 4.0]]),
    ("cumsum", lambda t: t.cumsum(1) ** 2, [[1.0, 2.0, 3.0], [0.5, -1.0, 2.0]]),
]


@pytest.mark.parametrize("name,fn,data", TORCH_CASES, ids=[c[0] for c in TORCH_CASES])
def test_matches_torch(name, fn, data):
    torch = pytest.importorskip("torch")
    want_y, want_g = _torch_grad(torch, fn, data)
    got_y, got_g = _ag_grad(fn, data)
    np.testing.assert_allclose(got_y, want_y, rtol=1e-10, atol=1e-12)
    np.testing.assert_allclose(got_g, want_g, rtol=1e-10, atol=1e-12)


def test_named_tuple_and_arg_results_match_torch():
    torch = pytest.importorskip("torch")
    a = np.array([[1.0, 9.0, 9.0], [8.0, 2.0, 8.0]])
    for dim, keep in [(0, False), (1, True), (-1, False)]:
        tv, ti = torch.tensor(a).max(dim, keepdim=keep)
        av, ai = ag.tensor(a).max(dim, keepdim=keep)
        np.testing.assert_array_equal(av.numpy(), tv.numpy())
        np.testing.assert_array_equal(ai.numpy(), ti.numpy())
        np.testing.assert_array_equal(ag.tensor(a).argmin(dim, keepdim=keep).numpy(),
                                      torch.tensor(a).argmin(dim, keepdim=keep).numpy())
    assert ag.tensor(a).argmax(keepdim=True).shape == tuple(torch.tensor(a).argmax(keepdim=True).shape)
    np.testing.assert_array_equal(ag.tensor(a).all(1).numpy(), torch.tensor(a).all(1).numpy())


EINSUM_TORCH = [
    ("bhqd,bhkd->bhqk", [(2, 2, 3, 4), (2, 2, 5, 4)]),
    ("ii->i", [(3, 3)]),
    ("ii", [(3, 3)]),
    ("...ij,...jk->...ik", [(2, 1, 3, 4), (3, 4, 2)]),
    ("...i->i", [(2, 3, 4)]),
    ("ba,ac", [(2, 3), (3, 4)]),
    ("ij,jk,kl->il", [(2, 3), (3, 4), (4, 2)]),
]


@pytest.mark.parametrize("eq,shapes", EINSUM_TORCH, ids=[e for e, _ in EINSUM_TORCH])
def test_einsum_matches_torch(eq, shapes):
    torch = pytest.importorskip("torch")
    rng = np.random.default_rng(2)
    arrays = [rng.standard_normal(s) for s in shapes]
    tt = [torch.tensor(a, requires_grad=True) for a in arrays]
    at = [t64(a) for a in arrays]
    ty, ay = torch.einsum(eq, *tt), ag.einsum(eq, *at)
    np.testing.assert_allclose(ay.detach().numpy(), ty.detach().numpy(), rtol=1e-10, atol=1e-12)
    w = rng.standard_normal(tuple(ty.shape))
    (ty * torch.tensor(w)).sum().backward()
    (ay * ag.tensor(w)).sum().backward()
    for a, t in zip(at, tt):
        np.testing.assert_allclose(a.grad.numpy(), t.grad.numpy(), rtol=1e-10, atol=1e-12)
