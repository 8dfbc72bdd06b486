"""The backward explainer (explain_backward, backward_steps), op formulas, and checked mode."""
import io
import os
import sys
import warnings

import numpy as np
import pytest

import autograd_core as ag
from autograd_core import trace

HERE = os.path.basename(__file__)


def explain_text(loss, **kwargs):
    buf = io.StringIO()
    ag.viz.explain_backward(loss, file=buf, **kwargs)
    return buf.getvalue()


def graph_nodes(t):
    """Every Function node and leaf reachable from t, by identity."""
    seen, stack, found = set(), [t.grad_fn], []
    while stack:
        n = stack.pop()
        if id(n) in seen:
            continue
        seen.add(id(n))
        found.append(n)
        stack.extend(e[0] for e in n._edges if e is not None)
    return found


def diamond():
    """A graph with shared subexpressions, broadcasting and two leaves used several times."""
    a = ag.tensor([[1.0, 2.0, 3.0], [4.0, 5.0, 6.0]], requires_grad=True)
    b = ag.tensor([0.5, -1.0, 2.0], requires_grad=True)
    h = (a * b).tanh()
    loss = (h * h + h.exp() * b).mean() + (a @ b).sum()
    return a, b, loss


# ---- formulas --------------------------------------------------------------------------------

def test_every_library_function_declares_a_formula():
    from op_table import library_functions
    funcs = library_functions()
    assert len(funcs) > 40
    missing = sorted(f.__name__ for f in funcs if not (isinstance(f.formula, str) and f.formula.strip()))
    assert not missing, f"Function subclasses without a `formula`: {missing}"
    assert all("grad_" in f.formula for f in funcs)


# ---- explain_backward ------------------------------------------------------------------------

def test_every_node_once_in_reverse_topological_order():
    a, b, loss = diamond()
    steps = list(ag.viz.backward_steps(loss))
    nodes = graph_nodes(loss)
    assert sorted(id(s.node) for s in steps) == sorted(id(n) for n in nodes)   # each node exactly once
    position = {id(s.node): s.index for s in steps}
    assert [s.index for s in steps] == list(range(1, len(steps) + 1))
    for s in steps:
        for e in getattr(s.node, "_edges", ()):
            if e is not None:
                # a node comes before every node that made its inputs
                assert position[id(s.node)] < position[id(e[0])], (s.op, e[0])
    assert sum(s.is_leaf for s in steps) == 2


def test_explain_runs_the_real_backward():
    a, b, loss = diamond()
    a2, b2, loss2 = diamond()
    text = explain_text(loss)
    loss2.backward()
    assert np.allclose(a.grad.numpy(), a2.grad.numpy()) and np.allclose(b.grad.numpy(), b2.grad.numpy())
    assert text.count("\nstep ") == len(graph_nodes(loss))


def test_broadcast_reduction_is_reported():
    a = ag.ones(4, 3, requires_grad=True)
    b = ag.tensor([1.0, 2.0, 3.0], requires_grad=True)
    text = explain_text((a + b).sum())
    assert "sum over axis 0: (4, 3) → (3,)" in text
    add, = [s for s in ag.viz.backward_steps((ag.ones(4, 3, requires_grad=True) + b).sum())
            if s.op == "AddBackward0"]
    assert add.reductions == ["grad_b: sum over axis 0: (4, 3) → (3,)"]
    assert add.input_shapes == [("a", (4, 3)), ("b", (3,))] and add.output_shapes == [(4, 3)]


def test_size_one_axes_and_leading_axes_are_both_named():
    a = ag.ones(2, 4, 3, requires_grad=True)
    b = ag.ones(4, 1, requires_grad=True)
    assert "sum over axes 0, 2: (2, 4, 3) → (4, 1)" in explain_text((a * b).sum())


def test_accumulation_for_a_tensor_used_twice():
    x = ag.tensor([1.0, 2.0], requires_grad=True)
    text = explain_text((x * x).sum())
    assert "accumulate: leaf x is used more than once" in text
    assert "sum of 2 contributions" in text
    assert x.grad.tolist() == [2.0, 4.0]

    x = ag.tensor([1.0, 2.0], requires_grad=True)
    y = x * 3
    z = y + y
    steps = list(ag.viz.backward_steps(z.sum()))
    add = next(s for s in steps if s.op == "AddBackward0")
    mul = next(s for s in steps if s.op == "MulBackward0")
    assert len(add.accumulations) == 1 and "y is used more than once" in add.accumulations[0]
    assert mul.name == "y" and "sum of 2 contributions" in mul.upstream_from


def test_formulas_and_sites_under_record_sites():
    x = ag.tensor([[1.0, 2.0]], requires_grad=True)
    w = ag.tensor([[3.0], [4.0]], requires_grad=True)
    with trace.record_sites():
        y = (x @ w).tanh()   # the site line
    line = sys._getframe().f_lineno - 1
    text = explain_text(y.sum())
    assert "grad_a = grad @ b.T; grad_b = a.T @ grad" in text
    assert "grad_x = grad * (1 - y²)" in text
    assert f"{HERE}:{line}  y = (x @ w).tanh()   # the site line" in text
    assert "site not recorded" not in text


def test_missing_sites_are_mentioned_once():
    x = ag.tensor([1.0, 2.0], requires_grad=True)
    text = explain_text((x.exp() * 2).sum())
    assert text.count("site not recorded") == 1
    assert "created" not in text


def test_backward_steps_yields_the_printed_blocks():
    def build():
        x = ag.tensor([1.0, -2.0, 0.5], requires_grad=True)
        return ((x * 2).sigmoid() + x).sum()
    buf = io.StringIO()
    loss = build()
    ag.viz.explain_backward(loss, file=buf)
    text = buf.getvalue()
    loss = build()
    steps = ag.viz.backward_steps(loss)
    first = next(steps)
    assert first.index == 1 and first.op == "SumBackward0" and first.upstream == "(): 1"
    blocks = [str(first)] + [str(s) for s in steps]
    assert text.split("\n\n", 1)[1].rstrip("\n") == "\n\n".join(blocks)


def test_neuron_gradients_in_the_explanation():
    w0, x0 = ag.tensor(2.0, requires_grad=True), ag.tensor(-1.0, requires_grad=True)
    w1, x1 = ag.tensor(-3.0, requires_grad=True), ag.tensor(-2.0, requires_grad=True)
    w2 = ag.tensor(-3.0, requires_grad=True)
    out = (x0 * w0 + x1 * w1 + w2).sigmoid()
    steps = {s.name: s for s in ag.viz.backward_steps(out) if s.is_leaf}
    expected = {"w0": "-0.1966", "x0": "0.3932", "w1": "-0.3932", "x1": "-0.5898", "w2": "0.1966"}
    assert {k: s.stored for k, s in steps.items()} == {k: f"{k}.grad = {v}" for k, v in expected.items()}


def test_custom_function_without_formula_and_retain_graph():
    class Twice(ag.Function):
        @staticmethod
        def forward(ctx, x):
            return x * 2

        @staticmethod
        def backward(ctx, grad):
            return grad * 2

    x = ag.tensor([1.0], requires_grad=True)
    y = Twice.apply(x).sum()
    text = explain_text(y, retain_graph=True)
    assert "TwiceBackward0" in text and "no formula" in text and "grad_in0" in text
    text = explain_text(y)                     # the graph was retained: a second pass works
    assert "x.grad += upstream" in text and x.grad.tolist() == [4.0]


def test_explain_rejects_a_tensor_without_graph():
    with pytest.raises(RuntimeError, match="does not require grad"):
        ag.viz.explain_backward(ag.ones(2).sum())


# ---- checked mode ----------------------------------------------------------------------------

class WrongCube(ag.Function):
    """x³ with a deliberately wrong backward (2x instead of 3x²)."""

    @staticmethod
    def forward(ctx, x):
        ctx.save_for_backward(x)
        return x ** 3

    @staticmethod
    def backward(ctx, grad):
        x, = ctx.saved_tensors
        return grad * 2 * x


class Cube(ag.Function):
    @staticmethod
    def forward(ctx, x):
        ctx.save_for_backward(x)
        return x ** 3

    @staticmethod
    def backward(ctx, grad):
        x, = ctx.saved_tensors
        return grad * 3 * x * x


class WrongScaledAdd(ag.Function):
    """a + alpha * b whose gradient for b forgets alpha."""

    @staticmethod
    def forward(ctx, a, b, alpha):
        ctx.alpha = alpha
        return a + alpha * b

    @staticmethod
    def backward(ctx, grad):
        return grad, grad, None


@pytest.mark.parametrize("dtype", [ag.float64, ag.float32])
def test_checked_mode_catches_a_wrong_backward(dtype):
    ag.manual_seed(0)
    x = ag.randn(5, dtype=dtype, requires_grad=True)
    with pytest.raises(ag.viz.GradientCheckError) as info:
        with ag.checked_backward():
            y = (WrongCube.apply(x * 1.5) + 1).sum()   # the wrong op
            y.backward()
    line = sys._getframe().f_lineno - 2
    msg = str(info.value)
    assert "WrongCubeBackward0" in msg and f"{HERE}:{line}" in msg
    assert "analytic" in msg and "numerical" in msg and "tolerance" in msg
    assert isinstance(info.value, RuntimeError)


def test_checked_mode_names_the_wrong_input():
    a = ag.randn(2, 3, dtype=ag.float64, requires_grad=True)
    b = ag.randn(3, dtype=ag.float64, requires_grad=True)
    with pytest.raises(ag.viz.GradientCheckError, match="WrongScaledAddBackward0") as info:
        with ag.checked_backward():
            WrongScaledAdd.apply(a, b, 3.0).sum().backward()
    msg = str(info.value)
    assert "input 1 alone" in msg and "input 0 alone" not in msg


@pytest.mark.parametrize("dtype", [ag.float32, ag.float64])
def test_checked_mode_is_quiet_on_correct_ops(dtype):
    ag.manual_seed(1)
    x = ag.randn(8, 4, dtype=dtype)
    w1 = ag.randn(4, 16, dtype=dtype, requires_grad=True)
    b1 = ag.zeros(16, dtype=dtype, requires_grad=True)
    w2 = ag.randn(16, 3, dtype=dtype, requires_grad=True)
    b2 = ag.zeros(3, dtype=dtype, requires_grad=True)
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        with ag.checked_backward() as report:
            h = (x @ w1 + b1).tanh()
            out = Cube.apply(h @ w2 + b2)
            loss = out.mean() + (out * out).sum() / 10
            loss.backward()
    ops = set(report.checked)
    assert {"MatMulBackward0", "AddBackward0", "TanhBackward0", "MeanBackward0", "SumBackward0",
            "CubeBackward0", "MulBackward0", "DivBackward0"} <= ops
    assert not report.skipped
    assert w1.grad is not None and w1.grad.dtype == dtype


def test_checked_mode_is_quiet_at_kinks():
    x = ag.tensor([0.0, 1.0, -1.0, 2.0, 2.0], requires_grad=True)
    with ag.checked_backward() as report:
        r = x.relu()
        y = r.relu().sum() + r.abs().sum() + x.max() + x.floor().sum() + x.clamp(0, 1).sum()
        y.backward()
    assert len(report.checked) >= 8


def test_checked_mode_skips_ops_recorded_outside_with_one_warning():
    x = ag.tensor([1.0, 2.0], requires_grad=True)
    y = WrongCube.apply(x).exp()              # recorded outside: its inputs were not kept
    with pytest.warns(UserWarning, match="outside") as record:
        with ag.checked_backward() as report:
            y.sum().backward()
    assert len(record) == 1
    assert [op for op, _ in report.skipped] == ["ExpBackward0", "WrongCubeBackward0"]
    assert report.checked == ["SumBackward0"]   # recorded inside the block


def test_checked_backward_is_exported_and_does_not_linger():
    assert ag.checked_backward is ag.viz.checked_backward
    assert issubclass(ag.viz.GradientCheckError, RuntimeError)
    with ag.checked_backward():
        pass
    assert trace.state.observer is None and not trace.state.active


def test_explain_inside_checked_mode_still_checks():
    x = ag.tensor([0.5, -1.0], dtype=ag.float64, requires_grad=True)
    with pytest.raises(ag.viz.GradientCheckError, match="WrongCube"):
        with ag.checked_backward():
            y = WrongCube.apply(x).sum()
            ag.viz.explain_backward(y, file=io.StringIO())


def test_explain_under_viz_record():
    x = ag.tensor([1.0, 2.0], requires_grad=True)
    with ag.viz.record():
        y = x * 3
        z = (y + y).sum()
    line = sys._getframe().f_lineno - 2
    text = explain_text(z)
    assert f"{HERE}:{line}  y = x * 3" in text and "site not recorded" not in text
    assert "accumulate: y is used more than once" in text
    assert x.grad.tolist() == [6.0, 6.0]


def test_explain_with_a_gradient_for_a_non_scalar_output():
    x = ag.tensor([1.0, 2.0], requires_grad=True)
    y = x.exp()
    steps = list(ag.viz.backward_steps(y, gradient=ag.tensor([1.0, 0.0])))
    assert "gradient" in steps[0].upstream_from and steps[0].upstream == "(2,): [1, 0]"
    assert np.allclose(x.grad.numpy(), [np.e, 0.0])


class SinCos(ag.Function):
    """Two outputs, sin(x) and cos(x)."""
    formula = "grad_x = grad_s * cos(x) - grad_c * sin(x)"

    @staticmethod
    def forward(ctx, x):
        ctx.save_for_backward(x)
        return x.sin(), x.cos()

    @staticmethod
    def backward(ctx, grad_s, grad_c):
        x, = ctx.saved_tensors
        return grad_s * x.cos() - grad_c * x.sin()


def test_multi_output_function_explained_and_checked():
    x = ag.tensor([0.3, -1.2, 2.0], dtype=ag.float64, requires_grad=True)
    with ag.checked_backward() as report:
        s, c = SinCos.apply(x)
        loss = (s * 2).sum() + (c * c).sum()
        steps = list(ag.viz.backward_steps(loss))
    assert "SinCosBackward0" in report.checked and not report.skipped
    step = next(s for s in steps if s.op == "SinCosBackward0")
    assert step.output_shapes == [(3,), (3,)]
    assert step.upstream.startswith("output 0 (3,): all 2; output 1 (3,)")
    assert step.upstream_from.startswith("output 1: sum of 2 contributions")   # c * c uses c twice
    expected = 2 * np.cos(x.detach().numpy()) - 2 * np.cos(x.detach().numpy()) * np.sin(x.detach().numpy())
    assert np.allclose(x.grad.numpy(), expected)


def test_observer_reports_accumulation_into_a_node_with_retained_grad():
    # a single-output node with retain_grad (as under ag.viz.record) holds its buffer as a bare
    # array; a second gradient arriving there must still be reported exactly once
    from autograd_core import trace

    class Events:
        def __init__(self):
            self.accumulated = []

        def node(self, node, grads, in_grads):
            pass

        def reduce(self, node, index, grad_shape, input_shape):
            pass

        def accumulate(self, target, output_nr):
            self.accumulated.append(target)

        def leaf(self, tensor, grad):
            pass

    x = ag.tensor([0.0, 1.0, 2.0], requires_grad=True)
    h = x * 1.0
    h.retain_grad()
    y = (h * 2).sum() + (h * 3).sum()  # h is used twice
    with trace.observe(Events()) as events:
        y.backward()
    assert [t is h.grad_fn for t in events.accumulated] == [True]
    assert h.grad.tolist() == [5.0, 5.0, 5.0]
