"""Encoder-decoder GRUs with additive (Bahdanau) attention, learning to reverse digit strings.

    python examples/seq2seq_attention.py            # about 30 s; >= 95% exact match on held-out strings

The task needs alignment: output step i must copy input position L-1-i, for strings of 3 to 10
digits. Reversal is generated in code; a fixed set of held-out strings never appears in training.
The model (the course's §1.7): a bidirectional GRU encoder gives annotations h_1..h_T; the decoder
GRUCell starts from a projection of the encoder's final states and at step i reads
    e_ij = v^T tanh(W s_{i-1} + U h_j)      (the MLP(h'_{i-1}, h_j) of the slides)
    alpha_ij = softmax_j(e_ij),  c_i = sum_j alpha_ij h_j,
then takes [embedding of y_{i-1}; c_i] as its input (teacher forcing in training: y_{i-1} is the
true previous digit, starting from a start token) and predicts y_i from [s_i; c_i]. Decoding is
greedy until the end token. Each batch holds strings of one length (drawn per batch), so no padding
or masking is needed.
Writes to --out: `metrics.json`, `attention.png` (alpha for a held-out string: the anti-diagonal
is the reversal) and `checkpoint.ag`.
"""
import argparse
import json
import os
import sys
import time

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), ".."))
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

import numpy as np  # noqa: E402

import autograd_core as ag  # noqa: E402
import nn  # noqa: E402
import nn.functional as F  # noqa: E402
import optim  # noqa: E402
from common import progress, pyplot, save_figure, say  # noqa: E402

SOS, EOS = 10, 11  # tokens after the digits 0-9
VOCAB = 12


def parse_args(argv=None):
    """Command-line options."""
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--steps", type=int, default=1000, help="training batches")
    p.add_argument("--batch-size", type=int, default=64)
    p.add_argument("--min-len", type=int, default=3)
    p.add_argument("--max-len", type=int, default=10)
    p.add_argument("--embed", type=int, default=32)
    p.add_argument("--hidden", type=int, default=64, help="encoder GRU size per direction")
    p.add_argument("--attn", type=int, default=64, help="size of the attention MLP")
    p.add_argument("--lr", type=float, default=3e-3)
    p.add_argument("--test-size", type=int, default=1000)
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--out", default="runs/seq2seq_attention")
    p.add_argument("--quiet", action="store_true", help="no progress bar")
    return p.parse_args(argv)


class AdditiveAttention(nn.Module):
    """Bahdanau attention: alpha = softmax_j(v^T tanh(W s + U h_j)); returns (context, alpha)."""

    def __init__(self, query_size, key_size, attn_size):
        super().__init__()
        self.W = nn.Linear(query_size, attn_size, bias=False)
        self.U = nn.Linear(key_size, attn_size)
        self.v = nn.Linear(attn_size, 1, bias=False)

    def keys(self, h):
        """U h_j for every position, computed once per sequence: (B, T, key) -> (B, T, attn)."""
        return self.U(h)

    def forward(self, s, uh, h):
        """s (B, query), uh = keys(h) (B, T, attn), h (B, T, key) -> c (B, key), alpha (B, T)."""
        e = self.v(ag.tanh(self.W(s).unsqueeze(1) + uh)).squeeze(-1)  # (B, T)
        alpha = F.softmax(e, dim=-1)
        return (alpha.unsqueeze(1) @ h).squeeze(1), alpha


class Seq2Seq(nn.Module):
    """Bidirectional GRU encoder, GRUCell decoder with additive attention."""

    def __init__(self, embed=32, hidden=64, attn=64):
        super().__init__()
        self.embed = nn.Embedding(VOCAB, embed)
        self.encoder = nn.GRU(embed, hidden, batch_first=True, bidirectional=True)
        self.bridge = nn.Linear(2 * hidden, 2 * hidden)
        self.attention = AdditiveAttention(2 * hidden, 2 * hidden, attn)
        self.decoder = nn.GRUCell(embed + 2 * hidden, 2 * hidden)
        self.out = nn.Linear(4 * hidden, VOCAB)

    def encode(self, src):
        """src (B, T) -> annotations (B, T, 2H), their keys, and the decoder's first state (B, 2H)."""
        h, h_n = self.encoder(self.embed(src))
        s = ag.tanh(self.bridge(ag.cat([h_n[0], h_n[1]], dim=-1)))
        return h, self.attention.keys(h), s

    def step(self, y_prev, s, h, uh):
        """One decoder step: (logits (B, V), new state, alpha (B, T))."""
        c, alpha = self.attention(s, uh, h)
        s = self.decoder(ag.cat([self.embed(y_prev), c], dim=-1), s)
        return self.out(ag.cat([s, c], dim=-1)), s, alpha

    def forward(self, src, tgt_in):
        """Teacher-forced logits (B, L, V) for decoder inputs tgt_in (B, L) (SOS then the target)."""
        h, uh, s = self.encode(src)
        logits = []
        for i in range(tgt_in.shape[1]):
            lg, s, _ = self.step(tgt_in[:, i], s, h, uh)
            logits.append(lg)
        return ag.stack(logits, dim=1)

    @ag.no_grad()
    def greedy(self, src, max_len):
        """Greedy decoding: (tokens (B, <= max_len + 1), attention (B, steps, T))."""
        h, uh, s = self.encode(src)
        y = ag.full((src.shape[0],), SOS, dtype=ag.int64)
        toks, alphas = [], []
        for _ in range(max_len + 1):
            lg, s, alpha = self.step(y, s, h, uh)
            y = lg.argmax(dim=-1)
            toks.append(y)
            alphas.append(alpha)
        return ag.stack(toks, dim=1), ag.stack(alphas, dim=1)


def make_batch(rng, n, length, exclude=()):
    """n random digit strings of one length (none in `exclude`): (src, tgt_in, tgt_out) int64 arrays."""
    src = rng.integers(0, 10, (n, length))
    if exclude:
        for k in range(n):
            while src[k].tobytes() in exclude:
                src[k] = rng.integers(0, 10, length)
    rev = src[:, ::-1]
    tgt_in = np.concatenate([np.full((n, 1), SOS), rev], axis=1)
    tgt_out = np.concatenate([rev, np.full((n, 1), EOS)], axis=1)
    return src, tgt_in, tgt_out


def held_out(args):
    """{length: src array}: the test strings, args.test_size in all, spread over the lengths."""
    rng = np.random.default_rng(10_000 + args.seed)
    lengths = np.arange(args.min_len, args.max_len + 1)
    per = np.full(len(lengths), args.test_size // len(lengths))
    per[:args.test_size % len(lengths)] += 1
    out = {}
    for length, k in zip(lengths, per):
        # unique strings, so each one counts once
        seen, rows = set(), []
        while len(rows) < k and len(seen) < 10 ** length:
            s = rng.integers(0, 10, length)
            if s.tobytes() not in seen:
                seen.add(s.tobytes())
                rows.append(s)
        out[int(length)] = np.array(rows, dtype=np.int64)
    return out


def exact_match(model, test):
    """Fraction of test strings whose greedy output is exactly the reversal followed by the end token."""
    right = total = 0
    for length, src in test.items():
        toks, _ = model.greedy(ag.tensor(src), length)
        toks = toks.numpy()
        want = src[:, ::-1]
        ok = (toks[:, :length] == want).all(axis=1) & (toks[:, length] == EOS)
        right += int(ok.sum())
        total += len(src)
    return right / total


def plot_attention(model, src, path):
    """The attention matrix alpha (output step x input position) for one held-out string."""
    plt = pyplot()
    if plt is None:
        return None
    toks, alpha = model.greedy(ag.tensor(src[None]), len(src))
    a = alpha.numpy()[0]
    fig, ax = plt.subplots(figsize=(4.6, 4.4))
    ax.imshow(a, cmap="Blues", vmin=0, vmax=1)
    out_labels = [str(t) if t < 10 else "<eos>" for t in toks.numpy()[0]]
    ax.set_xticks(range(len(src)), [str(d) for d in src])
    ax.set_yticks(range(len(out_labels)), out_labels)
    ax.set(xlabel="input digit", ylabel="output token", title="attention weights alpha_ij")
    return save_figure(plt, fig, path)


def main(argv=None):
    """Train, report the held-out exact-match accuracy; return the metrics."""
    args = parse_args(argv)
    ag.manual_seed(args.seed)
    rng = np.random.default_rng(args.seed)
    test = held_out(args)
    exclude = {s.tobytes() for arr in test.values() for s in arr}
    model = Seq2Seq(args.embed, args.hidden, args.attn)
    opt = optim.Adam(model.parameters(), lr=args.lr)
    sched = optim.lr_scheduler.CosineAnnealingLR(opt, T_max=args.steps)
    t0, running, history = time.perf_counter(), None, []
    for step in progress(range(1, args.steps + 1), "training", args.quiet):
        length = int(rng.integers(args.min_len, args.max_len + 1))
        src, tgt_in, tgt_out = (ag.tensor(a) for a in make_batch(rng, args.batch_size, length, exclude))
        logits = model(src, tgt_in)
        loss = F.cross_entropy(logits.reshape(-1, VOCAB), tgt_out.reshape(-1))
        opt.zero_grad()
        loss.backward()
        nn.utils.clip_grad_norm_(model.parameters(), 1.0)
        opt.step()
        sched.step()
        running = loss.item() if running is None else 0.98 * running + 0.02 * loss.item()
        if step % 250 == 0 or step == args.steps:
            history.append((step, running))
            say(f"step {step:5d}  loss {running:.4f}")
    seconds = time.perf_counter() - t0
    model.eval()
    acc = exact_match(model, test)
    n_test = sum(len(v) for v in test.values())
    print(f"held-out exact match: {acc:.4f} on {n_test} strings of length {args.min_len}-{args.max_len} "
          f"({seconds:.0f} s of training)")
    os.makedirs(args.out, exist_ok=True)
    metrics = {"exact_match": acc, "test_strings": n_test, "train_seconds": seconds, "loss": history}
    with open(os.path.join(args.out, "metrics.json"), "w") as f:
        json.dump(metrics, f, indent=1)
    ag.save({"model": model.state_dict(), "args": vars(args)}, os.path.join(args.out, "checkpoint.ag"))
    example = test[args.max_len - 2][0] if args.max_len - 2 in test else next(iter(test.values()))[0]
    metrics["figures"] = [f for f in [plot_attention(model, example, os.path.join(args.out, "attention.png"))] if f]
    return metrics


if __name__ == "__main__":
    main()
