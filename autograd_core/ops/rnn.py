"""Fused recurrent primitives: the LSTM and GRU cells, and whole-sequence LSTM, GRU and Elman RNN layers.

Gate layouts follow PyTorch: an LSTM's gates (..., 4H) are i, f, g, o; a GRU's (..., 3H) are r, z, n.

The sequence primitives run one layer in one direction over all time steps with no graph node per
step: the input projections of every step come from ONE matmul before the loop (passed in as
`xproj` to LSTMSequence, GRUSequence and RNNSequence), each step is one (H -> G) matmul plus a few
elementwise NumPy ops, and backward is backprop through time in one loop, after which each weight's
gradient comes out of ONE matmul over all steps.

Gradients of gradients (create_graph): saved activations are constants of an ordinary backward; when
backward runs on Tensors, each backward recomputes the step values from its saved inputs and outputs
with operators and `xp.*` only (the `_graph` paths), so that its result is itself differentiable.
"""
from ..backend import xp
from ..function import Function
from ..tensor import Tensor  # why: tensor.py does not import this module, so no import cycle


def _sigmoid(x):
    """1 / (1 + exp(-x)) on an array or a Tensor (new result)."""
    return 1 / (1 + xp.exp(-x))


def _at(a, t, batch_first):
    """Step t of a sequence laid out (T, B, ...) or, batch_first, (B, T, ...)."""
    return a[:, t] if batch_first else a[t]


def _order(T, reverse):
    return range(T - 1, -1, -1) if reverse else range(T)


def _is_graph(*xs):
    """True when backward runs on Tensors (create_graph): take the differentiable recomputation path."""
    return any(isinstance(x, Tensor) for x in xs)


def _stack_time(steps, order, batch_first):
    """The per-step results (listed in loop order) stacked back into time order along the time axis."""
    by_time = [None] * len(steps)
    for t, s in zip(order, steps):
        by_time[t] = s
    return xp.stack(by_time, axis=1 if batch_first else 0)


def _shifted_states(out, h0, reverse, batch_first):
    """The state each step started from, (T, B, H) or (B, T, H): h0 then out[:-1] (or out[1:] then h0 when reverse)."""
    axis = 1 if batch_first else 0
    first = xp.expand_dims(h0, axis)
    rest = out[:, :-1] if batch_first else out[:-1]
    if reverse:
        rest = out[:, 1:] if batch_first else out[1:]
        return xp.concatenate([rest, first], axis=axis)
    return xp.concatenate([first, rest], axis=axis)


def _w_grad(d, states):
    """sum over all steps and batch rows of d^T @ states: (G, H) from (.., G) and (.., H), one matmul."""
    return xp.matmul(xp.swapaxes(d.reshape((-1, d.shape[-1])), 0, 1), states.reshape((-1, states.shape[-1])))


# ---- LSTM -----------------------------------------------------------------------------------------

def _lstm_acts(gates, H):
    """(i, f, g, o) from gate pre-activations (..., 4H): new Tensors or arrays (the graph path)."""
    return (_sigmoid(gates[..., :H]), _sigmoid(gates[..., H:2 * H]), xp.tanh(gates[..., 2 * H:3 * H]),
            _sigmoid(gates[..., 3 * H:]))


def _lstm_acts_(a, H):
    """The activations of gate pre-activations a (4H, B) (gate-major) in place; returns the views (i, f, g, o).

    why: sigmoid(x) = (1 + tanh(x / 2)) / 2, so one tanh over all four gates (the sigmoid rows halved
    first) and two affine fixes replace two four-pass sigmoids and a tanh: 6 NumPy calls, not 9.
    """
    half = a.dtype.type(0.5)
    a *= _gate_scale(H, a.dtype)
    xp.tanh(a, out=a)
    for rows in (a[:2 * H], a[3 * H:]):
        rows *= half
        rows += half
    return a[:H], a[H:2 * H], a[2 * H:3 * H], a[3 * H:]


_GATE_SCALES = {}


def _gate_scale(H, dtype):
    """A (4H, 1) column of 0.5 for the sigmoid gates (i, f, o) and 1 for g, cached per (H, dtype)."""
    col = _GATE_SCALES.get((H, dtype))
    if col is None:
        col = xp.full((4 * H, 1), 0.5, dtype=dtype)
        col[2 * H:3 * H] = 1
        _GATE_SCALES[(H, dtype)] = col
    return col


def _lstm_step_grads(i, f, g, o, tc, c_prev, grad_h, grad_c):
    """(d_i, d_f, d_g, d_o) pre-activation gradients and grad_c_prev of one LSTM step (arrays or Tensors)."""
    dc = grad_c + grad_h * o * (1 - tc * tc)
    return (dc * g * i * (1 - i), dc * c_prev * f * (1 - f), dc * i * (1 - g * g), grad_h * tc * o * (1 - o)), dc * f


def _lstm_step_grads_(i, f, g, o, tc, c_prev, grad_h, grad_c, d):
    """_lstm_step_grads on arrays, writing the gate gradients into the rows of d (4H, B); returns grad_c_prev."""
    H = i.shape[0]
    dc = 1 - tc * tc
    dc *= grad_h
    dc *= o
    dc += grad_c
    tmp = 1 - i
    tmp *= i
    tmp *= g
    xp.multiply(tmp, dc, out=d[:H])
    xp.subtract(1, f, out=tmp)
    tmp *= f
    tmp *= c_prev
    xp.multiply(tmp, dc, out=d[H:2 * H])
    xp.multiply(g, g, out=tmp)
    xp.subtract(1, tmp, out=tmp)
    tmp *= i
    xp.multiply(tmp, dc, out=d[2 * H:3 * H])
    xp.subtract(1, o, out=tmp)
    tmp *= o
    tmp *= tc
    xp.multiply(tmp, grad_h, out=d[3 * H:])
    dc *= f
    return dc


class LSTMCell(Function):
    """One LSTM step from its gate pre-activations: gates (B, 4H) = x W_ih^T + b_ih + h W_hh^T + b_hh
    in the order i, f, g, o, and c_prev (B, H) -> (h, c), both (B, H).

    c = sigmoid(f) * c_prev + sigmoid(i) * tanh(g);  h = sigmoid(o) * tanh(c).
    why: speed -- one node instead of about fifteen (four slices, four activations, five products and
    sums) on the path of every LSTM step.
    """
    formula = ("dc = grad_c + grad_h o (1 - tanh(c)^2); grad_gates = [dc g i(1-i), dc c_prev f(1-f), "
               "dc i (1-g^2), grad_h tanh(c) o(1-o)]; grad_c_prev = dc f")
    _array_forward = True

    @staticmethod
    def forward(ctx, gates, c_prev):
        H = c_prev.shape[-1]
        if gates.shape[-1] != 4 * H or gates.shape[:-1] != c_prev.shape[:-1]:
            raise ValueError(f"lstm_cell: gates of shape {gates.shape} need shape (..., 4*{H}) to match c_prev "
                             f"of shape {c_prev.shape}")
        a = xp.array(gates, copy=True).reshape((-1, 4 * H))
        i, f, g, o = (x.T for x in _lstm_acts_(a.T, H))
        c = f * c_prev.reshape((-1, H))
        c += i * g
        tc = xp.tanh(c)
        h = o * tc
        ctx.save_for_backward(gates, c_prev, a, tc)
        return h.reshape(c_prev.shape), c.reshape(c_prev.shape)

    @staticmethod
    def backward(ctx, grad_h, grad_c):
        gates, c_prev, a, tc = ctx.saved_tensors
        H = c_prev.shape[-1]
        if _is_graph(gates, c_prev, grad_h, grad_c):
            i, f, g, o = _lstm_acts(gates, H)
            tc = xp.tanh(f * c_prev + i * g)
        else:
            shape = c_prev.shape
            i, f, g, o = (x.reshape(shape) for x in (a[:, :H], a[:, H:2 * H], a[:, 2 * H:3 * H], a[:, 3 * H:]))
            tc = tc.reshape(shape)
        parts, grad_c_prev = _lstm_step_grads(i, f, g, o, tc, c_prev, grad_h, grad_c)
        return xp.concatenate(parts, axis=-1), grad_c_prev


class LSTMSequence(Function):
    """A whole LSTM layer in one direction from its input projections: (xproj, w_hh, h0, c0) -> (output, c_n).

    xproj: (T, B, 4H) (or (B, T, 4H) with batch_first) = x W_ih^T + b_ih + b_hh for every step, made
    by the caller in ONE matmul before the loop (nn.LSTM uses F.linear, which also projects an
    embedding table instead of the looked-up sequence when that is cheaper); w_hh: (4H, H); h0, c0:
    (B, H). output: every step's h, laid out like xproj; c_n: the last cell state (h_n is output's
    last step). reverse runs the steps from T-1 down to 0 (the backward direction of a bidirectional
    layer; output[t] stays at position t).
    why: speed -- each step is one matmul plus in-place elementwise ops, with no graph node per step;
    backward is one loop and W_hh's gradient is one matmul over all steps. Everything is kept
    gate-major ((4H, B) per step): OpenBLAS computes W_hh (4H, H) @ h^T (H, B) about 1.6x faster
    than h (B, H) @ W_hh^T for B = 32, each gate is a block of rows, and no step needs a transpose.
    """
    formula = ("per step, last to first: d[t] = LSTMCell backward of (grad_out[t] + d[t+1] @ w_hh); "
               "grad_xproj = d; grad_w_hh = sum_t d[t].T @ h[t-1]")
    _array_forward = True

    @staticmethod
    def forward(ctx, xproj, w_hh, h0, c0, batch_first=False, reverse=False):
        T, B = (xproj.shape[1], xproj.shape[0]) if batch_first else xproj.shape[:2]
        H = h0.shape[1]
        dt = xproj.dtype
        ctx.batch_first, ctx.reverse = batch_first, reverse
        # why: each step's activations fill a contiguous (4H, B) block: NumPy's elementwise loops on
        # strided rows of B floats run about 3x slower (and a step's block transposes in cache)
        acts = xp.empty((T, 4 * H, B), dt)
        prev = xp.empty((H, T, B), dt)       # the h each step started from (for W_hh's gradient)
        cs = xp.empty((T, H, B), dt)
        tcs = xp.empty((T, H, B), dt)
        out = xp.empty((B, T, H) if batch_first else (T, B, H), dt)
        h, c = h0.T, c0.T
        for t in _order(T, reverse):
            prev[:, t] = h
            a = acts[t]
            xp.matmul(w_hh, h, out=a)
            a += _at(xproj, t, batch_first).T
            i, f, g, o = _lstm_acts_(a, H)
            c_t = cs[t]
            xp.multiply(f, c, out=c_t)
            c_t += i * g
            xp.tanh(c_t, out=tcs[t])
            h = o * tcs[t]
            _at(out, t, batch_first)[...] = h.T
            c = c_t
        ctx.save_for_backward(xproj, w_hh, h0, c0, out, acts, prev, cs, tcs)
        return out, xp.ascontiguousarray(c.T)

    @staticmethod
    def backward(ctx, grad_out, grad_cn):
        xproj, w_hh, h0, c0, out, acts, prev, cs, tcs = ctx.saved_tensors
        bf, rev = ctx.batch_first, ctx.reverse
        need_x, need_wh, need_h0, need_c0 = ctx.needs_input_grad[:4]
        if _is_graph(xproj, w_hh, h0, c0, out, grad_out, grad_cn):
            d, grad_h0, grad_c0, grad_wh, _, _ = _lstm_sequence_graph(xproj, h0, c0, w_hh, out, grad_out, grad_cn,
                                                                      bf, rev)
            return d, grad_wh, grad_h0, grad_c0, None, None
        T, H = acts.shape[0], h0.shape[1]
        B = acts.shape[2]
        d = xp.empty((4 * H, T, B), acts.dtype)   # the gates' gradients, gate-major like acts
        grad_h = None                             # (H, B): what step t's h receives from step t+1
        grad_c = grad_cn.T
        c0_t = c0.T
        order = list(_order(T, rev))
        for k in range(T - 1, -1, -1):
            t = order[k]
            a = acts[t]
            gh = _at(grad_out, t, bf).T
            if grad_h is not None:
                gh = gh + grad_h
            c_prev = c0_t if k == 0 else cs[order[k - 1]]
            d_t = d[:, t]
            grad_c = _lstm_step_grads_(a[:H], a[H:2 * H], a[2 * H:3 * H], a[3 * H:], tcs[t], c_prev, gh, grad_c, d_t)
            if k or need_h0:
                grad_h = xp.matmul(w_hh.T, d_t)
        d2 = d.reshape((4 * H, T * B))
        grad_x = None
        if need_x:
            # a transposed view of d (no copy): the projection's backward matmuls take it as it is
            grad_x = d.transpose(2, 1, 0) if bf else d.transpose(1, 2, 0)
        return (grad_x,
                xp.matmul(d2, prev.reshape((H, T * B)).T) if need_wh else None,
                xp.ascontiguousarray(grad_h.T) if need_h0 else None,
                xp.ascontiguousarray(grad_c.T) if need_c0 else None, None, None)


def _lstm_sequence_graph(xproj, h0, c0, w_hh, out, grad_out, grad_cn, bf, rev):
    """LSTMSequence's backward, as differentiable operations (create_graph).

    Recomputes every step's gates from xproj and the saved outputs, then runs BPTT on Tensors; returns
    (grad_xproj, grad_h0, grad_c0, grad_w_hh, None, None).
    """
    T, H = xproj.shape[1 if bf else 0], h0.shape[-1]
    order = list(_order(T, rev))
    cache, h, c = [], h0, c0
    for t in order:
        i, f, g, o = _lstm_acts(_at(xproj, t, bf) + xp.matmul(h, xp.swapaxes(w_hh, 0, 1)), H)
        c_prev, c = c, f * c + i * g
        cache.append((i, f, g, o, xp.tanh(c), c_prev))
        h = _at(out, t, bf)
    ds, grad_h, grad_c = [], 0, grad_cn
    for k in range(T - 1, -1, -1):
        parts, grad_c = _lstm_step_grads(*cache[k], _at(grad_out, order[k], bf) + grad_h, grad_c)
        d = xp.concatenate(parts, axis=-1)
        grad_h = xp.matmul(d, w_hh)
        ds.append(d)
    d = _stack_time(ds[::-1], order, bf)
    return d, grad_h, grad_c, _w_grad(d, _shifted_states(out, h0, rev, bf)), None, None


# ---- GRU ------------------------------------------------------------------------------------------

def _gru_step(gx, gh, h_prev, H):
    """(h, cache) of one GRU step from gx = x W_ih^T + b_ih and gh = h W_hh^T + b_hh, both (B, 3H) r, z, n."""
    r = _sigmoid(gx[..., :H] + gh[..., :H])
    z = _sigmoid(gx[..., H:2 * H] + gh[..., H:2 * H])
    hn = gh[..., 2 * H:]
    n = xp.tanh(gx[..., 2 * H:] + r * hn)
    return n + z * (h_prev - n), (r, z, n, hn, h_prev)


def _gru_step_grads(r, z, n, hn, h_prev, grad_h):
    """(grad_gx parts, grad_gh parts, direct grad_h_prev) of one GRU step (arrays or Tensors)."""
    dn = grad_h * (1 - z) * (1 - n * n)
    dr = dn * hn * r * (1 - r)
    dz = grad_h * (h_prev - n) * z * (1 - z)
    return (dr, dz, dn), (dr, dz, dn * r), grad_h * z


class GRUCell(Function):
    """One GRU step: gx = x W_ih^T + b_ih, gh = h W_hh^T + b_hh (both (B, 3H), gates r, z, n) and
    h_prev (B, H) -> h (B, H), as PyTorch: r = sigmoid(gx_r + gh_r), z = sigmoid(gx_z + gh_z),
    n = tanh(gx_n + r * gh_n), h = (1 - z) * n + z * h_prev.

    why: speed -- one node instead of about fourteen on the path of every GRU step.
    """
    formula = ("dn = grad (1-z)(1-n^2); dr = dn gh_n r(1-r); dz = grad (h_prev-n) z(1-z); "
               "grad_gx = [dr, dz, dn]; grad_gh = [dr, dz, dn r]; grad_h_prev = grad z")
    _array_forward = True

    @staticmethod
    def forward(ctx, gx, gh, h_prev):
        H = h_prev.shape[-1]
        if gx.shape[-1] != 3 * H or gh.shape != gx.shape or gx.shape[:-1] != h_prev.shape[:-1]:
            raise ValueError(f"gru_cell: gx {gx.shape} and gh {gh.shape} need shape (..., 3*{H}) to match h_prev "
                             f"of shape {h_prev.shape}")
        h, cache = _gru_step(gx, gh, h_prev, H)
        ctx.save_for_backward(gx, gh, h_prev, *cache[:3])
        return h

    @staticmethod
    def backward(ctx, grad):
        gx, gh, h_prev, r, z, n = ctx.saved_tensors
        H = h_prev.shape[-1]
        if _is_graph(gx, gh, h_prev, grad):
            _, (r, z, n, _, _) = _gru_step(gx, gh, h_prev, H)
        dx, dh, grad_h_prev = _gru_step_grads(r, z, n, gh[..., 2 * H:], h_prev, grad)
        return xp.concatenate(dx, axis=-1), xp.concatenate(dh, axis=-1), grad_h_prev


class GRUSequence(Function):
    """A whole GRU layer in one direction: (xproj, h0, w_hh, b_hh) -> output (every step's h).

    xproj: (T, B, 3H) (or (B, T, 3H) with batch_first) = x W_ih^T + b_ih for every step; h0: (B, H);
    w_hh: (3H, H); b_hh: (3H,) or None (kept apart from b_ih: r multiplies W_hn h + b_hn).
    reverse runs the steps from T-1 down to 0.
    why: speed -- no graph node per step, and W_hh's gradient in one matmul over all steps.
    """
    formula = ("per step, last to first: GRUCell backward of (grad_out[t] + from step t+1); grad_xproj = grad_gx; "
               "grad_w_hh = sum_t grad_gh[t].T @ h[t-1]; grad_b_hh = sum grad_gh")
    _array_forward = True

    @staticmethod
    def forward(ctx, xproj, h0, w_hh, b_hh, batch_first=False, reverse=False):
        T = xproj.shape[1 if batch_first else 0]
        B, H = h0.shape
        ctx.batch_first, ctx.reverse = batch_first, reverse
        out = xp.empty((B, T, H) if batch_first else (T, B, H), xproj.dtype)
        cache = [None] * T
        h, w_t = h0, w_hh.T
        for t in _order(T, reverse):
            gh = xp.matmul(h, w_t)
            if b_hh is not None:
                gh += b_hh
            h_new, cache[t] = _gru_step(_at(xproj, t, batch_first), gh, h, H)
            h = _at(out, t, batch_first)
            h[...] = h_new
        ctx.cache = [c[:4] for c in cache]  # r, z, n, gh_n: constants of an ordinary backward
        ctx.save_for_backward(xproj, h0, w_hh, b_hh, out)
        return out

    @staticmethod
    def backward(ctx, grad_out):
        xproj, h0, w_hh, b_hh, out = ctx.saved_tensors
        bf, rev = ctx.batch_first, ctx.reverse
        T, H = xproj.shape[1 if bf else 0], h0.shape[-1]
        order = list(_order(T, rev))
        graph = _is_graph(xproj, h0, w_hh, b_hh, out, grad_out)
        if graph:
            cache, h = {}, h0
            for t in order:
                gh = xp.matmul(h, xp.swapaxes(w_hh, 0, 1))
                _, cache[t] = _gru_step(_at(xproj, t, bf), gh if b_hh is None else gh + b_hh, h, H)
                h = _at(out, t, bf)
            dxs, dhs = [], []
        else:
            cache = ctx.cache
            dx_all = xp.empty(xproj.shape, xproj.dtype)
            dh_all = xp.empty(xproj.shape, xproj.dtype)
        grad_h = 0
        for k in range(T - 1, -1, -1):
            t = order[k]
            h_prev = h0 if k == 0 else _at(out, order[k - 1], bf)
            dx_parts, dh_parts, direct = _gru_step_grads(*cache[t][:4], h_prev, _at(grad_out, t, bf) + grad_h)
            if graph:
                dh = xp.concatenate(dh_parts, axis=-1)
                dxs.append(xp.concatenate(dx_parts, axis=-1))
                dhs.append(dh)
            else:
                xp.concatenate(dx_parts, axis=-1, out=_at(dx_all, t, bf))
                dh = _at(dh_all, t, bf)
                xp.concatenate(dh_parts, axis=-1, out=dh)
            grad_h = direct + xp.matmul(dh, w_hh)
        if graph:
            dx_all, dh_all = _stack_time(dxs[::-1], order, bf), _stack_time(dhs[::-1], order, bf)
        need_x, need_h0, need_w, need_b = ctx.needs_input_grad[:4]
        grad_w = _w_grad(dh_all, _shifted_states(out, h0, rev, bf)) if need_w else None
        grad_b = dh_all.reshape((-1, 3 * H)).sum(axis=0) if need_b else None
        return dx_all if need_x else None, grad_h if need_h0 else None, grad_w, grad_b, None, None


# ---- Elman RNN ------------------------------------------------------------------------------------

class RNNSequence(Function):
    """A whole Elman RNN layer in one direction: (xproj, h0, w_hh) -> output, h_t = act(xproj[t] + h_{t-1} W_hh^T).

    xproj: (T, B, H) (or (B, T, H) with batch_first) = x W_ih^T + b_ih + b_hh; h0: (B, H); w_hh: (H, H);
    nonlinearity 'tanh' or 'relu'; reverse runs the steps from T-1 down to 0.
    why: speed -- no graph node per step, and W_hh's gradient in one matmul over all steps.
    """
    formula = ("per step, last to first: d[t] = (grad_out[t] + d[t+1] @ w_hh) * act'(h[t]); grad_xproj = d; "
               "grad_w_hh = sum_t d[t].T @ h[t-1]")
    _array_forward = True

    @staticmethod
    def forward(ctx, xproj, h0, w_hh, nonlinearity="tanh", batch_first=False, reverse=False):
        if nonlinearity not in ("tanh", "relu"):
            raise ValueError(f"rnn: unknown nonlinearity {nonlinearity!r}; expected 'tanh' or 'relu'")
        T = xproj.shape[1 if batch_first else 0]
        ctx.nonlinearity, ctx.batch_first, ctx.reverse = nonlinearity, batch_first, reverse
        out = xp.empty(xproj.shape, xproj.dtype)
        h, w_t = h0, w_hh.T
        for t in _order(T, reverse):
            nxt = _at(out, t, batch_first)
            xp.matmul(h, w_t, out=nxt)
            nxt += _at(xproj, t, batch_first)
            if nonlinearity == "tanh":
                xp.tanh(nxt, out=nxt)
            else:
                xp.maximum(nxt, 0, out=nxt)
            h = nxt
        ctx.save_for_backward(xproj, h0, w_hh, out)
        return out

    @staticmethod
    def backward(ctx, grad_out):
        xproj, h0, w_hh, out = ctx.saved_tensors
        bf, rev = ctx.batch_first, ctx.reverse
        T = xproj.shape[1 if bf else 0]
        order = list(_order(T, rev))
        # why: the local derivative is read off the output (1 - h^2, or h > 0), which under create_graph is
        # this node's own output Tensor, so differentiating it again flows back through this op
        if ctx.nonlinearity == "tanh":
            slope = 1 - out * out
        else:
            slope = (out._data if isinstance(out, Tensor) else out) > 0
        graph = _is_graph(xproj, h0, w_hh, out, grad_out)
        ds = [] if graph else None
        d_all = None if graph else xp.empty(xproj.shape, xproj.dtype)
        grad_h = 0
        for k in range(T - 1, -1, -1):
            t = order[k]
            if graph:
                d = (_at(grad_out, t, bf) + grad_h) * _at(slope, t, bf)
                ds.append(d)
            else:
                d = _at(d_all, t, bf)
                xp.multiply(_at(grad_out, t, bf) + grad_h, _at(slope, t, bf), out=d)
            grad_h = xp.matmul(d, w_hh)
        if graph:
            d_all = _stack_time(ds[::-1], order, bf)
        need_x, need_h0, need_w = ctx.needs_input_grad[:3]
        grad_w = _w_grad(d_all, _shifted_states(out, h0, rev, bf)) if need_w else None
        return d_all if need_x else None, grad_h if need_h0 else None, grad_w, None, None, None
