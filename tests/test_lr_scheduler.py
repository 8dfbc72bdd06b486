"""optim.lr_scheduler: each schedule's lr sequence against its documented formula; state_dict; PyTorch."""
import math
import warnings

import numpy as np
import pytest

import autograd_core as ag
import optim
from optim import lr_scheduler as L


def make_opt(lr=0.1, cls=optim.SGD, **kw):
    return cls([ag.zeros(2, requires_grad=True)], lr=lr, **kw)


def lrs(sched, n, metrics=None):
    """The lr after construction, then after each of n steps."""
    out = [sched.get_last_lr()[0]]
    for i in range(n):
        sched.optimizer.step()
        sched.step() if metrics is None else sched.step(metrics[i])
        out.append(sched.get_last_lr()[0])
    return out


def test_step_lr():
    got = lrs(L.StepLR(make_opt(), step_size=3, gamma=0.5), 9)
    np.testing.assert_allclose(got, [0.1 * 0.5 ** (e // 3) for e in range(10)], rtol=1e-12)


def test_multistep_lr_with_repeated_milestone():
    got = lrs(L.MultiStepLR(make_opt(), milestones=[2, 5, 5], gamma=0.1), 7)
    expected = [0.1 * 0.1 ** sum(e >= m for m in (2, 5, 5)) for e in range(8)]
    np.testing.assert_allclose(got, expected, rtol=1e-12)


def test_exponential_lr_and_the_course_form():
    s = 4  # the course's ε0·0.1^(t/s)
    got = lrs(L.ExponentialLR(make_opt(), gamma=0.1 ** (1 / s)), 8)
    np.testing.assert_allclose(got, [0.1 * 0.1 ** (t / s) for t in range(9)], rtol=1e-12)


def test_cosine_annealing_follows_the_cosine_and_climbs_back():
    T, eta_min = 5, 0.01
    got = lrs(L.CosineAnnealingLR(make_opt(), T_max=T, eta_min=eta_min), 10)
    expected = [eta_min + (0.1 - eta_min) * (1 + math.cos(math.pi * e / T)) / 2 for e in range(11)]
    np.testing.assert_allclose(got, expected, rtol=1e-10, atol=1e-14)


def test_lambda_lr_power_schedule_per_group():
    a, b = ag.zeros(1, requires_grad=True), ag.zeros(1, requires_grad=True)
    opt = optim.SGD([{"params": [a]}, {"params": [b], "lr": 1.0}], lr=0.1)
    sched = L.LambdaLR(opt, [lambda t: 1 / (1 + t / 10), lambda t: 0.5 ** t])
    for _ in range(5):
        opt.step()
        sched.step()
    assert sched.get_last_lr() == pytest.approx([0.1 / 1.5, 0.5 ** 5])
    assert [g["lr"] for g in opt.param_groups] == sched.get_last_lr()


def test_linear_lr():
    got = lrs(L.LinearLR(make_opt(), start_factor=0.25, end_factor=1.0, total_iters=4), 7)
    expected = [0.1 * (0.25 + 0.75 * min(e, 4) / 4) for e in range(8)]
    np.testing.assert_allclose(got, expected, rtol=1e-12)


def onecycle_expected(n, max_lr, pct, div, final_div, strategy, three_phase):
    lo, lmin = max_lr / div, max_lr / div / final_div
    f = ((lambda s, e, p: e + (s - e) / 2 * (math.cos(math.pi * p) + 1)) if strategy == "cos"
         else (lambda s, e, p: (e - s) * p + s))
    if three_phase:
        phases = [(pct * n - 1, lo, max_lr), (2 * pct * n - 2, max_lr, lo), (n - 1, lo, lmin)]
    else:
        phases = [(pct * n - 1, lo, max_lr), (n - 1, max_lr, lmin)]
    out = []
    for step in range(n):
        start = 0.0
        for i, (end, a, b) in enumerate(phases):
            if step <= end or i == len(phases) - 1:
                out.append(f(a, b, (step - start) / (end - start)))
                break
            start = end
    return out


@pytest.mark.parametrize("strategy,three_phase", [("cos", False), ("linear", False), ("linear", True), ("cos", True)])
def test_one_cycle(strategy, three_phase):
    opt = make_opt(momentum=0.9)
    sched = L.OneCycleLR(opt, max_lr=1.0, total_steps=20, anneal_strategy=strategy, three_phase=three_phase)
    got = lrs(sched, 19)
    np.testing.assert_allclose(got, onecycle_expected(20, 1.0, 0.3, 25.0, 1e4, strategy, three_phase), rtol=1e-10)
    assert max(got) == pytest.approx(1.0) and got[-1] == pytest.approx(1.0 / 25 / 1e4)
    sched.step()  # step 20 is still allowed (PyTorch checks step_num > total_steps)
    with pytest.raises(ValueError, match="Tried to step 21 times"):
        sched.step()


def test_one_cycle_cycles_momentum_and_adam_beta1():
    opt = make_opt(momentum=0.9)
    sched = L.OneCycleLR(opt, max_lr=1.0, total_steps=10)
    assert opt.param_groups[0]["momentum"] == 0.95  # max_momentum while the lr is lowest
    for _ in range(2):
        opt.step()
        sched.step()
    assert opt.param_groups[0]["momentum"] == pytest.approx(0.85)  # base_momentum at the lr's peak (step 2)
    adam = make_opt(cls=optim.Adam)
    L.OneCycleLR(adam, max_lr=0.01, total_steps=10)
    assert adam.param_groups[0]["betas"] == (0.95, 0.999)
    with pytest.raises(ValueError, match="momentum or beta1"):
        L.OneCycleLR(make_opt(cls=optim.Adagrad), max_lr=0.01, total_steps=10)


def test_reduce_on_plateau_halves_after_patience_with_cooldown():
    opt = make_opt(lr=1.0)
    sched = L.ReduceLROnPlateau(opt, factor=0.5, patience=2, cooldown=1, min_lr=0.2)
    metrics = [5, 4, 4, 4, 4, 4, 4, 4, 3, 3, 3, 3, 3, 3, 3, 3]
    got = lrs(sched, len(metrics), metrics)[1:]
    # bad epochs counted after the last improvement; a reduction on the 3rd bad one; then 1 cooldown epoch
    assert got == [1.0, 1.0, 1.0, 1.0, 0.5, 0.5, 0.5, 0.5, 0.5, 0.5, 0.5, 0.25, 0.25, 0.25, 0.25, 0.2]


def test_reduce_on_plateau_max_mode_abs_threshold():
    opt = make_opt(lr=1.0)
    sched = L.ReduceLROnPlateau(opt, mode="max", threshold_mode="abs", threshold=0.1, patience=0)
    sched.step(0.5)
    sched.step(0.55)  # not better by 0.1: reduce
    assert sched.get_last_lr() == [0.1]
    sched.step(0.7)
    assert sched.get_last_lr() == [0.1] and sched.best == 0.7
    with pytest.raises(ValueError, match="Factor should be < 1.0"):
        L.ReduceLROnPlateau(opt, factor=1.0)
    with pytest.raises(ValueError, match="unknown"):
        L.ReduceLROnPlateau(opt, mode="up")


def test_sequential_lr_warmup_then_decay():
    opt = make_opt(lr=1.0)
    sched = L.SequentialLR(opt, [L.LinearLR(opt, start_factor=0.1, total_iters=4), L.ExponentialLR(opt, gamma=0.5)],
                           milestones=[4])
    got = lrs(sched, 8)
    expected = [0.1 + 0.9 * e / 4 for e in range(4)] + [0.5 ** (e - 4) for e in range(4, 9)]
    np.testing.assert_allclose(got, expected, rtol=1e-12)
    with pytest.raises(ValueError, match="number of milestone"):
        L.SequentialLR(opt, [L.ExponentialLR(opt, 0.5)], milestones=[3])


def test_state_dict_round_trip_resumes_schedule(tmp_path):
    opt = make_opt(lr=1.0)
    sched = L.StepLR(opt, step_size=2, gamma=0.5)
    for _ in range(3):
        opt.step()
        sched.step()
    ag.save(sched.state_dict(), tmp_path / "s.pt")
    opt2 = make_opt(lr=1.0)
    sched2 = L.StepLR(opt2, step_size=7, gamma=0.9)
    sched2.load_state_dict(ag.load(tmp_path / "s.pt"))
    opt2.param_groups[0]["lr"] = opt.param_groups[0]["lr"]
    assert sched2.last_epoch == 3 and sched2.base_lrs == [1.0]
    for _ in range(3):
        for o, s in ((opt, sched), (opt2, sched2)):
            o.step()
            s.step()
    assert sched.get_last_lr() == sched2.get_last_lr() == [0.125]
    lam = L.LambdaLR(make_opt(), lambda t: 0.9 ** t)
    assert lam.state_dict()["lr_lambdas"] == [None]
    seq_opt = make_opt()
    seq = L.SequentialLR(seq_opt, [L.ConstantLR(seq_opt) if hasattr(L, "ConstantLR") else L.ExponentialLR(seq_opt, 1.0),
                                   L.ExponentialLR(seq_opt, 0.5)], milestones=[2])
    assert len(seq.state_dict()["_schedulers"]) == 2


def test_resume_requires_initial_lr():
    with pytest.raises(KeyError, match="initial_lr"):
        L.StepLR(make_opt(), step_size=2, last_epoch=5)


def test_step_with_epoch_uses_closed_form():
    sched = L.ExponentialLR(make_opt(lr=1.0), gamma=0.5)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        sched.step(3)
    assert sched.get_last_lr() == [0.125]


# ---- PyTorch ---------------------------------------------------------------------------------------
SCHEDULES = {
    "step": lambda m, o: m.StepLR(o, 7, gamma=0.5),
    "multistep": lambda m, o: m.MultiStepLR(o, [3, 10, 10, 25], gamma=0.3),
    "exp": lambda m, o: m.ExponentialLR(o, 0.9),
    "cos": lambda m, o: m.CosineAnnealingLR(o, 10, eta_min=0.001),
    "lambda": lambda m, o: m.LambdaLR(o, lambda t: 1 / (1 + t / 5)),
    "linear": lambda m, o: m.LinearLR(o, 0.2, 0.9, 10),
    "onecycle": lambda m, o: m.OneCycleLR(o, [1.0, 0.5], total_steps=41),
    "onecycle3": lambda m, o: m.OneCycleLR(o, 1.0, total_steps=41, anneal_strategy="linear", three_phase=True),
    "sequential": lambda m, o: m.SequentialLR(o, [m.LinearLR(o, 0.1, total_iters=5), m.ExponentialLR(o, 0.9),
                                                  m.CosineAnnealingLR(o, 8)], milestones=[5, 20]),
    "plateau": lambda m, o: m.ReduceLROnPlateau(o, factor=0.5, patience=2, cooldown=1, min_lr=[0.01, 0.0]),
    "plateau_max": lambda m, o: m.ReduceLROnPlateau(o, mode="max", threshold_mode="abs", threshold=0.1, patience=1),
}


@pytest.mark.parametrize("name", list(SCHEDULES))
@pytest.mark.parametrize("opt_name", ["SGD", "Adam"])
def test_matches_torch(name, opt_name):
    torch = pytest.importorskip("torch")
    metric = [1.0] * 5 + [0.9, 0.95, 0.95, 0.95, 0.95, 0.95, 0.8] + [0.8] * 28
    if name == "plateau_max":
        metric = [-m for m in metric]
    rows = []
    for lib, mod in ((ag, optim), (torch, torch.optim)):
        p, q = lib.zeros(3, requires_grad=True), lib.zeros(2, requires_grad=True)
        kw = dict(lr=0.1, momentum=0.9) if opt_name == "SGD" else dict(lr=0.1)
        opt = getattr(mod, opt_name)([{"params": [p]}, {"params": [q], "lr": 0.05}], **kw)
        sched = SCHEDULES[name](mod.lr_scheduler, opt)
        out = []
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            for i in range(40):
                opt.step()
                sched.step(metric[i]) if name.startswith("plateau") else sched.step()
                out.append(list(sched.get_last_lr())
                           + [g.get("momentum", g.get("betas", (0,))[0]) for g in opt.param_groups])
        rows.append(np.array(out))
    np.testing.assert_allclose(rows[0], rows[1], rtol=1e-12, atol=1e-15)
