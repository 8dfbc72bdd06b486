"""Movement and indexing behaviour beyond the op table: errors, views and versions, setitem, selection results."""
import numpy as np
import pytest

import autograd_core as ag


def _x(*shape, requires_grad=False):
    n = int(np.prod(shape))
    return ag.tensor(np.arange(n, dtype=np.float64).reshape(shape), requires_grad=requires_grad)


# ---- errors name the op and the shapes -------------------------------------------------------

@pytest.mark.parametrize("fn,exc,msg", [
    (lambda x: x[5], IndexError, "getitem: index 5 is out of bounds for dimension 0 with size 3"),
    (lambda x: x[-4], IndexError, "getitem: index -4 is out of bounds for dimension 0 with size 3"),
    (lambda x: x[:, [0, 9]], IndexError, "getitem: index 9 is out of bounds for dimension 1 with size 4"),
    (lambda x: x[0, 0, 0], IndexError, "too many indices"),
    (lambda x: x[ag.tensor([True, False])], IndexError, "boolean index did not match"),
    (lambda x: x[ag.tensor([1.0])], IndexError, "must be long, int or bool"),
    (lambda x: x["a"], TypeError, "getitem: only integers"),
    (lambda x: ag.cat([x, ag.zeros(4, 5)], 1), RuntimeError,
     "cat: tensors must have the same shape except in dim 1: got (3, 4) and (4, 5)"),
    (lambda x: ag.cat([x, ag.zeros(4)]), RuntimeError, "cat: tensors must have the same number of dimensions"),
    (lambda x: ag.cat([ag.tensor(1.0)]), RuntimeError, "cat: zero-dimensional tensor (at position 0)"),
    (lambda x: ag.cat([]), RuntimeError, "cat: expected a non-empty"),
    (lambda x: ag.cat([x, x], 2), IndexError, "cat: dimension out of range"),
    (lambda x: ag.stack([x, ag.zeros(4, 5)]), RuntimeError, "stack: expects each tensor to be equal size"),
    (lambda x: x.split([1, 1], 0), RuntimeError, "split: split_sizes (1, 1) must be non-negative and sum to the size"),
    (lambda x: x.split(0), RuntimeError, "split: split_size must be positive"),
    (lambda x: x.chunk(0), RuntimeError, "chunk: number of chunks must be positive"),
    (lambda x: x.narrow(1, 2, 3), RuntimeError, "narrow: start (2) + length (3) exceeds dimension size (4)"),
    (lambda x: x.narrow(1, 5, 0), IndexError, "narrow: start 5 is out of range"),
    (lambda x: x[0].tril(), RuntimeError, "tril: input tensor must have at least 2 dimensions, got shape (4,)"),
    (lambda x: x[0].triu(), RuntimeError, "triu: input tensor must have at least 2 dimensions"),
    (lambda x: x.repeat(2), RuntimeError, "repeat: number of repeat dims 1 can not be smaller"),
    (lambda x: x.flip(0, -2), RuntimeError, "flip: dim 0 appears multiple times"),
    (lambda x: x.roll((1, 2), 0), RuntimeError, "roll: shifts (1, 2) and dims (0,) must have the same length"),
    (lambda x: x.roll((1, 2)), RuntimeError, "roll: 2 shifts given without dims"),
    (lambda x: x.movedim((0, 1), 0), RuntimeError, "movedim: source (0, 1) and destination 0"),
    (lambda x: x.movedim(0, 5), IndexError, "movedim: dimension out of range"),
    (lambda x: x.unsqueeze(3), IndexError, "unsqueeze: dimension out of range (expected to be in range of [-3, 2]"),
    (lambda x: x.squeeze(2), IndexError, "squeeze: dimension out of range"),
    (lambda x: x.flatten(1, 0), RuntimeError, "flatten: start_dim 1 comes after end_dim 0"),
    (lambda x: x.unflatten(1, (3, 2)), RuntimeError, "unflatten: sizes (3, 2) don't multiply to the size 4"),
    (lambda x: x.gather(1, ag.tensor([0, 1])), RuntimeError,
     "gather: index tensor must have the same number of dimensions as input"),
    (lambda x: x.gather(1, ag.tensor([[0, 7]])), IndexError,
     "gather: index 7 is out of bounds for dimension 1 with size 4"),
    (lambda x: x.gather(1, ag.zeros(4, 1).long()), RuntimeError, "gather: size of index (4, 1) exceeds input size"),
    (lambda x: x.gather(0, ag.tensor([[True]])), RuntimeError, "gather: index must be an integer tensor"),
    (lambda x: x.scatter_add(0, ag.tensor([[0, 5, 0, 0]]), ag.ones(1, 4, dtype=ag.float64)), IndexError,
     "scatter_add: index 5 is out of bounds for dimension 0 with size 3"),
    (lambda x: x.scatter_add(0, ag.tensor([[0, 1]]), ag.ones(1, 1, dtype=ag.float64)), RuntimeError,
     "scatter_add: index (1, 2) must not be larger than src (1, 1)"),
    (lambda x: x.scatter_add(0, ag.tensor([[0]]), ag.ones(1, 1)), RuntimeError,
     "scatter_add: expected input and src to have the same dtype"),
    (lambda x: x.index_select(0, ag.tensor([[0]])), RuntimeError, "index_select: index must be a 1-D integer tensor"),
    (lambda x: x.masked_fill(ag.tensor([1, 0, 1, 0]), 0.0), RuntimeError, "masked_fill: only supports boolean masks"),
    (lambda x: x.masked_fill(ag.ones(2, 3, 4).bool(), 0.0), RuntimeError,
     "masked_fill: the mask of shape (2, 3, 4) can't be broadcast to the input's shape (3, 4)"),
    (lambda x: x.masked_fill(x > 1, ag.ones(2)), RuntimeError, "masked_fill: only supports a 0-dimensional value"),
    (lambda x: x.topk(5), RuntimeError, "topk: k (5) is out of range for dimension 1 of size 4"),
    (lambda x: x.sort(dim=2), IndexError, "sort: dimension out of range"),
])
def test_errors_name_the_op(fn, exc, msg):
    with pytest.raises(exc) as info:
        fn(_x(3, 4))
    assert msg in str(info.value)


def test_setitem_errors():
    x = ag.zeros(3)
    with pytest.raises(RuntimeError, match=r"setitem: shape mismatch: value of shape \(3,\) cannot be broadcast to "
                                           r"the indexed shape \(2,\)"):
        x[0:2] = ag.ones(3)
    with pytest.raises(IndexError, match="setitem: index 5 is out of bounds for dimension 0 with size 3"):
        x[5] = 1.0
    leaf = ag.zeros(3, requires_grad=True)
    with pytest.raises(RuntimeError, match="leaf Tensor that requires grad .* in-place operation"):
        leaf[0] = 1.0
    with pytest.raises(RuntimeError, match="setitem: .*broadcast \\(expand\\) view"):
        ag.zeros(3).expand(2, 3)[0] = 1.0


# ---- views share storage and the version counter ---------------------------------------------

@pytest.mark.parametrize("make_view", [
    lambda x: x[1],
    lambda x: x[:, 1:3],
    lambda x: x[None, ..., ::2],
    lambda x: x.narrow(1, 1, 2),
    lambda x: x.split(2, 1)[1],
    lambda x: x.chunk(3, 0)[1],
    lambda x: x.unbind(1)[2],
    lambda x: x.squeeze(),
    lambda x: x.unsqueeze(0),
    lambda x: x.flatten(),
    lambda x: x.movedim(0, 1),
])
def test_views_share_storage_and_version(make_view):
    x = _x(3, 4)
    v = make_view(x)
    before = x._version
    v[...] = -1.0
    assert x._version == before + 1 and v._version == x._version
    assert (x.numpy() == -1).sum() == v.numel()


@pytest.mark.parametrize("make_copy", [
    lambda x: x[[0, 1]], lambda x: x[x > 3], lambda x: x.flip(0), lambda x: x.roll(1, 0), lambda x: x.repeat(1, 1),
    lambda x: ag.cat([x, x]), lambda x: ag.stack([x]), lambda x: x.tril(), lambda x: x.gather(0, ag.zeros(1, 4).long()),
])
def test_copies_do_not_alias(make_copy):
    x = _x(3, 4)
    c = make_copy(x)
    c[...] = -1.0
    assert x._version == 0 and (x.numpy() >= 0).all()


def test_write_through_view_is_caught_by_saved_tensor_check():
    a = _x(3, requires_grad=True)
    y = (a * 2).exp()  # Exp saves its output y
    view = y[1:]
    # a recorded write through a view would change y behind its node's back: refused, not wrong
    with pytest.raises(RuntimeError, match="in-place write through a view"):
        view[0] = 5.0
    with ag.no_grad():
        view[0] = 5.0  # an unrecorded write bumps the version y shares, which backward catches
    with pytest.raises(RuntimeError, match="modified by an in-place operation"):
        y.sum().backward()


def test_setitem_through_view_of_non_leaf_is_refused_and_base_setitem_works():
    a = ag.tensor([1.0, 2.0, 3.0], requires_grad=True)
    y = a * 2
    with pytest.raises(RuntimeError, match=r"view \(shape \(2,\)\) of a tensor of shape \(3,\)"):
        y[1:][0] = 5.0
    y[1] = 5.0  # the same write on the base is recorded (IndexPut)
    y.sum().backward()
    np.testing.assert_array_equal(a.grad.numpy(), [2.0, 0.0, 2.0])


def test_backward_through_view_after_base_was_rebased_is_refused():
    a = ag.tensor([1.0, 2.0], requires_grad=True)
    b = a * 1
    v = b.reshape(2, 1)
    b.mul_(3)  # recorded in place on the base: v's values change, its node would not know
    with pytest.raises(RuntimeError, match="modified in place after the view was made"):
        v.sum().backward()


def test_setitem_through_view_of_leaf_is_refused():
    x = ag.ones(3, requires_grad=True)
    with pytest.raises(RuntimeError, match="leaf"):
        x[0:2][0] = 5.0


def test_basic_index_of_one_element_is_a_0d_view():
    x = _x(2, 3)
    v = x[1, 2]
    assert v.shape == () and isinstance(v.numpy(), np.ndarray)
    v[...] = 9.0
    assert x.numpy()[1, 2] == 9.0


# ---- setitem ----------------------------------------------------------------------------------

def test_setitem_in_place_without_grad():
    x = ag.zeros(2, 3)
    x[0] = 1.0
    x[1, [0, 2]] = ag.tensor([2.0, 3.0])
    x[x == 0] = 7.0
    np.testing.assert_array_equal(x.numpy(), [[1, 1, 1], [2, 7, 3]])
    assert x._version == 3 and x.is_leaf


def test_setitem_on_leaf_under_no_grad_stays_leaf():
    w = ag.zeros(3, requires_grad=True)
    with ag.no_grad():
        w[1] = 4.0
    assert w.is_leaf and w.requires_grad and w.grad_fn is None
    np.testing.assert_array_equal(w.detach().numpy(), [0, 4, 0])


def test_setitem_on_non_leaf_is_recorded():
    a = ag.tensor([1.0, 2.0, 3.0], requires_grad=True)
    v = ag.tensor(10.0, requires_grad=True)
    b = a * 2
    b[1] = v * v
    assert b.grad_fn.name() == "IndexPutBackward0"
    (b * ag.tensor([1.0, 2.0, 3.0])).sum().backward()
    np.testing.assert_allclose(a.grad.numpy(), [2.0, 0.0, 6.0])
    np.testing.assert_allclose(v.grad.numpy(), 2 * 10.0 * 2.0)


def test_setitem_value_with_grad_into_plain_tensor():
    x = ag.zeros(2, 2)
    v = ag.tensor([1.0, 2.0], requires_grad=True)
    x[:, 0] = v
    assert not x.is_leaf and x.requires_grad
    (x * 3).sum().backward()
    np.testing.assert_allclose(v.grad.numpy(), [3.0, 3.0])


def test_setitem_value_with_extra_leading_ones():
    a = ag.tensor([1.0, 2.0, 3.0], requires_grad=True)
    v = ag.tensor([[5.0]], requires_grad=True)
    b = a * 1
    b[1] = v
    b.sum().backward()
    assert v.grad.shape == (1, 1) and float(v.grad.sum()) == 1.0


# ---- advanced indexing gradients -------------------------------------------------------------

def test_repeated_indices_scatter_add():
    x = ag.tensor([1.0, 2.0, 3.0], requires_grad=True)
    x[[0, 0, 2, 0]].sum().backward()
    np.testing.assert_array_equal(x.grad.numpy(), [3.0, 0.0, 1.0])


@pytest.mark.parametrize("index_shape", [(200,), (8, 25), (40,)])
def test_row_gather_gradient_sums_repeats(index_shape):
    """x[int_array] with many repeats and negative ids (the embedding lookup's sorted-rows path)."""
    rng = np.random.default_rng(0)
    x = ag.tensor(rng.standard_normal((7, 3, 2)), requires_grad=True)
    idx = rng.integers(-7, 7, index_shape)
    up = rng.standard_normal(index_shape + (3, 2))
    (x[ag.tensor(idx)] * ag.tensor(up)).sum().backward()
    want = np.zeros((7, 3, 2))
    np.add.at(want, idx % 7, up)
    np.testing.assert_allclose(x.grad.numpy(), want, rtol=1e-12, atol=1e-12)


def test_repeated_indices_second_derivative():
    x = ag.tensor([1.0, 2.0, 3.0], dtype=ag.float64, requires_grad=True)
    y = (x[[0, 0, 1]] ** 3).sum()
    g, = ag.grad(y, x, create_graph=True)
    np.testing.assert_allclose(g.detach().numpy(), [6.0, 12.0, 0.0])
    gg, = ag.grad(g.sum(), x)
    np.testing.assert_allclose(gg.numpy(), [12.0, 12.0, 0.0])


def test_index_dtypes():
    x = _x(4, 2)
    for idx in (ag.tensor([3, 1]).int(), np.array([3, 1], dtype=np.int32), np.array([3, 1], dtype=np.uint8), [3, 1]):
        np.testing.assert_array_equal(x[idx].numpy(), x.numpy()[[3, 1]])
    assert x[ag.tensor(2)].shape == (2,)  # a 0-d integer tensor indexes like an int
    assert x[ag.tensor([], dtype=ag.int64)].shape == (0, 2)
    assert x[[]].shape == (0, 2)
    np.testing.assert_array_equal(x.index_select(0, ag.tensor([1]).int()).numpy(), x.numpy()[[1]])
    assert x.gather(0, ag.tensor([[0, 1]]).int()).dtype == ag.float64


def test_iteration_unbinds():
    x = _x(3, 2, requires_grad=True)
    rows = list(x)
    assert len(rows) == 3 and rows[1].shape == (2,)
    (rows[0] + 2 * rows[2]).sum().backward()
    np.testing.assert_array_equal(x.grad.numpy(), [[1, 1], [0, 0], [2, 2]])


def test_split_and_chunk_sizes():
    x = _x(7)
    assert [p.shape[0] for p in x.split(3)] == [3, 3, 1]
    assert [p.shape[0] for p in x.chunk(3)] == [3, 3, 1]
    assert [p.shape[0] for p in _x(6).chunk(4)] == [2, 2, 2]
    assert [p.shape[0] for p in x.split([2, 0, 5])] == [2, 0, 5]
    assert ag.concatenate is ag.cat


def test_masked_fill_stays_in_dtype():
    x = ag.tensor([[1.0, 2.0], [3.0, 4.0]])
    y = x.masked_fill(ag.tensor([True, False]), float("-inf"))
    assert y.dtype == ag.float32
    np.testing.assert_array_equal(y.numpy(), [[-np.inf, 2], [-np.inf, 4]])
    v = ag.tensor(0.5, dtype=ag.float64, requires_grad=True)
    z = x.masked_fill(x > 2, v)
    assert z.dtype == ag.float32
    z.sum().backward()
    assert v.grad.dtype == ag.float64 and float(v.grad) == 2.0
    i = ag.tensor([1, 2, 3]).masked_fill(ag.tensor([False, True, False]), 0)
    assert i.dtype == ag.int64 and i.tolist() == [1, 0, 3]


# ---- selection results -----------------------------------------------------------------------

def test_topk_and_sort_return_named_tuples():
    x = ag.tensor([[3.0, 1.0, 2.0], [0.0, 5.0, 4.0]], requires_grad=True)
    r = x.topk(2)
    values, indices = r
    assert r.values is values and r.indices is indices and type(r).__name__ == "topk"
    np.testing.assert_array_equal(values.detach().numpy(), [[3, 2], [5, 4]])
    assert indices.dtype == ag.int64 and indices.tolist() == [[0, 2], [1, 2]]
    assert not indices.requires_grad
    values.sum().backward()
    np.testing.assert_array_equal(x.grad.numpy(), [[1, 0, 1], [0, 1, 1]])
    s = ag.sort(x, dim=0, descending=True)
    assert type(s).__name__ == "sort" and s.indices.tolist() == [[0, 1, 1], [1, 0, 0]]
    assert ag.topk(x, 1, largest=False).indices.tolist() == [[1], [0]]


def test_sort_ties_are_stable():
    x = ag.tensor([2.0, 1.0, 2.0, 1.0, 2.0])
    assert x.sort(stable=True).indices.tolist() == [1, 3, 0, 2, 4]
    assert x.sort(descending=True, stable=True).indices.tolist() == [0, 2, 4, 1, 3]
    assert x.argsort(descending=True).tolist() == [0, 2, 4, 1, 3]
    assert ag.argsort(x).dtype == ag.int64


def test_sort_0d_and_nan():
    assert ag.tensor(3.0).sort().values.item() == 3.0
    y = ag.tensor([1.0, float("nan"), 0.0]).sort()
    assert y.indices.tolist() == [2, 0, 1]  # NaN sorts last, as in PyTorch


def test_unique():
    x = ag.tensor([[3, 1], [1, 2]])
    assert ag.unique(x).tolist() == [1, 2, 3]
    values, inverse, counts = x.unique(return_inverse=True, return_counts=True)
    assert inverse.shape == (2, 2) and inverse.tolist() == [[2, 0], [0, 1]] and counts.tolist() == [2, 1, 1]
    assert inverse.dtype == ag.int64 and counts.dtype == ag.int64
    rows, inv = ag.unique(ag.tensor([[1, 2], [0, 1], [1, 2]]), dim=0, return_inverse=True)
    assert rows.tolist() == [[0, 1], [1, 2]] and inv.tolist() == [1, 0, 1]
    f = ag.tensor([0.5, 0.5], requires_grad=True)
    assert not f.unique().requires_grad


def test_nonzero():
    x = ag.tensor([[0.0, 1.0], [2.0, 0.0]])
    assert x.nonzero().tolist() == [[0, 1], [1, 0]] and x.nonzero().dtype == ag.int64
    r, c = ag.nonzero(x, as_tuple=True)
    assert r.tolist() == [0, 1] and c.tolist() == [1, 0]
    assert ag.zeros(3).nonzero().shape == (0, 1)


def test_functional_exports():
    for name in ("flatten", "unflatten", "squeeze", "unsqueeze", "movedim", "moveaxis", "tile", "flip", "roll", "cat",
                 "concatenate", "stack", "split", "chunk", "unbind", "narrow", "tril", "triu", "gather",
                 "scatter_add", "index_select", "masked_fill", "topk", "sort", "argsort", "unique", "nonzero"):
        assert callable(getattr(ag, name)), name


def test_numpy_functions_dispatch_to_tensor_ops():
    x = _x(2, 3, requires_grad=True)
    for f, want in [(lambda t: np.flip(t, 0), np.flip), (lambda t: np.concatenate([t, t], axis=1), None),
                    (lambda t: np.roll(t, 1, 1), None), (lambda t: np.tril(t), None), (lambda t: np.triu(t, 1), None),
                    (lambda t: np.stack([t, t]), None), (lambda t: np.squeeze(t[None]), None),
                    (lambda t: np.expand_dims(t, 1), None), (lambda t: np.moveaxis(t, 0, 1), None)]:
        y = f(x)
        assert isinstance(y, ag.Tensor) and y.requires_grad
        np.testing.assert_array_equal(y.detach().numpy(), f(x.detach().numpy()))


# ---- cross-checks against PyTorch (skipped when it isn't installed) ------------------------------

def _grad_pair(fn, shape, seed=0):
    """fn's value and input-gradient (of a fixed random weighting of its outputs), in ag and in torch."""
    torch = pytest.importorskip("torch")
    rng = np.random.default_rng(seed)
    a = rng.standard_normal(shape)
    x = ag.tensor(a, requires_grad=True)
    t = torch.tensor(a, requires_grad=True)
    y, yt = fn(x, ag), fn(t, torch)
    ys = y if isinstance(y, (tuple, list)) else (y,)
    yts = yt if isinstance(yt, (tuple, list)) else (yt,)
    total, total_t = 0, 0
    for o, ot in zip(ys, yts):
        np.testing.assert_allclose(o.detach().numpy(), ot.detach().numpy())
        if o.dtype.kind == "f":
            w = rng.standard_normal(o.shape)
            total = total + (o * ag.tensor(w)).sum()
            total_t = total_t + (ot * torch.tensor(w)).sum()
    total.backward()
    total_t.backward()
    np.testing.assert_allclose(x.grad.numpy(), t.grad.numpy())


@pytest.mark.parametrize("fn,shape", [
    (lambda x, m: x[1:, None, ::2], (3, 4)),
    (lambda x, m: x[[0, 2, 0], 1], (3, 4)),
    (lambda x, m: x[:, [1, 1, 0]][[1, 0]], (2, 3)),
    (lambda x, m: x[[0, 1], :, [1, 1]], (2, 3, 2)),
    (lambda x, m: x[x > 0], (3, 4)),
    (lambda x, m: x[..., m.tensor([True, False, True])], (2, 3)),
    (lambda x, m: x.flatten(1).unflatten(1, (2, -1)).squeeze(0).unsqueeze(-1), (1, 2, 3)),
    (lambda x, m: x.squeeze((0, 2)), (1, 3, 1, 2)),
    (lambda x, m: x.movedim((0, 2), (1, 0)), (2, 3, 4)),
    (lambda x, m: x.repeat(2, 1, 3), (2, 2)),
    (lambda x, m: m.tile(x, (2,)), (2, 3)),
    (lambda x, m: x.flip(-1).roll(2).roll((1, -1), (0, 1)), (3, 4)),
    (lambda x, m: m.cat([x, x * 2, x[:, :1]], 1), (2, 3)),
    (lambda x, m: m.stack([x, -x], dim=1), (2, 3)),
    (lambda x, m: x.split([1, 3], 1) + x.chunk(3, 1) + x.unbind(0), (2, 4)),
    (lambda x, m: x.narrow(0, -2, 2).tril(1) + x.narrow(0, 0, 2).triu(-1), (3, 3)),
    (lambda x, m: x.gather(1, m.tensor([[0, 0], [2, 1]])), (2, 3)),
    (lambda x, m: x.scatter_add(0, m.tensor([[0, 1, 0], [0, 0, 2]]), x[:2] * 3), (3, 3)),
    (lambda x, m: x.index_select(1, m.tensor([2, 0, 2])), (2, 3)),
    (lambda x, m: x.masked_fill(x > 0.3, -1.0), (3, 4)),
    (lambda x, m: tuple(x.topk(2, dim=0)), (3, 4)),
    (lambda x, m: tuple(x.topk(2, largest=False)), (3, 4)),
    (lambda x, m: tuple(x.sort(descending=True)), (3, 4)),
])
def test_matches_torch(fn, shape):
    torch = pytest.importorskip("torch")  # noqa: F841
    _grad_pair(fn, shape)


def test_setitem_matches_torch():
    torch = pytest.importorskip("torch")
    a = np.arange(6.0).reshape(2, 3)
    outs = []
    for m in (ag, torch):
        x = m.tensor(a, requires_grad=True)
        v = m.tensor([7.0, 8.0], requires_grad=True)
        y = x * 1
        y[:, 1] = v * 2
        y[[0, 1], [0, 2]] = 0.5
        (y * m.tensor(a + 1)).sum().backward()
        outs.append((y.detach().numpy(), x.grad.numpy(), v.grad.numpy()))
    for ours, theirs in zip(*outs):
        np.testing.assert_allclose(ours, theirs)


def test_selection_matches_torch():
    torch = pytest.importorskip("torch")
    a = np.array([[3, 1, 3, 2], [2, 2, 0, 3]])
    x, t = ag.tensor(a), torch.tensor(a)
    for ours, theirs in [(ag.unique(x, return_inverse=True, return_counts=True),
                          torch.unique(t, return_inverse=True, return_counts=True)),
                         (ag.unique(x, dim=1, return_inverse=True), torch.unique(t, dim=1, return_inverse=True)),
                         (x.sort(stable=True), t.sort(stable=True)),
                         (x.sort(descending=True, stable=True), t.sort(descending=True, stable=True)),
                         (x.nonzero(), t.nonzero()), (ag.nonzero(x, as_tuple=True), torch.nonzero(t, as_tuple=True)),
                         (x.chunk(3, 1), t.chunk(3, 1)), (x.split(3, 1), t.split(3, 1))]:
        ours = ours if isinstance(ours, tuple) else (ours,)
        theirs = theirs if isinstance(theirs, tuple) else (theirs,)
        assert len(ours) == len(theirs)
        for o, th in zip(ours, theirs):
            np.testing.assert_array_equal(o.numpy(), th.numpy())
