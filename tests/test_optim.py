"""optim: every optimizer against a NumPy version of its documented update rule, state_dict and resume,
parameter groups, closures, errors; step-by-step comparisons with PyTorch where it is installed."""
import numpy as np
import pytest

import autograd_core as ag
import optim

# ---- the fixed problem: f(x) = Σ ½·a·x² + b·x + 0.1·x⁴ + sin(x), per tensor ----------------------
SHAPES = [(3, 4), (5,)]


def _coefs(shape, k):
    rng = np.random.default_rng(100 + k)
    return rng.uniform(0.5, 2.0, shape), rng.standard_normal(shape)


COEFS = [_coefs(s, k) for k, s in enumerate(SHAPES)]


def loss_of(params, sign=1.0):
    total = 0.0
    for x, (a, b) in zip(params, COEFS):
        a, b = ag.tensor(a, dtype=x.dtype), ag.tensor(b, dtype=x.dtype)
        total = total + (0.5 * a * x * x + b * x + 0.1 * x ** 4 + x.sin()).sum()
    return total * sign


def grad_of(xs):
    return [a * x + b + 0.4 * x ** 3 + np.cos(x) for x, (a, b) in zip(xs, COEFS)]


def initial(k):
    return np.random.default_rng(k).standard_normal(SHAPES[k])


# ---- NumPy references, written from PyTorch's documented algorithms (float64) ----------------------
def ref_sgd(x, g, st, lr=1e-3, momentum=0, dampening=0, weight_decay=0, nesterov=False):
    g = g + weight_decay * x
    if momentum:
        st["b"] = g.copy() if "b" not in st else momentum * st["b"] + (1 - dampening) * g
        g = g + momentum * st["b"] if nesterov else st["b"]
    return x - lr * g


def ref_adam(x, g, st, lr=1e-3, betas=(0.9, 0.999), eps=1e-8, weight_decay=0, amsgrad=False, decoupled=False):
    b1, b2 = betas
    t = st["t"] = st.get("t", 0) + 1
    if decoupled:
        x = x * (1 - lr * weight_decay)
    else:
        g = g + weight_decay * x
    st["m"] = b1 * st.get("m", 0) + (1 - b1) * g
    st["v"] = b2 * st.get("v", 0) + (1 - b2) * g * g
    v = st["v"]
    if amsgrad:
        v = st["vmax"] = np.maximum(st.get("vmax", 0), v)
    m_hat, v_hat = st["m"] / (1 - b1 ** t), v / (1 - b2 ** t)
    return x - lr * m_hat / (np.sqrt(v_hat) + eps)


def ref_adamw(x, g, st, weight_decay=1e-2, **kw):
    return ref_adam(x, g, st, weight_decay=weight_decay, decoupled=True, **kw)


def ref_nadam(x, g, st, lr=2e-3, betas=(0.9, 0.999), eps=1e-8, weight_decay=0, momentum_decay=4e-3,
              decoupled_weight_decay=False):
    b1, b2 = betas
    t = st["t"] = st.get("t", 0) + 1
    if decoupled_weight_decay:
        x = x * (1 - lr * weight_decay)
    else:
        g = g + weight_decay * x
    mu = b1 * (1 - 0.5 * 0.96 ** (t * momentum_decay))
    mu_next = b1 * (1 - 0.5 * 0.96 ** ((t + 1) * momentum_decay))
    st["prod"] = st.get("prod", 1.0) * mu
    st["m"] = b1 * st.get("m", 0) + (1 - b1) * g
    st["v"] = b2 * st.get("v", 0) + (1 - b2) * g * g
    v_hat = st["v"] / (1 - b2 ** t)
    update = (1 - mu) * g / (1 - st["prod"]) + mu_next * st["m"] / (1 - st["prod"] * mu_next)
    return x - lr * update / (np.sqrt(v_hat) + eps)


def ref_adagrad(x, g, st, lr=1e-2, lr_decay=0, weight_decay=0, initial_accumulator_value=0, eps=1e-10):
    t = st["t"] = st.get("t", 0) + 1
    g = g + weight_decay * x
    clr = lr / (1 + (t - 1) * lr_decay)
    st["sum"] = st.get("sum", initial_accumulator_value) + g * g
    return x - clr * g / (np.sqrt(st["sum"]) + eps)


def ref_rmsprop(x, g, st, lr=1e-2, alpha=0.99, eps=1e-8, weight_decay=0, momentum=0, centered=False):
    g = g + weight_decay * x
    st["v"] = alpha * st.get("v", 0) + (1 - alpha) * g * g
    v = st["v"]
    if centered:
        st["gavg"] = alpha * st.get("gavg", 0) + (1 - alpha) * g
        v = v - st["gavg"] ** 2
    step = g / (np.sqrt(v) + eps)
    if momentum > 0:
        st["b"] = momentum * st.get("b", 0) + step
        step = st["b"]
    return x - lr * step


def ref_adadelta(x, g, st, lr=1.0, rho=0.9, eps=1e-6, weight_decay=0):
    g = g + weight_decay * x
    st["v"] = rho * st.get("v", 0) + (1 - rho) * g * g
    delta = np.sqrt(st.get("u", 0) + eps) / np.sqrt(st["v"] + eps) * g
    st["u"] = rho * st.get("u", 0) + (1 - rho) * delta * delta
    return x - lr * delta


CASES = [
    ("SGD", ref_sgd, dict(lr=0.05)),
    ("SGD", ref_sgd, dict(lr=0.05, momentum=0.9)),
    ("SGD", ref_sgd, dict(lr=0.05, momentum=0.8, dampening=0.3, weight_decay=0.1)),
    ("SGD", ref_sgd, dict(lr=0.05, momentum=0.9, nesterov=True, weight_decay=0.05)),
    ("Adam", ref_adam, dict()),
    ("Adam", ref_adam, dict(lr=0.05, betas=(0.8, 0.99), eps=1e-6, weight_decay=0.1)),
    ("Adam", ref_adam, dict(lr=0.05, amsgrad=True)),
    ("AdamW", ref_adamw, dict(lr=0.05)),
    ("AdamW", ref_adamw, dict(lr=0.05, weight_decay=0.3, amsgrad=True)),
    ("NAdam", ref_nadam, dict(lr=0.05)),
    ("NAdam", ref_nadam, dict(lr=0.05, weight_decay=0.1, momentum_decay=0.01)),
    ("NAdam", ref_nadam, dict(lr=0.05, weight_decay=0.1, decoupled_weight_decay=True)),
    ("Adagrad", ref_adagrad, dict(lr=0.1)),
    ("Adagrad", ref_adagrad, dict(lr=0.1, lr_decay=0.05, weight_decay=0.1, initial_accumulator_value=0.5)),
    ("RMSprop", ref_rmsprop, dict()),
    ("RMSprop", ref_rmsprop, dict(lr=1e-3, alpha=0.9)),  # the course's RMSProp
    ("RMSprop", ref_rmsprop, dict(lr=0.01, momentum=0.9, centered=True, weight_decay=0.1)),
    ("RMSprop", ref_rmsprop, dict(lr=0.01, centered=True)),
    ("Adadelta", ref_adadelta, dict()),
    ("Adadelta", ref_adadelta, dict(lr=0.5, rho=0.8, eps=1e-5, weight_decay=0.1)),
]
IDS = [f"{name}-{'-'.join(f'{k}={v}' for k, v in kw.items()) or 'defaults'}" for name, _, kw in CASES]


def run_ours(name, kw, steps, dtype=ag.float64, maximize=False):
    params = [ag.tensor(initial(k), dtype=dtype, requires_grad=True) for k in range(len(SHAPES))]
    opt = getattr(optim, name)(params, maximize=maximize, **kw)
    traj = []
    for _ in range(steps):
        opt.zero_grad()
        loss_of(params, -1.0 if maximize else 1.0).backward()
        opt.step()
        traj.append([p.detach().numpy().copy() for p in params])
    return traj, params, opt


def run_ref(ref, kw, steps):
    xs = [initial(k) for k in range(len(SHAPES))]
    states = [{} for _ in xs]
    traj = []
    for _ in range(steps):
        xs = [ref(x, g, st, **kw) for x, g, st in zip(xs, grad_of(xs), states)]
        traj.append([x.copy() for x in xs])
    return traj


@pytest.mark.parametrize("name,ref,kw", CASES, ids=IDS)
def test_trajectory_matches_reference_float64(name, ref, kw):
    ours, _, _ = run_ours(name, kw, 50)
    expected = run_ref(ref, kw, 50)
    for step, (a, b) in enumerate(zip(ours, expected)):
        for x, y in zip(a, b):
            np.testing.assert_allclose(x, y, rtol=1e-10, atol=1e-10, err_msg=f"{name} {kw} step {step + 1}")
    assert not np.allclose(ours[-1][0], initial(0))  # it moved


@pytest.mark.parametrize("name,ref,kw", CASES, ids=IDS)
def test_float32_stays_float32_and_tracks_reference(name, ref, kw):
    ours, params, opt = run_ours(name, kw, 10, dtype=ag.float32)
    expected = run_ref(ref, kw, 10)
    for x, y in zip(ours[-1], expected[-1]):
        assert x.dtype == np.float32
        np.testing.assert_allclose(x, y, rtol=2e-4, atol=2e-4)
    for p in params:
        for key, v in opt.state[p].items():
            if key not in ("step", "mu_product"):
                assert v.dtype == ag.float32, (key, v.dtype)


@pytest.mark.parametrize("name,ref,kw", CASES, ids=IDS)
def test_maximize_ascends_the_negated_loss_like_minimizing(name, ref, kw):
    down, _, _ = run_ours(name, kw, 15)
    up, _, _ = run_ours(name, kw, 15, maximize=True)
    for a, b in zip(down[-1], up[-1]):
        np.testing.assert_allclose(a, b, rtol=1e-12, atol=1e-12)


# ---- state_dict and resuming -----------------------------------------------------------------------
def test_adam_state_dict_layout():
    _, params, opt = run_ours("Adam", dict(lr=0.01, amsgrad=True), 3)
    sd = opt.state_dict()
    assert set(sd) == {"state", "param_groups"}
    assert set(sd["state"]) == {0, 1}
    assert set(sd["state"][0]) == {"step", "exp_avg", "exp_avg_sq", "max_exp_avg_sq"}
    assert isinstance(sd["state"][0]["step"], ag.Tensor) and sd["state"][0]["step"].item() == 3.0
    assert sd["state"][1]["exp_avg"].shape == params[1].shape
    (group,) = sd["param_groups"]
    assert group["params"] == [0, 1] and group["lr"] == 0.01 and group["betas"] == (0.9, 0.999)
    assert group["amsgrad"] is True and group["maximize"] is False


STATE_NAMES = {"SGD": {"momentum_buffer"}, "Adagrad": {"step", "sum"}, "RMSprop": {"step", "square_avg"},
               "Adadelta": {"step", "square_avg", "acc_delta"}, "NAdam": {"step", "mu_product", "exp_avg", "exp_avg_sq"}}


@pytest.mark.parametrize("name,kw", [("SGD", dict(lr=0.1, momentum=0.9)), ("Adagrad", {}), ("RMSprop", {}),
                                     ("Adadelta", {}), ("NAdam", {})])
def test_state_names_are_pytorchs(name, kw):
    _, _, opt = run_ours(name, kw, 2)
    assert set(opt.state_dict()["state"][0]) == STATE_NAMES[name]
    _, _, opt = run_ours("RMSprop", dict(momentum=0.5, centered=True), 2)
    assert set(opt.state_dict()["state"][0]) == {"step", "square_avg", "momentum_buffer", "grad_avg"}


@pytest.mark.parametrize("name,ref,kw", CASES, ids=IDS)
@pytest.mark.parametrize("dtype", [ag.float32, ag.float64])
def test_save_load_resumes_bit_for_bit(name, ref, kw, dtype, tmp_path):
    unsplit, _, _ = run_ours(name, kw, 20, dtype=dtype)
    first, params, opt = run_ours(name, kw, 10, dtype=dtype)
    ag.save({"params": [p.detach() for p in params], "optim": opt.state_dict()}, tmp_path / "ckpt.pt")
    del opt
    ckpt = ag.load(tmp_path / "ckpt.pt")
    params = [ag.tensor(p.numpy(), dtype=dtype, requires_grad=True) for p in ckpt["params"]]
    opt = getattr(optim, name)(params, lr=0.123)  # options come back from the state_dict
    opt.load_state_dict(ckpt["optim"])
    for _ in range(10):
        opt.zero_grad()
        loss_of(params).backward()
        opt.step()
    for p, expected in zip(params, unsplit[-1]):
        assert np.array_equal(p.detach().numpy(), expected)


def test_load_state_dict_copies_and_casts():
    _, params, opt = run_ours("Adam", {}, 2)
    sd = opt.state_dict()
    p32 = [ag.tensor(p.detach().numpy(), dtype=ag.float32, requires_grad=True) for p in params]
    opt2 = optim.Adam(p32)
    opt2.load_state_dict(sd)
    assert opt2.state[p32[0]]["exp_avg"].dtype == ag.float32
    assert opt2.state[p32[0]]["exp_avg"]._data is not sd["state"][0]["exp_avg"]._data


def test_load_state_dict_rejects_mismatched_groups():
    _, params, opt = run_ours("SGD", dict(lr=0.1), 1)
    other = optim.SGD([{"params": [params[0]]}, {"params": [params[1]]}], lr=0.1)
    with pytest.raises(ValueError, match="number of parameter groups"):
        other.load_state_dict(opt.state_dict())
    single = optim.SGD([params[0]], lr=0.1)
    with pytest.raises(ValueError, match="doesn't match the size"):
        single.load_state_dict(opt.state_dict())


# ---- groups, zero_grad, closure, tensors that are not parameters -----------------------------------
def test_param_groups_with_different_lrs():
    params = [ag.tensor(initial(k), requires_grad=True) for k in range(2)]
    opt = optim.SGD([{"params": [params[0]]}, {"params": [params[1]], "lr": 0.01, "momentum": 0.5}], lr=0.05)
    assert opt.param_groups[0]["lr"] == 0.05 and opt.param_groups[1]["lr"] == 0.01
    assert opt.param_groups[0]["momentum"] == 0 and opt.param_groups[1]["momentum"] == 0.5
    xs, st = [initial(k) for k in range(2)], [{}, {}]
    for _ in range(20):
        opt.zero_grad()
        loss_of(params).backward()
        opt.step()
        gs = grad_of(xs)
        xs = [ref_sgd(xs[0], gs[0], st[0], lr=0.05), ref_sgd(xs[1], gs[1], st[1], lr=0.01, momentum=0.5)]
    for p, x in zip(params, xs):
        np.testing.assert_allclose(p.detach().numpy(), x, rtol=1e-12)
    sd = opt.state_dict()
    assert [g["params"] for g in sd["param_groups"]] == [[0], [1]]
    assert list(sd["state"]) == [1]  # only the momentum group has state


def test_add_param_group_and_duplicate_parameter():
    a, b = ag.zeros(2, requires_grad=True), ag.zeros(3, requires_grad=True)
    opt = optim.Adam([a], lr=0.1)
    opt.add_param_group({"params": b, "lr": 0.5})
    assert opt.param_groups[1]["params"][0] is b and opt.param_groups[1]["betas"] == (0.9, 0.999)
    with pytest.raises(ValueError, match="more than one parameter group"):
        opt.add_param_group({"params": [a]})
    with pytest.raises(ValueError, match="more than one parameter group"):
        optim.SGD([{"params": [a, b]}, {"params": [b]}], lr=0.1)


def test_zero_grad_set_to_none_or_zeros():
    x = ag.tensor([1.0, 2.0], requires_grad=True)
    opt = optim.SGD([x], lr=0.1)
    (x * x).sum().backward()
    opt.zero_grad(set_to_none=False)
    assert x.grad is not None and x.grad.tolist() == [0.0, 0.0]
    opt.zero_grad()
    assert x.grad is None


def test_parameters_without_grad_are_skipped():
    a, b = ag.tensor([1.0, 2.0], requires_grad=True), ag.tensor([3.0], requires_grad=True)
    opt = optim.Adam([a, b], lr=0.1)
    (a * a).sum().backward()
    opt.step()
    assert b.tolist() == [3.0] and b not in opt.state.keys() and a in opt.state.keys()
    assert a.tolist() != [1.0, 2.0]


def test_step_with_closure_returns_loss_and_records_even_under_no_grad():
    x = ag.tensor([3.0, -2.0], requires_grad=True)
    opt = optim.SGD([x], lr=0.25)
    calls = []

    def closure():
        opt.zero_grad()
        loss = (x * x).sum()
        loss.backward()
        calls.append(loss.item())
        return loss

    with ag.no_grad():
        loss = opt.step(closure)
    assert loss.item() == 13.0 and calls == [13.0]
    assert x.tolist() == [1.5, -1.0]  # x − 0.25·2x
    assert opt.step() is None


def test_optimizing_an_input_tensor_maximizes_a_score():
    """'Maximising input': any leaf tensor with requires_grad can be optimised, here towards a template."""
    template = ag.tensor(np.random.default_rng(0).standard_normal((1, 8, 8)).astype(np.float32))
    image = ag.zeros(1, 8, 8, requires_grad=True)
    opt = optim.Adam([image], lr=0.1, maximize=True)
    for _ in range(300):
        opt.zero_grad()
        score = (image * template).sum() - 0.5 * (image * image).sum()  # maximised at image = template
        score.backward()
        opt.step()
    np.testing.assert_allclose(image.detach().numpy(), template.numpy(), atol=1e-2)
    assert image.is_leaf and image.dtype == ag.float32


def test_parameters_stay_leaves_and_version_bumps():
    x = ag.tensor([1.0, 2.0], requires_grad=True)
    opt = optim.SGD([x], lr=0.1)
    y = x * x
    y.sum().backward()
    v = x._version
    opt.step()
    assert x.is_leaf and x.grad_fn is None and x._version == v + 1


# ---- course forms ----------------------------------------------------------------------------------
def _quad_grad(x):
    return np.array([1.0, 10.0]) * x  # f = ½(x₀² + 10·x₁²)


def test_course_momentum_with_lr_inside_equals_pytorch_form_for_constant_lr():
    lr, mu = 0.05, 0.9
    x = ag.tensor([1.0, 1.0], dtype=ag.float64, requires_grad=True)
    opt = optim.SGD([x], lr=lr, momentum=mu)
    w, dw = np.array([1.0, 1.0]), np.zeros(2)  # lecture 002: Δw = −ε∇E + αΔw_prev
    for _ in range(30):
        opt.zero_grad()
        (0.5 * (x[0] ** 2 + 10 * x[1] ** 2)).backward()
        opt.step()
        dw = -lr * _quad_grad(w) + mu * dw
        w = w + dw
        np.testing.assert_allclose(x.detach().numpy(), w, rtol=1e-12, atol=1e-14)


def test_course_lookahead_nesterov_equals_pytorch_form():
    """Lecture 004's v ← ρv − α∇f(x + ρv), x ← x + v is PyTorch's nesterov=True seen at w = x + ρv."""
    lr, rho = 0.05, 0.9
    w = ag.tensor([1.0, 1.0], dtype=ag.float64, requires_grad=True)
    opt = optim.SGD([w], lr=lr, momentum=rho, nesterov=True)
    x, v = np.array([1.0, 1.0]), np.zeros(2)
    for _ in range(30):
        opt.zero_grad()
        (0.5 * (w[0] ** 2 + 10 * w[1] ** 2)).backward()
        opt.step()
        v = rho * v - lr * _quad_grad(x + rho * v)
        x = x + v
        np.testing.assert_allclose(w.detach().numpy(), x + rho * v, rtol=1e-10, atol=1e-12)


# ---- LBFGS -----------------------------------------------------------------------------------------
def rosenbrock(x):
    return ((1 - x[:-1]) ** 2).sum() + 100 * ((x[1:] - x[:-1] ** 2) ** 2).sum()


@pytest.mark.parametrize("line_search_fn", [None, "strong_wolfe"])
def test_lbfgs_converges_on_rosenbrock(line_search_fn):
    x = ag.tensor([-1.5, 2.0, -0.5, 1.2], dtype=ag.float64, requires_grad=True)
    opt = optim.LBFGS([x], line_search_fn=line_search_fn)

    def closure():
        opt.zero_grad()
        loss = rosenbrock(x)
        loss.backward()
        return loss

    first = opt.step(closure).item()
    for _ in range(15):
        opt.step(closure)
    assert rosenbrock(x).item() < 1e-8 < first
    np.testing.assert_allclose(x.detach().numpy(), np.ones(4), atol=1e-4)
    st = opt.state_dict()["state"][0]
    assert {"func_evals", "n_iter", "d", "t", "old_dirs", "old_stps", "ro", "H_diag", "prev_flat_grad"} <= set(st)


def test_lbfgs_first_iteration_is_scaled_gradient_step():
    """One iteration without line search: w ← w − lr·min(1, 1/‖g‖₁)·g."""
    x = ag.tensor([3.0, -4.0], dtype=ag.float64, requires_grad=True)
    opt = optim.LBFGS([x], lr=0.5, max_iter=1)

    def closure():
        opt.zero_grad()
        loss = (x * x).sum()
        loss.backward()
        return loss

    opt.step(closure)
    g = np.array([6.0, -8.0])
    np.testing.assert_allclose(x.detach().numpy(), np.array([3.0, -4.0]) - 0.5 * g / 14.0)


def test_lbfgs_errors():
    x = ag.zeros(2, requires_grad=True)
    opt = optim.LBFGS([x])
    with pytest.raises(TypeError, match="closure"):
        opt.step()
    with pytest.raises(ValueError, match="parameter groups"):
        optim.LBFGS([{"params": [x]}, {"params": [ag.zeros(1, requires_grad=True)]}])
    with pytest.raises(ValueError, match="line_search_fn"):
        optim.LBFGS([x], line_search_fn="armijo")


# ---- errors ----------------------------------------------------------------------------------------
def test_errors_name_the_problem():
    x = ag.zeros(2, requires_grad=True)
    with pytest.raises(ValueError, match="empty parameter list"):
        optim.SGD([], lr=0.1)
    with pytest.raises(TypeError, match="iterable of Tensors"):
        optim.SGD(x, lr=0.1)
    with pytest.raises(TypeError, match="can only optimize Tensors"):
        optim.SGD([np.zeros(2)], lr=0.1)
    with pytest.raises(ValueError, match="non-leaf"):
        optim.Adam([x * 2])
    with pytest.raises(ValueError, match="Invalid learning rate: -0.1"):
        optim.Adam([x], lr=-0.1)
    with pytest.raises(ValueError, match="Invalid epsilon value"):
        optim.Adam([x], eps=-1e-8)
    with pytest.raises(ValueError, match="Invalid beta parameter at index 1"):
        optim.Adam([x], betas=(0.9, 1.0))
    with pytest.raises(ValueError, match="Invalid beta parameter at index 0"):
        optim.AdamW([x], betas=(-0.1, 0.9))
    with pytest.raises(ValueError, match="Invalid weight_decay"):
        optim.Adagrad([x], weight_decay=-1)
    with pytest.raises(ValueError, match="Invalid momentum value"):
        optim.SGD([x], lr=0.1, momentum=-0.5)
    with pytest.raises(ValueError, match="Nesterov momentum requires"):
        optim.SGD([x], lr=0.1, nesterov=True)
    with pytest.raises(ValueError, match="Invalid rho value"):
        optim.Adadelta([x], rho=1.5)
    with pytest.raises(ValueError, match="Invalid alpha value"):
        optim.RMSprop([x], alpha=-0.5)
    with pytest.raises(ValueError, match="Invalid lr_decay"):
        optim.Adagrad([x], lr_decay=-1)
    with pytest.raises(ValueError, match="Invalid learning rate"):
        optim.SGD([{"params": [x], "lr": -1.0}], lr=0.1)


def test_repr_lists_group_options():
    text = repr(optim.Adam([ag.zeros(2, requires_grad=True)], lr=0.5))
    assert text.startswith("Adam (") and "lr: 0.5" in text and "Parameter Group 0" in text


def test_adam_bias_correction_first_step_is_lr_sized():
    """With bias correction the first Adam step moves each coordinate by ≈ lr, whatever the gradient's scale
    (the course's 'not quite Adam' without it would move by (1 − β1)/√(1 − β2) ≈ 3.2 lr)."""
    x = ag.tensor([1.0, 1.0], dtype=ag.float64, requires_grad=True)
    opt = optim.Adam([x], lr=0.01)
    (x * ag.tensor([1e-3, 1e3], dtype=ag.float64)).sum().backward()
    opt.step()
    np.testing.assert_allclose(x.detach().numpy(), [0.99, 0.99], rtol=1e-6)


def test_threaded_update_equals_sequential():
    rng = np.random.default_rng(0)
    data = [rng.standard_normal(300_000).astype(np.float32) for _ in range(4)]
    grads = [rng.standard_normal(300_000).astype(np.float32) for _ in range(4)]
    results = []
    for foreach in (False, True):
        params = [ag.tensor(d, requires_grad=True) for d in data]
        opt = optim.Adam(params, lr=0.01, foreach=foreach)
        for _ in range(3):
            for p, g in zip(params, grads):
                p.grad = ag.tensor(g)
            opt.step()
        results.append([p.detach().numpy().copy() for p in params])
    for a, b in zip(*results):
        assert np.array_equal(a, b)


# ---- PyTorch, step by step (skipped where it is not installed) --------------------------------------
TORCH_CASES = CASES + [("SGD", None, dict(lr=0.05, momentum=0.9, maximize=True)),
                       ("Adam", None, dict(lr=0.05, maximize=True, weight_decay=0.1)),
                       ("RMSprop", None, dict(lr=0.01, maximize=True, momentum=0.5)),
                       ("Adagrad", None, dict(lr=0.1, maximize=True))]


@pytest.mark.parametrize("name,ref,kw", TORCH_CASES)
def test_matches_torch_step_by_step(name, ref, kw):
    torch = pytest.importorskip("torch")
    ours = [ag.tensor(initial(k), dtype=ag.float64, requires_grad=True) for k in range(2)]
    theirs = [torch.tensor(initial(k), dtype=torch.float64, requires_grad=True) for k in range(2)]
    o1, o2 = getattr(optim, name)(ours, **kw), getattr(torch.optim, name)(theirs, **kw)
    sign = -1.0 if kw.get("maximize") else 1.0
    for step in range(30):
        o1.zero_grad()
        loss_of(ours, sign).backward()
        o1.step()
        o2.zero_grad()
        total = 0
        for x, (a, b) in zip(theirs, COEFS):
            a, b = torch.tensor(a), torch.tensor(b)
            total = total + (0.5 * a * x * x + b * x + 0.1 * x ** 4 + x.sin()).sum()
        (total * sign).backward()
        o2.step()
        for p, q in zip(ours, theirs):
            # why: PyTorch keeps NAdam's mu_product in float32, hence the looser tolerance there
            tol = 1e-8 if name == "NAdam" else 1e-12
            np.testing.assert_allclose(p.detach().numpy(), q.detach().numpy(), rtol=tol, atol=tol,
                                       err_msg=f"step {step + 1}")
    ours_sd, theirs_sd = o1.state_dict(), o2.state_dict()
    assert set(ours_sd["state"].get(0, {})) == {k for k, v in theirs_sd["state"].get(0, {}).items() if v is not None}
    assert set(ours_sd["param_groups"][0]) <= set(theirs_sd["param_groups"][0])


@pytest.mark.parametrize("line_search_fn", [None, "strong_wolfe"])
def test_lbfgs_matches_torch(line_search_fn):
    torch = pytest.importorskip("torch")
    x0 = np.array([-1.5, 2.0, -0.5, 1.2])
    trajs = []
    for lib, mod in ((ag, optim), (torch, torch.optim)):
        x = lib.tensor(x0, requires_grad=True)
        opt = mod.LBFGS([x], history_size=5, max_iter=8, line_search_fn=line_search_fn)

        def closure():
            opt.zero_grad()
            loss = rosenbrock(x)
            loss.backward()
            return loss

        traj = []
        for _ in range(4):
            opt.step(closure)
            traj.append(x.detach().numpy().copy())
        trajs.append(np.array(traj))
        evals = opt.state[x]["func_evals"]
        trajs.append(evals)
    np.testing.assert_allclose(trajs[0], trajs[2], rtol=1e-9, atol=1e-9)
    assert trajs[1] == trajs[3]

