"""Recurrent workloads: one training step of the character-level LSTM language model."""
import numpy as np

from . import workload
from .nn import _stack

VOCAB, EMBED, HIDDEN, BATCH, SEQ = 65, 256, 256, 32, 64


def _lstm_data(rng):
    return {"x": rng.integers(0, VOCAB, (BATCH, SEQ)).astype(np.int64),
            "y": rng.integers(0, VOCAB, (BATCH, SEQ)).astype(np.int64)}


@workload("lstm", target=1.0, data=_lstm_data)
def lstm(lib, data):
    """Embedding 65->256, LSTM 256, Linear 256->65, batch 32 x 64 steps, cross-entropy, clip_grad_norm_(1), Adam."""
    nn, F, optim, _, _ = _stack(lib)
    lib.manual_seed(0)
    emb, rnn, head = nn.Embedding(VOCAB, EMBED), nn.LSTM(EMBED, HIDDEN, batch_first=True), nn.Linear(HIDDEN, VOCAB)
    params = list(emb.parameters()) + list(rnn.parameters()) + list(head.parameters())
    opt = optim.Adam(params, lr=2e-3)
    x, y = lib.tensor(data["x"]), lib.tensor(data["y"])

    def step():
        out, _ = rnn(emb(x))
        loss = F.cross_entropy(head(out).reshape(-1, VOCAB), y.reshape(-1))
        opt.zero_grad()
        loss.backward()
        nn.utils.clip_grad_norm_(params, 1.0)
        opt.step()
    return step
