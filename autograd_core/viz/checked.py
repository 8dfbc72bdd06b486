"""Checked mode: during a real backward, test each op's gradient against float64 finite differences.

    with ag.checked_backward():        # around the forward AND the backward
        loss = model(x).sum()
        loss.backward()                # raises GradientCheckError at the first wrong op

For each node the reverse pass runs, a random float64 direction v is drawn for every input that
needs a gradient, and the directional derivative the backward implies,
    Σ_i sum(grad_input_i · v_i),
is compared with the one the forward implies,
    sum(grad_output · (f(x + εv) − f(x − εv)) / 2ε),
evaluated on float64 copies of the op's inputs (kept during the forward). Meant for users writing
their own `Function`s: it finds the op whose backward disagrees with its forward.
"""
import contextlib
import os
import warnings

from .. import trace as _trace
from ..backend import xp
from ..grad_mode import no_grad
from ..graph import sum_to_shape
from ..tensor import Tensor


class GradientCheckError(RuntimeError):
    """An op's backward disagrees with finite differences of its forward (raised by checked_backward)."""


class CheckReport:
    """What a checked_backward block did: the ops it checked and those it skipped, with why."""

    def __init__(self):
        self.checked = []     # op names, in the order checked
        self.skipped = []     # (op name, reason)

    def __repr__(self):
        return f"<CheckReport: {len(self.checked)} ops checked, {len(self.skipped)} skipped>"


@contextlib.contextmanager
def checked_backward(eps=1e-6, atol=1e-5, rtol=1e-3, seed=0):
    """Check every op of the backward passes run inside against float64 finite differences.

    Wrap it around both the forward and the backward: the forward must run inside so that each op
    keeps copies of its inputs (and its creation site); ops recorded outside are skipped with a
    warning. Raises `GradientCheckError` naming the first op whose analytic and numerical
    directional derivatives differ by more than atol + rtol * |numerical|. Yields a `CheckReport`.
    Slow (three extra forward evaluations per op): for debugging, not training.
    """
    checker = _Checker(eps, atol, rtol, seed, _trace.state.observer)
    with _trace.keep_inputs(), _trace.record_sites(), _trace.observe(checker):
        yield checker.report


class _Checker:
    """The trace observer behind checked_backward."""

    def __init__(self, eps, atol, rtol, seed, forward_to):
        self.eps, self.atol, self.rtol = eps, atol, rtol
        self.rng = xp.random.default_rng(seed)
        self.report = CheckReport()
        self.forward_to = forward_to
        self.warned = False

    # ---- the observer protocol -------------------------------------------------------------
    def reduce(self, node, input_index, grad_shape, input_shape):
        if self.forward_to is not None:
            self.forward_to.reduce(node, input_index, grad_shape, input_shape)

    def accumulate(self, target, output_nr):
        if self.forward_to is not None:
            self.forward_to.accumulate(target, output_nr)

    def leaf(self, tensor, grad):
        if self.forward_to is not None:
            self.forward_to.leaf(tensor, grad)

    def node(self, node, grads, in_grads):
        if self.forward_to is not None:
            self.forward_to.node(node, grads, in_grads)
        reason = self._check(node, grads, in_grads)
        if reason is None:
            self.report.checked.append(node.name())
        else:
            self.report.skipped.append((node.name(), reason))

    # ---- the check ---------------------------------------------------------------------------
    def _check(self, node, grads, in_grads):
        """Check one node; return None when checked, else why it was skipped (raise on a mismatch)."""
        inputs = node._inputs
        if inputs is None:
            if not self.warned:
                self.warned = True
                warnings.warn(f"checked_backward: {node.name()} (and maybe more ops) was recorded outside the "
                              f"`with ag.checked_backward():` block, so its inputs were not kept and it is not "
                              f"checked; run the forward inside the block too", stacklevel=2)
            return "inputs not kept (forward ran outside checked mode)"
        diff = [i for i, e in enumerate(node._edges)
                if e is not None and _is_float_array(inputs[i])]
        if not diff:
            return "no floating-point input needs a gradient"
        if any(getattr(x, "dtype", None) is not None and x.dtype.kind == "c" for x in inputs
               if isinstance(x, (xp.ndarray, xp.generic))):
            return "complex inputs are not checked"
        ups = grads if isinstance(grads, dict) else {0: grads}
        ups = {nr: _array(g).astype(xp.float64) for nr, g in ups.items() if g is not None}

        x64 = [_as_float64(x) for x in inputs]
        dirs = {i: xp.asarray(self.rng.standard_normal(xp.shape(inputs[i]))) for i in diff}

        # the backward's side: Σ_i <grad_input_i, v_i>, each gradient summed back to its input's shape
        parts = {}
        for i in diff:
            g = in_grads[i] if i < len(in_grads) else None
            if g is None:
                parts[i] = (0.0, 0.0)
                continue
            g = _array(g).astype(xp.float64)
            try:
                g = sum_to_shape(g, tuple(node._edges[i][2]))
            except RuntimeError:
                return "the backward returned a gradient of the wrong shape (the engine reports it)"
            terms = g * dirs[i]
            parts[i] = (float(terms.sum()), float(xp.abs(terms).sum()))
        analytic = sum(p[0] for p in parts.values())
        magnitude = sum(p[1] for p in parts.values())

        outs = self._evaluate(node, x64, {})
        if outs is None:
            return "outputs are not floating point"
        if any(o is not None and o.dtype != xp.float64 for o in outs):
            # why: an op that casts down (to float32, float16) rounds even float64 inputs, so a
            # finite difference of its output measures the rounding, not the derivative
            return "the forward rounds to a lower precision even on float64 inputs"
        numeric, lo, hi = self._directional(node, x64, dirs, ups, outs)
        if numeric is None:
            return "outputs are not floating point"
        tol = self._tolerance(numeric, magnitude, in_grads, diff)
        if _agrees(analytic, numeric, lo, hi, tol):
            return None
        # find which inputs disagree, one at a time, to say more than "this op"
        bad = []
        for i in diff:
            num_i, lo_i, hi_i = self._directional(node, x64, {i: dirs[i]}, ups, outs)
            tol_i = self._tolerance(num_i, parts[i][1], in_grads, [i])
            if not _agrees(parts[i][0], num_i, lo_i, hi_i, tol_i):
                bad.append((i, parts[i][0], num_i))
        raise GradientCheckError(self._message(node, analytic, numeric, tol, diff, bad))

    def _tolerance(self, numeric, magnitude, in_grads, idx):
        # why: an analytic gradient computed in float32 carries float32 rounding in every term, so
        # allow that much on top of atol + rtol * |numerical| (a real bug is far bigger than eps32)
        tiny = 0.0
        for i in idx:
            g = in_grads[i] if i < len(in_grads) else None
            if g is not None:
                dt = _array(g).dtype
                if dt.kind == "f":
                    tiny = max(tiny, 16 * float(xp.finfo(dt).eps))
        return self.atol + self.rtol * abs(numeric) + tiny * magnitude

    def _directional(self, node, x64, dirs, ups, outs0):
        """Central, forward and backward differences of <upstream, f> along dirs."""
        eps = self.eps
        plus = self._evaluate(node, x64, {i: eps * v for i, v in dirs.items()})
        minus = self._evaluate(node, x64, {i: -eps * v for i, v in dirs.items()})
        if plus is None or minus is None:
            return None, None, None
        f_plus = _inner(ups, plus)
        f_minus = _inner(ups, minus)
        f_0 = _inner(ups, outs0)
        central = (f_plus - f_minus) / (2 * eps)
        right = (f_plus - f_0) / eps
        left = (f_0 - f_minus) / eps
        return central, min(left, right), max(left, right)

    def _evaluate(self, node, x64, shift):
        """The node's forward on float64 inputs, each input i moved by shift[i]; outputs as float64 arrays."""
        cls = type(node)
        args = [xp.asarray(x + shift[i]) if i in shift else (x.copy() if isinstance(x, xp.ndarray) else x)
                for i, x in enumerate(x64)]
        ctx = object.__new__(cls)
        ctx.needs_input_grad = node.needs_input_grad
        with no_grad(), xp.errstate(all="ignore"):
            if cls._array_forward:
                out = cls.forward(ctx, *args)
            else:
                targs = [Tensor._make(a) if isinstance(a, xp.ndarray) else a for a in args]
                out = cls.forward(ctx, *targs)
        outs = out if isinstance(out, tuple) else (out,)
        result = []
        for o in outs:
            a = _array(o)
            if a.dtype.kind != "f":
                result.append(None)
            else:
                result.append(a)
        if all(r is None for r in result):
            return None
        return result

    def _message(self, node, analytic, numeric, tol, diff, bad):
        site = node._site
        where = (f"created at {_where(site)}: {site[2]}".rstrip() if site is not None
                 else "creation site unknown")
        lines = [f"checked_backward: the backward of {node.name()} disagrees with finite differences of its "
                 f"forward",
                 f"  {where}",
                 f"  analytic  (backward): Σ_i sum(grad_input_i · v_i)         = {analytic:.8g}",
                 f"  numerical (forward):  sum(grad · (f(x+εv) − f(x−εv)) / 2ε) = {numeric:.8g}",
                 f"  difference {abs(analytic - numeric):.3g} > tolerance {tol:.3g} "
                 f"(atol={self.atol:g} + rtol={self.rtol:g} · |numerical|; ε={self.eps:g}, v random)"]
        shapes = ", ".join(f"input {i} {tuple(node._edges[i][2])}" for i in diff)
        lines.append(f"  checked along a random direction for: {shapes}")
        for i, a, n in (bad if len(diff) > 1 else ()):
            lines.append(f"  input {i} alone: analytic {a:.8g}, numerical {n:.8g}")
        lines.append(f"  to look closer: ag.gradcheck({type(node).__name__}.apply, inputs) on float64 inputs")
        return "\n".join(lines)


def _agrees(analytic, numeric, lo, hi, tol):
    """Within tolerance of the central difference, or (at a kink) between the one-sided ones."""
    if not (xp.isfinite(analytic) and xp.isfinite(numeric)):
        return bool(analytic == numeric) or not xp.isfinite(numeric)
    if abs(analytic - numeric) <= tol:
        return True
    # why: at a kink (relu at 0, max with ties, floor at an integer) the central difference is an
    # average of two slopes; a subgradient between the one-sided slopes is a correct answer
    return lo - tol <= analytic <= hi + tol and hi - lo > 10 * tol


def _inner(ups, outs):
    total = 0.0
    for nr, up in ups.items():
        if nr < len(outs) and outs[nr] is not None:
            total += float((up * outs[nr]).sum())
    return total


def _array(x):
    return x._data if isinstance(x, Tensor) else xp.asarray(x)


def _is_float_array(x):
    return isinstance(x, (xp.ndarray, xp.generic)) and x.dtype.kind == "f"


def _as_float64(x):
    if isinstance(x, xp.ndarray) and x.dtype.kind == "f":
        return x.astype(xp.float64)
    if isinstance(x, xp.generic) and x.dtype.kind == "f":
        return xp.asarray(x, dtype=xp.float64)
    return x


def _where(site):
    fname = site[0]
    try:
        rel = os.path.relpath(fname)
        if not rel.startswith(".."):
            fname = rel
    except ValueError:
        pass
    return f"{fname}:{site[1]}"


__all__ = ["checked_backward", "GradientCheckError", "CheckReport"]
