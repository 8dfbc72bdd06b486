"""Step-by-step NumPy references of the recurrent equations (PyTorch's gate layouts), for the tests."""
import numpy as np


def sigmoid(x):
    return 1 / (1 + np.exp(-x))


def lstm_cell(gates, c_prev):
    """(h, c) from gate pre-activations (B, 4H) in the order i, f, g, o."""
    H = c_prev.shape[-1]
    i, f, g, o = (gates[..., k * H:(k + 1) * H] for k in range(4))
    c = sigmoid(f) * c_prev + sigmoid(i) * np.tanh(g)
    return sigmoid(o) * np.tanh(c), c


def gru_cell(gx, gh, h_prev):
    """h from gx = x W_ih^T + b_ih and gh = h W_hh^T + b_hh (B, 3H) in the order r, z, n."""
    H = h_prev.shape[-1]
    r = sigmoid(gx[..., :H] + gh[..., :H])
    z = sigmoid(gx[..., H:2 * H] + gh[..., H:2 * H])
    n = np.tanh(gx[..., 2 * H:] + r * gh[..., 2 * H:])
    return (1 - z) * n + z * h_prev


def _steps(T, reverse):
    return range(T - 1, -1, -1) if reverse else range(T)


def _time_major(x, batch_first):
    return np.swapaxes(x, 0, 1) if batch_first else x


def lstm_layer(x, w_ih, w_hh, bias, h0, c0, batch_first=False, reverse=False):
    """(output, c_n) of one LSTM layer and direction, one step at a time."""
    xs = _time_major(x, batch_first)
    out = np.zeros(xs.shape[:2] + (h0.shape[-1],))
    h, c = h0, c0
    for t in _steps(xs.shape[0], reverse):
        gates = xs[t] @ w_ih.T + h @ w_hh.T + (0 if bias is None else bias)
        h, c = lstm_cell(gates, c)
        out[t] = h
    return _time_major(out, batch_first), c


def gru_layer(xproj, h0, w_hh, b_hh, batch_first=False, reverse=False):
    """Output of one GRU layer and direction from the input projections (x W_ih^T + b_ih)."""
    xs = _time_major(xproj, batch_first)
    out = np.zeros(xs.shape[:2] + (h0.shape[-1],))
    h = h0
    for t in _steps(xs.shape[0], reverse):
        h = gru_cell(xs[t], h @ w_hh.T + (0 if b_hh is None else b_hh), h)
        out[t] = h
    return _time_major(out, batch_first)


def rnn_layer(xproj, h0, w_hh, nonlinearity="tanh", batch_first=False, reverse=False):
    """Output of one Elman layer and direction from the input projections (x W_ih^T + b_ih + b_hh)."""
    act = np.tanh if nonlinearity == "tanh" else (lambda v: np.maximum(v, 0))
    xs = _time_major(xproj, batch_first)
    out = np.zeros(xs.shape)
    h = h0
    for t in _steps(xs.shape[0], reverse):
        h = act(xs[t] + h @ w_hh.T)
        out[t] = h
    return _time_major(out, batch_first)


def recurrent(mode, params, x, num_layers, bidirectional, batch_first=False, h0=None, c0=None):
    """(output, h_n[, c_n]) of a whole nn.RNN/LSTM/GRU from its state_dict as NumPy arrays (no dropout).

    Every step is written out from the equations: x_t, h_{t-1} -> gates -> h_t (no fused ops).
    """
    xs = _time_major(x, batch_first)
    T, B = xs.shape[:2]
    D = 2 if bidirectional else 1
    H = params["weight_hh_l0"].shape[1]
    h_n, c_n = [], []
    layer_in = xs
    for layer in range(num_layers):
        outs = []
        for d in range(D):
            sfx = f"_l{layer}" + ("_reverse" if d else "")
            w_ih, w_hh = params["weight_ih" + sfx], params["weight_hh" + sfx]
            b_ih, b_hh = params.get("bias_ih" + sfx, 0), params.get("bias_hh" + sfx, 0)
            idx = layer * D + d
            h = np.zeros((B, H)) if h0 is None else h0[idx]
            c = np.zeros((B, H)) if c0 is None else c0[idx]
            out = np.zeros((T, B, H))
            for t in _steps(T, d == 1):
                xt = layer_in[t]
                if mode == "LSTM":
                    h, c = lstm_cell(xt @ w_ih.T + b_ih + h @ w_hh.T + b_hh, c)
                elif mode == "GRU":
                    h = gru_cell(xt @ w_ih.T + b_ih, h @ w_hh.T + b_hh, h)
                else:
                    pre = xt @ w_ih.T + b_ih + h @ w_hh.T + b_hh
                    h = np.tanh(pre) if mode == "RNN_TANH" else np.maximum(pre, 0)
                out[t] = h
            h_n.append(h)
            c_n.append(c)
            outs.append(out)
        layer_in = np.concatenate(outs, axis=-1)
    output = _time_major(layer_in, batch_first)
    if mode == "LSTM":
        return output, np.stack(h_n), np.stack(c_n)
    return output, np.stack(h_n)
