"""Graph behaviour: accumulation, retain/create_graph, ag.grad, hooks, grad modes, in-place and version counters,
custom Functions, depth, memory, anomaly detection, and the error messages users see."""
import gc
import inspect
import os
import tracemalloc
import warnings

import numpy as np
import pytest

import autograd_core as ag

F64 = ag.float64


def leaf(values, dtype=F64):
    return ag.tensor(values, dtype=dtype, requires_grad=True)


def line_below():
    """The line number just after the caller's current line (where the op under test is written)."""
    return inspect.currentframe().f_back.f_lineno + 1


# ---- the course's worked example ---------------------------------------------------------------

NEURON_FORMS = [
    ("sigmoid", lambda z: z.sigmoid()),
    ("composite", lambda z: 1.0 / (1.0 + (-z).exp())),
    ("ag.sigmoid", lambda z: ag.sigmoid(z)),
]


@pytest.mark.parametrize("form", [f for _, f in NEURON_FORMS], ids=[n for n, _ in NEURON_FORMS])
def test_course_neuron_values_and_gradients(form):
    # COURSE.md backprop example: f = sigma(w0*x0 + w1*x1 + w2)
    w0, x0, w1, x1, w2 = (ag.tensor(v, requires_grad=True) for v in (2.0, -1.0, -3.0, -2.0, -3.0))
    f = form(x0 * w0 + x1 * w1 + w2)
    f.backward()
    assert f.item() == pytest.approx(0.73, abs=5e-3)
    assert [w0.grad.item(), w1.grad.item(), w2.grad.item()] == pytest.approx([-0.20, -0.39, 0.20], abs=6e-3)
    assert [x0.grad.item(), x1.grad.item()] == pytest.approx([0.39, -0.59], abs=6e-3)
    # exact values: dsigma = f(1-f) with f = sigma(1)
    s = 1 / (1 + np.exp(-1.0))
    d = s * (1 - s)
    assert w0.grad.item() == pytest.approx(-1 * d, rel=1e-5)
    assert x1.grad.item() == pytest.approx(-3 * d, rel=1e-5)


# ---- graph shapes: reuse, diamonds, accumulation --------------------------------------------------

def test_tensor_used_twice_gets_both_contributions():
    x = leaf([1.0, -2.0, 3.0])
    (x * x).sum().backward()
    np.testing.assert_allclose(x.grad.numpy(), [2.0, -4.0, 6.0])


def test_same_tensor_as_both_operands_of_several_ops():
    x = leaf([0.5, 2.0])
    y = x * x + x / x - x  # 2x - 0 - 1 after differentiation
    y.sum().backward()
    np.testing.assert_allclose(x.grad.numpy(), 2 * np.array([0.5, 2.0]) - 1)


def test_diamond():
    # x -> a, b -> c: both paths' gradients must be summed before a is processed
    x = leaf([1.0, 2.0])
    a = x * 3
    b = a.exp()
    c = a.sin()
    (b * c).sum().backward()
    av = 3 * np.array([1.0, 2.0])
    expected = 3 * (np.exp(av) * np.sin(av) + np.exp(av) * np.cos(av))
    np.testing.assert_allclose(x.grad.numpy(), expected, rtol=1e-12)


def test_wide_diamond_node_runs_once():
    calls = []

    class Count(ag.Function):
        @staticmethod
        def forward(ctx, x):
            return x * 1.0

        @staticmethod
        def backward(ctx, grad):
            calls.append(1)
            return grad

    x = leaf([1.0])
    h = Count.apply(x)
    total = sum((h * k for k in range(1, 11)), ag.zeros(1, dtype=F64))
    total.sum().backward()
    assert len(calls) == 1
    assert x.grad.item() == pytest.approx(55.0)


def test_gradient_accumulates_over_backward_calls():
    x = leaf([1.0, 2.0])
    (x * x).sum().backward()
    first = x.grad.numpy().copy()
    (x * 3).sum().backward()
    np.testing.assert_allclose(first, [2.0, 4.0])
    np.testing.assert_allclose(x.grad.numpy(), [5.0, 7.0])
    x.grad = None
    (x * 3).sum().backward()
    np.testing.assert_allclose(x.grad.numpy(), [3.0, 3.0])


def test_grad_zero_then_accumulate():
    x = leaf([1.0, 2.0])
    (x * 2).sum().backward()
    x.grad.zero_()
    (x * 5).sum().backward()
    np.testing.assert_allclose(x.grad.numpy(), [5.0, 5.0])


def test_broadcast_leaf_gradient_has_leaf_shape():
    b = leaf([[1.0], [2.0]])  # (2, 1)
    a = leaf(np.ones((3, 2, 4)))
    (a * b).sum().backward()
    assert b.grad.shape == (2, 1)
    np.testing.assert_allclose(b.grad.numpy(), [[12.0], [12.0]])
    assert a.grad.shape == (3, 2, 4)


def test_leaf_grad_dtype_follows_leaf():
    x = ag.tensor([1.0, 2.0], requires_grad=True)  # float32
    (x * ag.tensor([1.0, 1.0], dtype=F64)).sum().backward()
    assert x.grad.dtype == ag.float32


def test_user_gradient_is_not_aliased_into_grad():
    x = leaf([1.0, 2.0])
    v = ag.tensor([10.0, 20.0], dtype=F64)
    y = x + 0
    y.backward(v, retain_graph=True)
    y.backward(v)
    np.testing.assert_allclose(v.numpy(), [10.0, 20.0])
    np.testing.assert_allclose(x.grad.numpy(), [20.0, 40.0])
    # the same through ag.grad, and with the leaf itself as the root
    g, = ag.grad(x + 0, x, grad_outputs=v)
    g += 1
    x.grad = None
    x.backward(v)
    x.backward(v)
    np.testing.assert_allclose(v.numpy(), [10.0, 20.0])
    np.testing.assert_allclose(x.grad.numpy(), [20.0, 40.0])


def test_backward_with_gradient_argument():
    x = leaf([1.0, 2.0, 3.0])
    y = x * x
    y.backward(ag.tensor([1.0, 0.0, -1.0], dtype=F64))
    np.testing.assert_allclose(x.grad.numpy(), [2.0, 0.0, -6.0])


def test_next_functions_and_is_leaf():
    x = leaf([1.0])
    y = x * 2
    assert x.is_leaf and not y.is_leaf
    assert x.grad_fn is None
    assert y.grad_fn.name() == "MulBackward0"
    nodes = [n for n, _ in y.grad_fn.next_functions if n is not None]
    assert [n.name() for n in nodes] == ["AccumulateGrad"]
    assert nodes[0].variable is x


def test_no_record_without_requires_grad():
    a = ag.tensor([1.0, 2.0])
    b = a * 2 + 1
    assert b.grad_fn is None and not b.requires_grad


# ---- retain_graph / create_graph ----------------------------------------------------------------------

def test_retain_graph_allows_second_backward():
    x = leaf([1.0, 2.0])
    y = (x.exp() * x).sum()
    y.backward(retain_graph=True)
    y.backward()
    expected = 2 * (np.exp([1.0, 2.0]) * (1 + np.array([1.0, 2.0])))
    np.testing.assert_allclose(x.grad.numpy(), expected)


def test_second_backward_without_retain_graph_raises():
    x = leaf([1.0, 2.0])
    y = (x.exp() * x).sum()
    y.backward()
    with pytest.raises(RuntimeError, match="retain_graph") as e:
        y.backward()
    assert "second time" in str(e.value)


def test_second_backward_through_nodes_that_saved_nothing_runs_as_in_pytorch():
    # the error is about freed saved tensors: an add saves none, so its node can run again
    x = leaf([1.0, 2.0])
    y = x + 1.0
    y.sum().backward()
    y.sum().backward()
    np.testing.assert_allclose(x.grad.numpy(), [2.0, 2.0])
    z = x * x  # saves x: a second pass needs what was freed
    z.sum().backward()
    with pytest.raises(RuntimeError, match="second time"):
        z.sum().backward()


def test_saved_tensors_released_after_backward():
    x = leaf([1.0, 2.0])
    y = x.exp()
    z = (y * x).sum()
    z.backward()
    for node in (y.grad_fn, z.grad_fn.next_functions[0][0]):
        with pytest.raises(RuntimeError, match="retain_graph"):
            node.saved_tensors


def test_create_graph_second_derivative_of_cube():
    x = leaf([-1.0, 0.5, 2.0])
    g, = ag.grad((x ** 3).sum(), x, create_graph=True)
    np.testing.assert_allclose(g.detach().numpy(), 3 * x.detach().numpy() ** 2)
    assert g.requires_grad and g.grad_fn is not None
    gg, = ag.grad(g.sum(), x)
    np.testing.assert_allclose(gg.numpy(), 6 * x.detach().numpy())


def test_create_graph_third_derivative():
    x = leaf([0.3, 1.2])
    g1, = ag.grad(x.sin().sum(), x, create_graph=True)
    g2, = ag.grad(g1.sum(), x, create_graph=True)
    g3, = ag.grad(g2.sum(), x)
    np.testing.assert_allclose(g1.detach().numpy(), np.cos([0.3, 1.2]))
    np.testing.assert_allclose(g2.detach().numpy(), -np.sin([0.3, 1.2]))
    np.testing.assert_allclose(g3.numpy(), -np.cos([0.3, 1.2]))


def test_create_graph_backward_then_backward_into_grad():
    x = leaf([1.0, 3.0])
    y = (x ** 3).sum()
    y.backward(create_graph=True)
    assert x.grad.requires_grad
    g = x.grad
    x.grad = None
    g.sum().backward()
    np.testing.assert_allclose(x.grad.numpy(), [6.0, 18.0])


def test_gradient_penalty_mixed_partials():
    # f = sum(x^2 * y): d/dy of ||df/dx||^2 = d/dy sum(4 x^2 y^2) = 8 x^2 y
    x, y = leaf([1.0, 2.0]), leaf([3.0, -1.0])
    gx, = ag.grad((x * x * y).sum(), x, create_graph=True)
    gy, = ag.grad((gx * gx).sum(), y)
    np.testing.assert_allclose(gy.numpy(), 8 * np.array([1.0, 4.0]) * np.array([3.0, -1.0]))


# ---- ag.grad -------------------------------------------------------------------------------------------

def test_grad_does_not_touch_dot_grad():
    x = leaf([1.0, 2.0])
    g, = ag.grad((x * x).sum(), x)
    np.testing.assert_allclose(g.numpy(), [2.0, 4.0])
    assert x.grad is None


def test_grad_multiple_inputs_and_outputs():
    x, y = leaf([1.0, 2.0]), leaf([3.0, 4.0])
    gx, gy = ag.grad([(x * y).sum(), (x * x).sum()], [x, y])
    np.testing.assert_allclose(gx.numpy(), [3.0 + 2.0, 4.0 + 4.0])
    np.testing.assert_allclose(gy.numpy(), [1.0, 2.0])


def test_grad_allow_unused():
    x, unused = leaf([1.0]), leaf([2.0])
    y = (x * 2).sum()
    with pytest.raises(RuntimeError, match="allow_unused"):
        ag.grad(y, [x, unused], retain_graph=True)
    gx, gu = ag.grad(y, [x, unused], allow_unused=True)
    assert gu is None
    np.testing.assert_allclose(gx.numpy(), [2.0])


def test_grad_outputs_weights_the_output():
    x = leaf([1.0, 2.0, 3.0])
    v = ag.tensor([0.5, -1.0, 2.0], dtype=F64)
    g, = ag.grad(x * x, x, grad_outputs=v)
    np.testing.assert_allclose(g.numpy(), 2 * np.array([1.0, 2.0, 3.0]) * v.numpy())


def test_grad_nonscalar_without_grad_outputs_raises():
    x = leaf([1.0, 2.0])
    with pytest.raises(RuntimeError, match="scalar"):
        ag.grad(x * 2, x)


def test_grad_with_respect_to_non_leaf():
    x = leaf([1.0, -2.0])
    h = x * 3
    y = (h * h).sum()
    gh, gx = ag.grad(y, [h, x])
    np.testing.assert_allclose(gh.numpy(), 2 * h.detach().numpy())
    np.testing.assert_allclose(gx.numpy(), 18 * x.detach().numpy())
    assert x.grad is None and h.grad is None


def test_grad_input_not_requiring_grad_raises():
    x = leaf([1.0])
    c = ag.tensor([1.0], dtype=F64)
    with pytest.raises(RuntimeError, match="does not require grad"):
        ag.grad((x * c).sum(), c)


def test_grad_retain_graph_flag():
    x = leaf([2.0])
    y = (x.exp()).sum()
    g1, = ag.grad(y, x, retain_graph=True)
    g2, = ag.grad(y, x)
    np.testing.assert_allclose(g1.numpy(), g2.numpy())
    with pytest.raises(RuntimeError, match="retain_graph"):
        ag.grad(y, x)


def test_backward_inputs_restricts_accumulation():
    x, y = leaf([1.0]), leaf([2.0])
    (x * y).sum().backward(inputs=[x])
    assert y.grad is None
    np.testing.assert_allclose(x.grad.numpy(), [2.0])


# ---- hooks and retain_grad -------------------------------------------------------------------------------

def test_leaf_hook_sees_gradient_and_can_replace_it():
    x = leaf([1.0, 2.0])
    seen = []
    x.register_hook(lambda g: seen.append(g.numpy().copy()))
    h2 = x.register_hook(lambda g: g * 10)
    (x * 3).sum().backward()
    np.testing.assert_allclose(seen[0], [3.0, 3.0])
    np.testing.assert_allclose(x.grad.numpy(), [30.0, 30.0])
    h2.remove()
    x.grad = None
    (x * 3).sum().backward()
    np.testing.assert_allclose(x.grad.numpy(), [3.0, 3.0])
    assert len(seen) == 2


def test_non_leaf_hook_replaces_gradient_flowing_on():
    x = leaf([1.0, 2.0])
    y = x * 3
    handle = y.register_hook(lambda g: ag.ones_like(g))
    (y * y).sum().backward()
    np.testing.assert_allclose(x.grad.numpy(), [3.0, 3.0])  # 3 * replaced ones, not 3 * 2y
    handle.remove()
    x.grad = None
    y = x * 3
    (y * y).sum().backward()
    np.testing.assert_allclose(x.grad.numpy(), 18 * np.array([1.0, 2.0]))


def test_hook_removed_on_reused_non_leaf():
    x = leaf([1.0])
    y = x * 2
    calls = []
    handle = y.register_hook(lambda g: calls.append(1))
    (y * 1).sum().backward(retain_graph=True)
    handle.remove()
    (y * 1).sum().backward()
    assert calls == [1]


def test_hook_returning_none_keeps_gradient():
    x = leaf([1.0, 2.0])
    x.register_hook(lambda g: None)
    (x * 4).sum().backward()
    np.testing.assert_allclose(x.grad.numpy(), [4.0, 4.0])


def test_hook_on_tensor_without_grad_raises():
    with pytest.raises(RuntimeError, match="register_hook"):
        ag.ones(2).register_hook(lambda g: g)


def test_hooks_run_for_ag_grad_inputs():
    x = leaf([1.0])
    x.register_hook(lambda g: g * 2)
    g, = ag.grad((x * 3).sum(), x)
    assert g.item() == pytest.approx(6.0)


def test_retain_grad_on_non_leaf():
    x = leaf([1.0, -1.0])
    y = x * 3
    z = y * 2
    y.retain_grad()
    (z * z).sum().backward()
    assert y.retains_grad and not z.retains_grad
    np.testing.assert_allclose(y.grad.numpy(), 2 * 2 * z.detach().numpy())
    assert z.grad is None


def test_non_leaf_grad_is_none_without_retain_grad():
    x = leaf([1.0])
    y = x * 3
    (y * 2).sum().backward()
    assert y.grad is None


# ---- grad modes ------------------------------------------------------------------------------------------

def test_no_grad_context_manager():
    x = leaf([1.0])
    with ag.no_grad():
        assert not ag.is_grad_enabled()
        y = x * 2
    assert ag.is_grad_enabled()
    assert not y.requires_grad and y.grad_fn is None


def test_enable_grad_inside_no_grad():
    x = leaf([1.0])
    with ag.no_grad():
        with ag.enable_grad():
            y = x * 2
        z = x * 2
    assert y.requires_grad and y.grad_fn is not None
    assert not z.requires_grad


def test_grad_modes_as_decorators():
    x = leaf([1.0])

    @ag.no_grad()
    def off():
        return x * 2, ag.is_grad_enabled()

    @ag.enable_grad()
    def on():
        return x * 2

    @ag.set_grad_enabled(False)
    def off2():
        return x * 2

    y, mode = off()
    assert not y.requires_grad and mode is False
    assert ag.is_grad_enabled()  # decorating did not change the mode
    with ag.no_grad():
        assert on().requires_grad
    assert not off2().requires_grad
    assert ag.is_grad_enabled()


def test_set_grad_enabled_plain_call_and_context():
    x = leaf([1.0])
    try:
        ag.set_grad_enabled(False)
        assert not ag.is_grad_enabled()
        assert not (x * 2).requires_grad
    finally:
        ag.set_grad_enabled(True)
    assert (x * 2).requires_grad
    for mode in (False, True):
        with ag.set_grad_enabled(mode):
            assert ag.is_grad_enabled() is mode
            assert (x * 2).requires_grad is mode
        assert ag.is_grad_enabled()


def test_grad_mode_restored_after_exception():
    with pytest.raises(ZeroDivisionError):
        with ag.no_grad():
            1 / 0
    assert ag.is_grad_enabled()

    @ag.no_grad()
    def boom():
        raise ValueError("x")

    with pytest.raises(ValueError):
        boom()
    assert ag.is_grad_enabled()


def test_no_grad_nested_restores_outer():
    with ag.no_grad():
        with ag.no_grad():
            pass
        assert not ag.is_grad_enabled()
    assert ag.is_grad_enabled()


# ---- detach, in-place ops and version counters -------------------------------------------------------------

def test_detach_shares_storage_and_version_counter():
    x = leaf([1.0, 2.0])
    d = x.detach()
    assert not d.requires_grad and d.grad_fn is None
    v0 = x._version
    d.add_(1.0)
    np.testing.assert_allclose(x.detach().numpy(), [2.0, 3.0])
    assert x._version == v0 + 1 and d._version == x._version


def test_detach_write_after_save_is_caught():
    x = leaf([1.0, 2.0])
    y = x.exp()  # saves its output
    y.detach().mul_(2.0)
    with pytest.raises(RuntimeError, match="in-place"):
        y.sum().backward()


def test_version_counter_error_names_the_op():
    x = leaf([1.0, 2.0])
    y = x * 2
    z = y.sin()  # sin saves its input y
    y.add_(1.0)
    with pytest.raises(RuntimeError) as e:
        z.sum().backward()
    msg = str(e.value)
    assert "SinBackward0" in msg
    assert "modified by an in-place operation" in msg
    assert "version" in msg


@pytest.mark.parametrize("save_side", ["left", "right"])
def test_version_check_covers_saved_parameters(save_side):
    # a Parameter (a Tensor subclass) saved by a binary op is tracked like any tensor
    import nn
    w = nn.Parameter(ag.tensor([1.0, 2.0], dtype=F64))
    x = leaf([3.0, 4.0])
    y = (x * w) if save_side == "left" else (w * x)  # Mul saves w for x's gradient
    with ag.no_grad():
        w.mul_(2.0)
    with pytest.raises(RuntimeError, match="MulBackward0.*modified by an in-place operation|"
                                           "modified by an in-place operation.*MulBackward0"):
        y.sum().backward()


def test_python_zero_keeps_its_sign_next_to_a_tensor():
    # -0.0 and 0.0 compare equal, but x + (-0.0) keeps x's negative zeros and x + 0.0 does not
    x = ag.tensor([-0.0, 1.0])
    assert not np.signbit((x + 0.0).numpy()[0])
    assert np.signbit((x + -0.0).numpy()[0])
    assert np.signbit((x * -0.0).numpy()[1])
    assert not np.signbit((x * 0.0).numpy()[1])


def test_backward_order_follows_creation_not_argument_order():
    # a node consumed by an op created much later, through several paths of different lengths
    x = leaf([0.5, -1.5])
    early = x * 3.0
    chain = x
    for _ in range(20):
        chain = chain.sin() + early * 0.1
    late = (early.exp() * chain).sum() + early.sum()
    late.backward()
    # same gradient, computed by hand through the same formulas in NumPy
    xv = np.array([0.5, -1.5])
    e = xv * 3.0
    vals = [xv]
    for _ in range(20):
        vals.append(np.sin(vals[-1]) + e * 0.1)
    g_chain = np.exp(e)
    g_early = vals[-1] * np.exp(e) + 1.0
    g_x = np.zeros(2)
    for v in reversed(vals[:-1]):
        g_early = g_early + g_chain * 0.1
        g_chain = g_chain * np.cos(v)
    g_x = g_chain + 3.0 * g_early
    np.testing.assert_allclose(x.grad.numpy(), g_x, rtol=1e-12)


def test_data_write_is_not_tracked_by_version():
    # .data (as in PyTorch) is the escape hatch: writes through it are not checked
    x = leaf([1.0, 2.0])
    y = (x * x).sum()
    x.data.mul_(1.0)
    y.backward()
    np.testing.assert_allclose(x.grad.numpy(), [2.0, 4.0])


def test_inplace_on_tensor_without_grad_returns_same_object():
    a = ag.tensor([1.0, 2.0])
    alias = a
    a += 1
    a *= 3
    a -= ag.tensor([1.0, 1.0])
    a /= 2
    assert a is alias
    np.testing.assert_allclose(a.numpy(), [2.5, 4.0])
    assert a.add_(1, alpha=2) is alias
    np.testing.assert_allclose(a.numpy(), [4.5, 6.0])


def test_inplace_on_leaf_requiring_grad_raises():
    w = leaf([1.0, 2.0])
    with pytest.raises(RuntimeError, match="leaf"):
        w += 1
    with pytest.raises(RuntimeError, match="no_grad"):
        w.mul_(2)
    np.testing.assert_allclose(w.detach().numpy(), [1.0, 2.0])


def test_inplace_under_no_grad_keeps_leaf():
    w = leaf([1.0, 2.0])
    alias = w
    with ag.no_grad():
        w -= 0.5 * ag.tensor([2.0, 2.0], dtype=F64)
        w.add_(1.0)
    assert w is alias
    assert w.is_leaf and w.requires_grad and w.grad_fn is None
    np.testing.assert_allclose(w.detach().numpy(), [1.0, 2.0])
    (w * 2).sum().backward()
    np.testing.assert_allclose(w.grad.numpy(), [2.0, 2.0])


def test_inplace_on_non_leaf_is_recorded():
    x = leaf([1.0, 2.0])
    y = x * 2
    y += x          # y = 3x
    y *= 2          # y = 6x
    assert y.grad_fn.name() == "MulBackward0"
    y.sum().backward()
    np.testing.assert_allclose(x.grad.numpy(), [6.0, 6.0])


def test_inplace_on_plain_tensor_with_grad_operand_joins_graph():
    x = leaf([1.0, 2.0])
    acc = ag.zeros(2, dtype=F64)
    acc += x * x
    assert acc.requires_grad
    acc.sum().backward()
    np.testing.assert_allclose(x.grad.numpy(), [2.0, 4.0])


VIEW_INPLACE = [
    # an in-place write through a view changes the base, and one on the base changes the view
    pytest.param(lambda a, v: (v.mul_(3), a)[1], id="write view, backward base"),
    pytest.param(lambda a, v: (a.mul_(3), v)[1], id="write base, backward view"),
]


@pytest.mark.parametrize("write", VIEW_INPLACE)
def test_inplace_through_view_is_right_or_refused(write):
    # PyTorch gives 3 (CopySlices); a clear error would also do — a gradient of 1 is silently wrong
    x = leaf([1.0, 2.0])
    a = x * 1
    v = a.reshape(2, 1)
    try:
        out = write(a, v)
        out.sum().backward()
    except RuntimeError:
        return
    np.testing.assert_allclose(x.grad.numpy(), [3.0, 3.0])


def test_zero_and_fill_under_no_grad():
    w = leaf([1.0, 2.0])
    with ag.no_grad():
        w.zero_()
    np.testing.assert_allclose(w.detach().numpy(), [0.0, 0.0])
    with ag.no_grad():
        w.fill_(3.0)
    np.testing.assert_allclose(w.detach().numpy(), [3.0, 3.0])
    assert w.is_leaf and w.requires_grad


# ---- user-defined Functions -------------------------------------------------------------------------------

class Cube(ag.Function):
    @staticmethod
    def forward(ctx, x, scale):
        ctx.save_for_backward(x)
        ctx.scale = scale
        return x ** 3 * scale

    @staticmethod
    def backward(ctx, grad):
        x, = ctx.saved_tensors
        return grad * 3 * x ** 2 * ctx.scale, None


class MulAdd(ag.Function):
    """Two outputs: (x * w, x + w)."""

    @staticmethod
    def forward(ctx, x, w):
        ctx.save_for_backward(x, w)
        ctx.seen_needs = ctx.needs_input_grad
        return x * w, x + w

    @staticmethod
    def backward(ctx, g_prod, g_sum):
        x, w = ctx.saved_tensors
        gx = g_prod * w + g_sum if ctx.needs_input_grad[0] else None
        gw = g_prod * x + g_sum if ctx.needs_input_grad[1] else None
        return gx, gw


def test_function_forward_backward():
    x = leaf([1.0, 2.0])
    y = Cube.apply(x, 2.0)
    np.testing.assert_allclose(y.detach().numpy(), [2.0, 16.0])
    assert y.grad_fn.name() == "CubeBackward0"
    y.sum().backward()
    np.testing.assert_allclose(x.grad.numpy(), [6.0, 24.0])


def test_function_with_create_graph():
    x = leaf([1.0, 2.0])
    g, = ag.grad(Cube.apply(x, 1.0).sum(), x, create_graph=True)
    gg, = ag.grad(g.sum(), x)
    np.testing.assert_allclose(gg.numpy(), [6.0, 12.0])


def test_function_gradcheck():
    x = leaf(np.random.default_rng(0).standard_normal(4))
    assert ag.gradcheck(lambda t: Cube.apply(t, 0.5), (x,))


def test_gradcheck_catches_wrong_backward():
    class WrongMul(ag.Function):
        @staticmethod
        def forward(ctx, x, y):
            ctx.save_for_backward(x, y)
            return x * y

        @staticmethod
        def backward(ctx, grad):
            x, y = ctx.saved_tensors
            return grad * y, grad * x * 1.5  # the second gradient is off by 50%

    x, y = leaf([1.0, 2.0]), leaf([3.0, 4.0])
    with pytest.raises(ag.GradcheckError) as e:
        ag.gradcheck(lambda a, b: WrongMul.apply(a, b), (x, y))
    msg = str(e.value)
    assert "input 1" in msg and "element (0,)" in msg
    assert "analytic 1.5" in msg and "numerical 1.0" in msg
    assert ag.gradcheck(lambda a, b: WrongMul.apply(a, b), (x, y), raise_exception=False) is False
    assert x.grad is None and y.grad is None  # gradcheck leaves .grad alone


def test_function_needs_input_grad_and_two_outputs():
    x = leaf([1.0, 2.0])
    w = ag.tensor([3.0, 4.0], dtype=F64)
    p, s = MulAdd.apply(x, w)
    assert p.grad_fn is s.grad_fn
    assert p.grad_fn.seen_needs == (True, False)
    (p * 2 + s).sum().backward()  # only the first output feeds twice, second once
    np.testing.assert_allclose(x.grad.numpy(), 2 * w.numpy() + 1)
    assert w.grad is None


def test_function_only_one_output_used_gets_zero_for_other():
    x, w = leaf([1.0, 2.0]), leaf([3.0, 4.0])
    p, _ = MulAdd.apply(x, w)
    p.sum().backward()
    np.testing.assert_allclose(x.grad.numpy(), [3.0, 4.0])
    np.testing.assert_allclose(w.grad.numpy(), [1.0, 2.0])


def test_function_no_record_without_grad():
    y = Cube.apply(ag.tensor([1.0]), 1.0)
    assert y.grad_fn is None and not y.requires_grad
    with ag.no_grad():
        z = Cube.apply(leaf([1.0]), 1.0)
    assert z.grad_fn is None


def test_function_saved_tensor_version_check():
    x = leaf([1.0, 2.0])
    h = x * 1
    y = Cube.apply(h, 1.0)
    h.add_(1.0)
    with pytest.raises(RuntimeError, match="CubeBackward0"):
        y.sum().backward()


def test_function_wrong_number_of_gradients():
    class Bad(ag.Function):
        @staticmethod
        def forward(ctx, x, y):
            return x + y

        @staticmethod
        def backward(ctx, grad):
            return grad

    x = leaf([1.0])
    with pytest.raises(RuntimeError, match="BadBackward0"):
        Bad.apply(x, x).sum().backward()


def test_function_wrong_gradient_shape_named():
    class BadShape(ag.Function):
        @staticmethod
        def forward(ctx, x):
            return x * 1

        @staticmethod
        def backward(ctx, grad):
            return ag.ones(5, dtype=F64)

    x = leaf([1.0, 2.0])
    with pytest.raises(RuntimeError, match="BadShapeBackward0"):
        BadShape.apply(x).sum().backward()


# ---- depth and memory -----------------------------------------------------------------------------------

def test_deep_chain_no_recursion_error():
    x = ag.tensor(1.0, requires_grad=True)
    y = x
    for _ in range(100_000):
        y = y * 1.0 + 0.0
    y.backward()
    assert x.grad.item() == 1.0
    del y  # freeing a 100,000-node graph must not overflow the C stack either
    gc.collect()


def _mlp_step(params, X, T, lr):
    W1, b1, W2, b2 = params
    h = (X @ W1 + b1).tanh()
    out = h @ W2 + b2
    loss = ((out - T) ** 2).mean()
    loss.backward()
    with ag.no_grad():
        for p in params:
            p -= lr * p.grad
            p.grad = None
    return loss


def test_mlp_training_loop_learns_and_memory_stays_flat():
    rng = np.random.default_rng(0)
    X = ag.tensor(rng.standard_normal((64, 2)).astype(np.float32))
    T = ag.tensor(np.sin(X.numpy()[:, :1] * 2) * X.numpy()[:, 1:])
    params = [ag.tensor(rng.standard_normal((2, 16)).astype(np.float32) * 0.5, requires_grad=True),
              ag.zeros(16, requires_grad=True),
              ag.tensor(rng.standard_normal((16, 1)).astype(np.float32) * 0.5, requires_grad=True),
              ag.zeros(1, requires_grad=True)]
    losses = []
    tracemalloc.start()
    try:
        for step in range(200):
            loss = _mlp_step(params, X, T, lr=0.1)
            losses.append(loss.item())
            # every node of the finished graph has released what it saved
            node = loss.grad_fn
            with pytest.raises(RuntimeError):
                node.saved_tensors
            del loss
            if step == 19:
                gc.collect()
                current_20, peak_20 = tracemalloc.get_traced_memory()
                tracemalloc.reset_peak()
        gc.collect()
        current_200, peak_200 = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert losses[-1] < 0.5 * losses[0]
    assert all(p.dtype == ag.float32 for p in params)
    assert current_200 - current_20 < 64 * 1024, (current_20, current_200)
    assert peak_200 < peak_20 + 32 * 1024, (peak_20, peak_200)


def test_graph_is_freed_when_output_dropped():
    import weakref
    x = leaf(np.ones(1000))
    y = (x.exp() * 2).sum()
    ref = weakref.ref(y.grad_fn)
    del y
    gc.collect()
    assert ref() is None


# ---- error messages ---------------------------------------------------------------------------------------

def test_broadcast_error_shows_both_shapes_aligned():
    with pytest.raises(ValueError) as e:
        ag.ones(2, 3) + ag.ones(4)
    msg = str(e.value)
    assert "add" in msg
    lines = msg.splitlines()
    la = next(line for line in lines if line.strip() == "(2, 3)")
    lb = next(line for line in lines if line.strip() == "(4,)")
    assert len(la) == len(lb)  # right-aligned, so trailing dims line up
    assert "3 vs 4" in msg


@pytest.mark.parametrize("op", [lambda a, b: a * b, lambda a, b: a - b, lambda a, b: ag.maximum(a, b)],
                         ids=["mul", "sub", "maximum"])
def test_broadcast_error_for_other_ops(op):
    with pytest.raises(ValueError, match=r"\(5, 2\)"):
        op(ag.ones(5, 2), ag.ones(3, 1, 3))


def test_matmul_inner_dimension_error():
    with pytest.raises(RuntimeError) as e:
        ag.ones(4, 3) @ ag.ones(4, 3)
    assert "matmul" in str(e.value)
    assert "(4, 3) @ (4, 3)" in str(e.value)
    assert "3 and 4" in str(e.value)


def test_backward_on_non_scalar_without_gradient():
    x = leaf([1.0, 2.0])
    with pytest.raises(RuntimeError) as e:
        (x * 2).backward()
    assert "scalar" in str(e.value) and "(2,)" in str(e.value)


def test_backward_gradient_shape_mismatch():
    x = leaf([1.0, 2.0])
    with pytest.raises(RuntimeError, match="shape"):
        (x * 2).backward(ag.ones(3, dtype=F64))


def test_backward_on_tensor_without_grad():
    with pytest.raises(RuntimeError, match="does not require grad"):
        ag.ones(()).backward()


def test_requires_grad_on_integer_tensor():
    with pytest.raises(RuntimeError, match="floating point"):
        ag.tensor([1, 2], requires_grad=True)
    with pytest.raises(RuntimeError, match="floating point"):
        ag.arange(3).requires_grad_()


def test_numpy_on_tensor_requiring_grad():
    x = leaf([1.0])
    with pytest.raises(RuntimeError, match=r"detach\(\)\.numpy\(\)"):
        x.numpy()
    with pytest.raises(RuntimeError, match="detach"):
        np.asarray(x)
    np.testing.assert_allclose(x.detach().numpy(), [1.0])


def test_index_out_of_range():
    t = ag.tensor([1.0, 2.0, 3.0])
    with pytest.raises(IndexError) as e:
        t[5]
    assert "5" in str(e.value) and "3" in str(e.value)


def test_requires_grad_change_on_non_leaf():
    y = leaf([1.0]) * 2
    with pytest.raises(RuntimeError, match="leaf"):
        y.requires_grad_(False)


# ---- detect_anomaly -----------------------------------------------------------------------------------------

def _here():
    return os.path.basename(__file__)


def test_anomaly_nan_in_forward_log():
    x = leaf([-1.0, 1.0])
    with ag.detect_anomaly():
        with pytest.raises(RuntimeError) as e:
            line = line_below()
            x.log()
    msg = str(e.value)
    assert "Log" in msg and "nan" in msg
    assert f"{_here()}:{line}" in msg
    assert "x.log()" in msg


def test_anomaly_nan_in_forward_zero_over_zero():
    x = leaf([0.0])
    with ag.detect_anomaly():
        with pytest.raises(RuntimeError) as e:
            line = line_below()
            x / x
    assert "Div" in str(e.value) and f"{_here()}:{line}" in str(e.value)


def test_anomaly_nan_in_backward_sqrt_at_zero():
    x = leaf([0.0, 4.0])
    with ag.detect_anomaly():
        line = line_below()
        y = x.sqrt()
        z = (y * ag.tensor([0.0, 1.0], dtype=F64)).sum()  # 0 * inf -> nan in SqrtBackward
        with pytest.raises(RuntimeError) as e:
            z.backward()
    msg = str(e.value)
    assert "SqrtBackward0" in msg and "nan" in msg
    assert f"{_here()}:{line}" in msg


def test_anomaly_inf_in_backward():
    x = leaf([0.0])
    with ag.detect_anomaly():
        y = x.sqrt().sum()
        with pytest.raises(RuntimeError, match="SqrtBackward0.*inf"):
            y.backward()


def test_anomaly_as_decorator_and_restored():
    @ag.detect_anomaly()
    def f(t):
        assert ag.is_anomaly_enabled()
        return t.log()

    with pytest.raises(RuntimeError, match="Log"):
        f(leaf([-1.0]))
    assert not ag.is_anomaly_enabled()


def test_no_anomaly_check_without_detect_anomaly():
    x = leaf([-1.0, 0.0, 0.0])
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        y = x.log()  # nan, -inf: IEEE results, no exception, no NumPy warning
        z = x / x
        r = x.sqrt()
        (r * 0).sum().backward()
    assert np.isnan(y.detach().numpy()[0]) and np.isneginf(y.detach().numpy()[1])
    assert np.isnan(z.detach().numpy()[1])
    assert np.isnan(x.grad.numpy()[1])


def test_anomaly_ok_values_pass():
    x = leaf([1.0, 2.0])
    with ag.detect_anomaly():
        y = (x.log() * x.sqrt()).sum()
        y.backward()
    assert np.isfinite(x.grad.numpy()).all()
