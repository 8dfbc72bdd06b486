"""Recurrent layers: RNN (tanh/relu), LSTM and GRU over whole sequences, and their one-step cells.

Parameter names, shapes, gate order and default initialisation are PyTorch's, so a state_dict moves
between the two libraries unchanged. Each layer and direction computes the input projections of all
time steps in ONE matmul before the time loop; the loop itself is one fused primitive
(`autograd_core.ops.rnn.LSTMSequence`, `GRUSequence`, `RNNSequence`).
"""
import math
import numbers
import warnings

import autograd_core as ag
from autograd_core.dtypes import check_device
from autograd_core.ops import rnn as _rnn

from . import functional as F
from . import init
from .module import Module, Parameter

_GATES = {"LSTM": 4, "GRU": 3, "RNN_TANH": 1, "RNN_RELU": 1}


def _float_dtype(dtype):
    return ag.get_default_dtype() if dtype is None else dtype


def _check_size(value, name, what, minimum=1):
    if isinstance(value, bool) or not isinstance(value, numbers.Integral) or value < minimum:
        raise ValueError(f"{what}: {name} must be an integer >= {minimum}, got {value!r}")
    return int(value)


def _project_lookup(lookup, w_ih, bias, batch_first):
    """F.linear(table[ids], w_ih, bias) for an input that is a fresh embedding lookup, laid out (G, T, B) in memory.

    why: the table has far fewer rows than the batch has positions, so it is projected instead (as
    F.linear does), and its projected rows are gathered gate-major and time-major: LSTMSequence then
    reads each step's (G, B) block as contiguous rows, where the batch-major layout costs a
    transposing read per step (about 10% of a char-level LSTM step). The values are F.linear's.
    """
    table, ids = lookup
    steps = ids.T if batch_first else ids                 # (T, B)
    gathered = F.linear(table, w_ih, bias).t()[:, steps]  # (G, T, B), contiguous
    return gathered.permute(2, 1, 0) if batch_first else gathered.permute(1, 2, 0)


def _uniform_init(module):
    """Every parameter of a recurrent layer or cell from U(-1/sqrt(hidden_size), 1/sqrt(hidden_size))."""
    stdv = 1.0 / math.sqrt(module.hidden_size)
    for p in module.parameters():
        init.uniform_(p, -stdv, stdv)


class RNNBase(Module):
    """The multi-layer, optionally bidirectional recurrent layer that RNN, LSTM and GRU specialise.

    mode: 'LSTM', 'GRU', 'RNN_TANH' or 'RNN_RELU'. Parameters per layer k and direction
    (suffix '' or '_reverse'): weight_ih_l{k} (G*H, in), weight_hh_l{k} (G*H, H), bias_ih_l{k},
    bias_hh_l{k} (G*H,), with G = 4 (LSTM), 3 (GRU) or 1 (RNN); all drawn from U(-1/sqrt(H), 1/sqrt(H)).
    """

    def __init__(self, mode, input_size, hidden_size, num_layers=1, bias=True, batch_first=False, dropout=0.0,
                 bidirectional=False, proj_size=0, device=None, dtype=None):
        super().__init__()
        name = {"RNN_TANH": "RNN", "RNN_RELU": "RNN"}.get(mode, mode)
        check_device(device, name)
        if mode not in _GATES:
            raise ValueError(f"RNNBase: unknown mode {mode!r}; expected one of {sorted(_GATES)}")
        input_size = _check_size(input_size, "input_size", name)
        hidden_size = _check_size(hidden_size, "hidden_size", name)
        num_layers = _check_size(num_layers, "num_layers", name)
        if isinstance(dropout, bool) or not isinstance(dropout, numbers.Number) or not 0 <= dropout <= 1:
            raise ValueError(f"{name}: dropout should be a number in range [0, 1] representing the probability of "
                             f"an element being zeroed, got {dropout!r}")
        if dropout > 0 and num_layers == 1:
            warnings.warn(f"{name}: dropout option adds dropout after all but last recurrent layer, so non-zero "
                          f"dropout expects num_layers greater than 1, but got dropout={dropout} and "
                          f"num_layers={num_layers}")
        if proj_size:
            if mode != "LSTM":
                raise ValueError(f"{name}: proj_size argument is only supported for LSTM, not RNN or GRU")
            raise NotImplementedError(f"LSTM: proj_size={proj_size} (LSTM with projections) is not implemented; "
                                      f"use proj_size=0 and an nn.Linear on the output instead")
        self.mode, self._name = mode, name
        self.input_size, self.hidden_size, self.num_layers = input_size, hidden_size, num_layers
        self.bias, self.batch_first, self.dropout = bool(bias), bool(batch_first), float(dropout)
        self.bidirectional, self.proj_size = bool(bidirectional), 0
        gate_size = _GATES[mode] * hidden_size
        dt = _float_dtype(dtype)
        self._flat_weights_names = []
        for layer in range(num_layers):
            layer_input = input_size if layer == 0 else hidden_size * self._directions
            for suffix in ("", "_reverse")[:self._directions]:
                shapes = [("weight_ih", (gate_size, layer_input)), ("weight_hh", (gate_size, hidden_size))]
                if bias:
                    shapes += [("bias_ih", (gate_size,)), ("bias_hh", (gate_size,))]
                for kind, shape in shapes:
                    pname = f"{kind}_l{layer}{suffix}"
                    setattr(self, pname, Parameter(ag.empty(*shape, dtype=dt)))
                    self._flat_weights_names.append(pname)
        self.reset_parameters()

    @property
    def _directions(self):
        return 2 if self.bidirectional else 1

    def flatten_parameters(self):
        """A no-op kept for PyTorch scripts (cuDNN's contiguous weight buffer does not exist here)."""

    @property
    def all_weights(self):
        """The parameters grouped per layer and direction: [[w_ih, w_hh, b_ih, b_hh], ...] (as PyTorch)."""
        per = 4 if self.bias else 2
        ws = [getattr(self, n) for n in self._flat_weights_names]
        return [ws[i:i + per] for i in range(0, len(ws), per)]

    def reset_parameters(self):
        """Re-draw every weight and bias from U(-1/sqrt(hidden_size), 1/sqrt(hidden_size)) (PyTorch's init)."""
        _uniform_init(self)

    def extra_repr(self):
        s = f"{self.input_size}, {self.hidden_size}"
        if self.num_layers != 1:
            s += f", num_layers={self.num_layers}"
        if not self.bias:
            s += ", bias=False"
        if self.batch_first:
            s += ", batch_first=True"
        if self.dropout != 0:
            s += f", dropout={self.dropout}"
        if self.bidirectional:
            s += ", bidirectional=True"
        return s

    # ---- forward -------------------------------------------------------------------------------------

    def _check_input(self, input):
        if not isinstance(input, ag.Tensor):
            raise TypeError(f"{self._name}: input must be a Tensor, got {type(input).__name__}")
        if input.dim() not in (2, 3):
            raise ValueError(f"{self._name}: expected input of 3 dimensions ((L, N, {self.input_size}) or with "
                             f"batch_first (N, L, {self.input_size})) or 2 unbatched ((L, {self.input_size})), "
                             f"got shape {tuple(input.shape)}")
        if input.shape[-1] != self.input_size:
            raise ValueError(f"{self._name}: input.size(-1) must be equal to input_size. Expected "
                             f"{self.input_size}, got {input.shape[-1]} (input shape {tuple(input.shape)})")
        steps = input.shape[1 if (self.batch_first and input.dim() == 3) else 0]
        if steps == 0:
            raise ValueError(f"{self._name}: empty sequence: input of shape {tuple(input.shape)} has 0 time steps")

    def _check_state(self, state, expected, what):
        if not isinstance(state, ag.Tensor):
            raise TypeError(f"{self._name}: {what} must be a Tensor, got {type(state).__name__}")
        if tuple(state.shape) != expected:
            raise RuntimeError(f"{self._name}: expected {what} of shape {expected} (num_layers * num_directions, "
                               f"batch, hidden_size), got {tuple(state.shape)}")

    def forward(self, input, hx=None):
        """(output, h_n) -- for LSTM (output, (h_n, c_n)) -- from input (L, N, H_in) ((N, L, H_in) with
        batch_first, or unbatched (L, H_in)) and optional initial states of shape (num_layers * D, N, H)
        (unbatched (num_layers * D, H)); missing states are zeros."""
        self._check_input(input)
        batched = input.dim() == 3
        bf = self.batch_first and batched
        x = input if batched else input.unsqueeze(1)
        B = x.shape[0 if bf else 1]
        D, H, L = self._directions, self.hidden_size, self.num_layers
        expected = (L * D, B, H) if batched else (L * D, H)
        lstm = self.mode == "LSTM"
        h0 = c0 = None
        if hx is not None:
            if lstm:
                if not isinstance(hx, (tuple, list)) or len(hx) != 2:
                    raise TypeError(f"LSTM: hx must be a tuple (h_0, c_0), got {type(hx).__name__}")
                h0, c0 = hx
                self._check_state(h0, expected, "h_0")
                self._check_state(c0, expected, "c_0")
            else:
                h0 = hx
                self._check_state(h0, expected, "hx")
            if not batched:
                h0 = h0.unsqueeze(1)
                c0 = c0.unsqueeze(1) if c0 is not None else None
        zeros = None
        h_n, c_n = [], []
        layer_in = x
        T = x.shape[1 if bf else 0]
        for layer in range(L):
            outs = []
            for d in range(D):
                idx = layer * D + d
                suffix = f"_l{layer}" + ("_reverse" if d else "")
                w_ih, w_hh = getattr(self, "weight_ih" + suffix), getattr(self, "weight_hh" + suffix)
                b_ih = getattr(self, "bias_ih" + suffix) if self.bias else None
                b_hh = getattr(self, "bias_hh" + suffix) if self.bias else None
                if h0 is None and zeros is None:
                    zeros = ag.zeros(B, H, dtype=x.dtype)
                h_init = zeros if h0 is None else h0[idx]
                bias = b_ih if self.mode == "GRU" or b_ih is None else b_ih + b_hh
                rev = bool(d)
                # why: one matmul for every time step's input projection, before the time loop
                lookup = F._fresh_lookup(layer_in) if lstm and layer == 0 else None
                if lookup is not None:
                    xproj = _project_lookup(lookup, w_ih, bias, bf)
                else:
                    xproj = F.linear(layer_in, w_ih, bias)
                if lstm:
                    c_init = zeros if c0 is None else c0[idx]
                    out, c_last = _rnn.LSTMSequence.apply(xproj, w_hh, h_init, c_init, bf, rev)
                    c_n.append(c_last)
                elif self.mode == "GRU":
                    out = _rnn.GRUSequence.apply(xproj, h_init, w_hh, b_hh, bf, rev)
                else:
                    out = _rnn.RNNSequence.apply(xproj, h_init, w_hh, "tanh" if self.mode == "RNN_TANH" else "relu",
                                                 bf, rev)
                last = 0 if rev else T - 1
                h_n.append(out[:, last] if bf else out[last])
                outs.append(out)
            layer_in = outs[0] if D == 1 else ag.cat(outs, dim=-1)
            if self.dropout and self.training and layer < L - 1:
                layer_in = F.dropout(layer_in, self.dropout, training=True)
        output = layer_in if batched else layer_in.squeeze(1)
        h_n = ag.stack(h_n, 0) if batched else ag.stack(h_n, 0).squeeze(1)
        if lstm:
            c_n = ag.stack(c_n, 0) if batched else ag.stack(c_n, 0).squeeze(1)
            return output, (h_n, c_n)
        return output, h_n


class RNN(RNNBase):
    """Elman RNN: h_t = tanh(x_t W_ih^T + b_ih + h_{t-1} W_hh^T + b_hh) (nonlinearity 'tanh' or 'relu').

    The course's h_t = sigma(U x_t + W h_{t-1}) (§1.5) with U = weight_ih_l0, W = weight_hh_l0 and
    no biases is RNN(..., bias=False); the course's output y_t = sigma(V h_t) is a separate nn.Linear.
    Arguments and outputs as PyTorch's nn.RNN: see RNNBase.forward.
    """

    def __init__(self, input_size, hidden_size, num_layers=1, nonlinearity="tanh", bias=True, batch_first=False,
                 dropout=0.0, bidirectional=False, device=None, dtype=None, proj_size=0):
        if nonlinearity not in ("tanh", "relu"):
            raise ValueError(f"RNN: unknown nonlinearity {nonlinearity!r}; expected 'tanh' or 'relu'")
        self.nonlinearity = nonlinearity
        # proj_size is accepted as PyTorch's RNNBase does, and refused unless 0 (LSTM only)
        super().__init__("RNN_TANH" if nonlinearity == "tanh" else "RNN_RELU", input_size, hidden_size,
                         num_layers, bias, batch_first, dropout, bidirectional, proj_size, device, dtype)

    def extra_repr(self):
        s = super().extra_repr()
        return s + (f", nonlinearity={self.nonlinearity!r}" if self.nonlinearity != "tanh" else "")


class LSTM(RNNBase):
    """Long short-term memory over whole sequences, as PyTorch's nn.LSTM (gate order i, f, g, o).

    The course's equations (COURSE §1.6) map onto the parameters of layer k as follows, with
    H = hidden_size, U_* the input weights and W_* the recurrent ones (rows of the packed matrices):

        i_t = σ_g(W_i h_{t-1} + U_i x_t)     U_i = weight_ih_lk[0:H],    W_i = weight_hh_lk[0:H]
        f_t = σ_g(W_f h_{t-1} + U_f x_t)     U_f = weight_ih_lk[H:2H],   W_f = weight_hh_lk[H:2H]
        C̃_t = σ_h(W_C h_{t-1} + U_C x_t)     U_C = weight_ih_lk[2H:3H],  W_C = weight_hh_lk[2H:3H]  ("g")
        o_t = σ_g(W_o h_{t-1} + U_o x_t)     U_o = weight_ih_lk[3H:4H],  W_o = weight_hh_lk[3H:4H]
        C_t = f_t ∘ C_{t-1} + i_t ∘ C̃_t       (c_n is the last C_t)
        h_t = o_t ∘ σ_h(C_t)                 (output holds every h_t of the last layer)

    σ_g is the logistic sigmoid, σ_h = tanh. PyTorch (and this class by default) adds two bias vectors
    inside each gate, bias_ih_lk[gate rows] + bias_hh_lk[gate rows]; the slides have none, which is
    LSTM(..., bias=False). proj_size is not implemented (raises NotImplementedError).
    forward(input, (h_0, c_0)=None) -> output, (h_n, c_n): see RNNBase.forward.
    """

    def __init__(self, input_size, hidden_size, num_layers=1, bias=True, batch_first=False, dropout=0.0,
                 bidirectional=False, proj_size=0, device=None, dtype=None):
        super().__init__("LSTM", input_size, hidden_size, num_layers, bias, batch_first, dropout, bidirectional,
                         proj_size, device, dtype)


class GRU(RNNBase):
    """Gated recurrent unit over whole sequences, as PyTorch's nn.GRU (gate order r, z, n).

    r_t = σ(W_ir x_t + b_ir + W_hr h_{t-1} + b_hr), z_t = σ(W_iz x_t + b_iz + W_hz h_{t-1} + b_hz),
    n_t = tanh(W_in x_t + b_in + r_t ∘ (W_hn h_{t-1} + b_hn)), h_t = (1 - z_t) ∘ n_t + z_t ∘ h_{t-1};
    W_i* are the row blocks [0:H], [H:2H], [2H:3H] of weight_ih_lk, W_h* those of weight_hh_lk.
    (GRU is not in the course; PyTorch's convention is followed.)
    """

    def __init__(self, input_size, hidden_size, num_layers=1, bias=True, batch_first=False, dropout=0.0,
                 bidirectional=False, device=None, dtype=None, proj_size=0):
        super().__init__("GRU", input_size, hidden_size, num_layers, bias, batch_first, dropout, bidirectional,
                         proj_size, device, dtype)


# ---- cells -----------------------------------------------------------------------------------------

class RNNCellBase(Module):
    """A single recurrent step with weight_ih (G*H, in), weight_hh (G*H, H), bias_ih, bias_hh (G*H,)."""

    _gates = 1

    def __init__(self, input_size, hidden_size, bias=True, device=None, dtype=None):
        super().__init__()
        name = type(self).__name__
        check_device(device, name)
        self.input_size = _check_size(input_size, "input_size", name)
        self.hidden_size = _check_size(hidden_size, "hidden_size", name)
        self.bias = bool(bias)
        G, dt = self._gates * hidden_size, _float_dtype(dtype)
        self.weight_ih = Parameter(ag.empty(G, input_size, dtype=dt))
        self.weight_hh = Parameter(ag.empty(G, hidden_size, dtype=dt))
        if bias:
            self.bias_ih = Parameter(ag.empty(G, dtype=dt))
            self.bias_hh = Parameter(ag.empty(G, dtype=dt))
        else:
            self.register_parameter("bias_ih", None)
            self.register_parameter("bias_hh", None)
        self.reset_parameters()

    def reset_parameters(self):
        """Re-draw every weight and bias from U(-1/sqrt(hidden_size), 1/sqrt(hidden_size)) (PyTorch's init)."""
        _uniform_init(self)

    def extra_repr(self):
        s = f"{self.input_size}, {self.hidden_size}"
        if not self.bias:
            s += ", bias=False"
        if getattr(self, "nonlinearity", "tanh") != "tanh":
            s += f", nonlinearity={self.nonlinearity!r}"
        return s

    def _prepare(self, input, states):
        """(batched input, batched states or None, batched?) after checking shapes."""
        name = type(self).__name__
        if not isinstance(input, ag.Tensor):
            raise TypeError(f"{name}: input must be a Tensor, got {type(input).__name__}")
        if input.dim() not in (1, 2):
            raise ValueError(f"{name}: expected input of shape (N, {self.input_size}) or unbatched "
                             f"({self.input_size},), got {tuple(input.shape)}")
        if input.shape[-1] != self.input_size:
            raise ValueError(f"{name}: input.size(-1) must be equal to input_size. Expected {self.input_size}, "
                             f"got {input.shape[-1]} (input shape {tuple(input.shape)})")
        batched = input.dim() == 2
        expected = (input.shape[0], self.hidden_size) if batched else (self.hidden_size,)
        if states is not None:
            for what, s in states:
                if not isinstance(s, ag.Tensor):
                    raise TypeError(f"{name}: {what} must be a Tensor, got {type(s).__name__}")
                if tuple(s.shape) != expected:
                    raise RuntimeError(f"{name}: expected {what} of shape {expected}, got {tuple(s.shape)}")
        x = input if batched else input.unsqueeze(0)
        if states is None:
            z = ag.zeros(x.shape[0], self.hidden_size, dtype=x.dtype)
            return x, None, batched, z
        return x, [s if batched else s.unsqueeze(0) for _, s in states], batched, None

    def _projections(self, x, h):
        return F.linear(x, self.weight_ih, self.bias_ih), F.linear(h, self.weight_hh, self.bias_hh)


class RNNCell(RNNCellBase):
    """One Elman step: h' = tanh(x W_ih^T + b_ih + h W_hh^T + b_hh) (or relu); input (N, in) or (in,)."""

    def __init__(self, input_size, hidden_size, bias=True, nonlinearity="tanh", device=None, dtype=None):
        if nonlinearity not in ("tanh", "relu"):
            raise ValueError(f"RNNCell: unknown nonlinearity {nonlinearity!r}; expected 'tanh' or 'relu'")
        self.nonlinearity = nonlinearity
        super().__init__(input_size, hidden_size, bias, device, dtype)

    def forward(self, input, hx=None):
        x, states, batched, zeros = self._prepare(input, None if hx is None else [("hx", hx)])
        h = zeros if states is None else states[0]
        gx, gh = self._projections(x, h)
        pre = gx + gh
        h = pre.tanh() if self.nonlinearity == "tanh" else pre.relu()
        return h if batched else h.squeeze(0)


class LSTMCell(RNNCellBase):
    """One LSTM step (gates i, f, g, o; see nn.LSTM for the equations): (input, (h, c)) -> (h', c')."""

    _gates = 4

    def forward(self, input, hx=None):
        if hx is not None and not (isinstance(hx, (tuple, list)) and len(hx) == 2):
            raise TypeError(f"LSTMCell: hx must be a tuple (h_0, c_0), got {type(hx).__name__}")
        x, states, batched, zeros = self._prepare(input, None if hx is None else [("h_0", hx[0]), ("c_0", hx[1])])
        h, c = (zeros, zeros) if states is None else states
        gx, gh = self._projections(x, h)
        h, c = _rnn.LSTMCell.apply(gx + gh, c)
        return (h, c) if batched else (h.squeeze(0), c.squeeze(0))


class GRUCell(RNNCellBase):
    """One GRU step (gates r, z, n; see nn.GRU for the equations): (input, h) -> h'."""

    _gates = 3

    def forward(self, input, hx=None):
        x, states, batched, zeros = self._prepare(input, None if hx is None else [("hx", hx)])
        h = zeros if states is None else states[0]
        gx, gh = self._projections(x, h)
        h = _rnn.GRUCell.apply(gx, gh, h)
        return h if batched else h.squeeze(0)
