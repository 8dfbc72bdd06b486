"""Numerical gradient checks: central differences (in float64) against the analytic gradient."""
import numpy as _np

from . import graph as _graph
from .backend import xp
from .tensor import Tensor


class GradcheckError(RuntimeError):
    """Raised by gradcheck / gradgradcheck when analytic and numerical gradients disagree."""


def _as_tuple(x):
    return tuple(x) if isinstance(x, (tuple, list)) else (x,)


def _differentiable_outputs(fn, inputs):
    outs = _as_tuple(fn(*inputs))
    return [o for o in outs if isinstance(o, Tensor) and o.dtype.kind == "f"]


def _numerical_jacobian(fn, inputs, wrt, eps):
    """J[k][out_elem, in_elem] for each checked input k, by central differences."""
    base = [o._data.copy() for o in _differentiable_outputs(fn, inputs)]
    jac = []
    for k in wrt:
        x = inputs[k]._data
        cols = _np.zeros((builtins_sum(b.size for b in base), x.size))
        flat = x.reshape(-1) if x.flags.c_contiguous else None
        if flat is None:
            raise GradcheckError(f"gradcheck: input {k} must be C-contiguous")
        for i in range(x.size):
            orig = flat[i]
            flat[i] = orig + eps
            plus = [o._data.astype(_np.float64).ravel() for o in _differentiable_outputs(fn, inputs)]
            flat[i] = orig - eps
            minus = [o._data.astype(_np.float64).ravel() for o in _differentiable_outputs(fn, inputs)]
            flat[i] = orig
            cols[:, i] = _np.concatenate([(p - m) / (2 * eps) for p, m in zip(plus, minus)]) if plus else 0
        jac.append(cols)
    return jac, base


def builtins_sum(it):
    """sum() without the module-level name clash with ag.sum."""
    total = 0
    for v in it:
        total += v
    return total


def _analytic_jacobian(fn, inputs, wrt):
    """J[k][out_elem, in_elem] from one vector-Jacobian product per output element."""
    outs = _differentiable_outputs(fn, inputs)
    sizes = [o._data.size for o in outs]
    jac = [_np.zeros((builtins_sum(sizes), inputs[k]._data.size)) for k in wrt]
    row = 0
    targets = [inputs[k] for k in wrt]
    for o in outs:
        for j in range(o._data.size):
            if o.requires_grad:
                seed = xp.zeros(o.shape, o.dtype)
                seed.reshape(-1)[j] = 1
                grads = _graph.grad(o, targets, grad_outputs=Tensor._make(seed), retain_graph=True, allow_unused=True)
                for col, g in enumerate(grads):
                    if g is not None:
                        jac[col][row] = g._data.astype(_np.float64).ravel()
            row += 1
    return jac


def gradcheck(fn, inputs, eps=1e-6, atol=1e-5, rtol=1e-3, raise_exception=True, **kwargs):
    """Compare fn's analytic gradients with central differences for every input that requires grad."""
    inputs = _as_tuple(inputs)
    wrt = [i for i, t in enumerate(inputs) if isinstance(t, Tensor) and t.requires_grad]
    if not wrt:
        raise ValueError("gradcheck: no input requires grad; create the inputs with requires_grad=True")
    for i in wrt:
        if inputs[i].dtype != _np.float64:
            raise ValueError(f"gradcheck: input {i} is {inputs[i].dtype}; use float64 inputs (.double()) so "
                             f"central differences are accurate")
    analytic = _analytic_jacobian(fn, inputs, wrt)
    numeric, _ = _numerical_jacobian(fn, inputs, wrt, eps)
    for col, k in enumerate(wrt):
        a, n = analytic[col], numeric[col]
        bad = _np.abs(a - n) > atol + rtol * _np.abs(n)
        if bad.any():
            r, c = map(int, _np.argwhere(bad)[0])
            elem = _np.unravel_index(c, inputs[k].shape) if inputs[k].ndim else ()
            msg = (f"gradcheck: Jacobian mismatch for input {k} (shape {inputs[k].shape}) at element "
                   f"{tuple(int(e) for e in elem)}, output element {r}: analytic {float(a[r, c])!r}, "
                   f"numerical {float(n[r, c])!r} (atol={atol}, rtol={rtol})")
            if raise_exception:
                raise GradcheckError(msg)
            return False
    return True


def gradgradcheck(fn, inputs, grad_outputs=None, eps=1e-6, atol=1e-5, rtol=1e-3, raise_exception=True,
                  gen_non_contig_grad_outputs=False, seed=0, **kwargs):
    """Check second derivatives: gradcheck of the map (inputs, v) -> vJ computed with create_graph=True."""
    inputs = _as_tuple(inputs)
    wrt = [i for i, t in enumerate(inputs) if isinstance(t, Tensor) and t.requires_grad]
    outs = _differentiable_outputs(fn, inputs)
    if grad_outputs is None:
        rng = _np.random.default_rng(seed)
        grad_outputs = [Tensor(rng.standard_normal(o.shape), dtype=_np.float64, requires_grad=True) for o in outs]
    grad_outputs = list(_as_tuple(grad_outputs))
    n_in = len(inputs)

    def first_derivative(*args):
        xs, vs = args[:n_in], args[n_in:]
        ys = [o for o in _differentiable_outputs(fn, xs) if o.requires_grad]
        vs = [v for o, v in zip(_differentiable_outputs(fn, xs), vs) if o.requires_grad]
        targets = [xs[k] for k in wrt]
        if not ys:
            return tuple(Tensor._make(xp.zeros(t.shape, t.dtype)) for t in targets)
        grads = _graph.grad(ys, targets, grad_outputs=vs, create_graph=True, allow_unused=True)
        return tuple(g if g is not None else Tensor._make(xp.zeros(t.shape, t.dtype)) for g, t in zip(grads, targets))

    return gradcheck(first_derivative, tuple(inputs) + tuple(grad_outputs), eps=eps, atol=atol, rtol=rtol,
                     raise_exception=raise_exception)
