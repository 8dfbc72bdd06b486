"""Character-level LSTM language model on Tiny Shakespeare, trained with truncated backprop through time.

    python examples/char_lstm.py --data-dir ../shared/data --minutes 10   # val loss <= 1.55 nats/char
    python examples/char_lstm.py --resume --minutes 5                      # continue from the checkpoint
    python examples/char_lstm.py --sample 500 --temperature 0.8            # text from the checkpoint

The model (the `lstm` benchmark's): Embedding(65 -> 256), one LSTM layer with hidden size 256,
Linear(256 -> 65); cross-entropy on the next character, gradients clipped to norm 1, Adam 2e-3
(constant; --lr-min decays it along a cosine over the time budget).
The text's first 90% trains, the last 10% validates (loss in nats per character; bits = nats / ln 2).

Truncated backprop through time: the training text is cut into --batch-size parallel streams, and
each batch is the next --seq-len characters of every stream. The LSTM's final (h, c) of one batch is
the initial state of the next, so the model sees context longer than --seq-len, but the state is
`.detach()`ed first: the gradient stops at the batch boundary, so backward costs --seq-len steps,
not the whole history (and the graph of earlier batches is freed).
The data: `--data-dir DIR` (reads DIR/tinyshakespeare/input.txt), else $AUTOGRAD_DATA.
Writes to --out: `checkpoint.ag` (model, optimizer, step, history, vocabulary, hidden state),
`metrics.json`, `curves.png` (train and validation loss against minutes), `sample.txt`.
"""
import argparse
import json
import math
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


def parse_args(argv=None):
    """Command-line options."""
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--data-dir", default=None, help="folder holding tinyshakespeare/ (else $AUTOGRAD_DATA)")
    p.add_argument("--minutes", type=float, default=10.0, help="training time budget (wall clock, this run)")
    p.add_argument("--max-steps", type=int, default=None, help="stop after this many steps in total")
    p.add_argument("--batch-size", type=int, default=32)
    p.add_argument("--seq-len", type=int, default=64, help="steps of backprop through time per batch")
    p.add_argument("--embed", type=int, default=256)
    p.add_argument("--hidden", type=int, default=256)
    p.add_argument("--lr", type=float, default=2e-3)
    p.add_argument("--lr-min", type=float, default=None,
                   help="decay the learning rate from --lr to this along a cosine over the budget (default: constant)")
    p.add_argument("--clip", type=float, default=1.0, help="max gradient norm")
    p.add_argument("--eval-every", type=float, default=60.0, help="seconds between validation passes")
    p.add_argument("--limit", type=int, default=None, help="use only the first N characters (smoke tests)")
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--out", default="runs/char_lstm")
    p.add_argument("--resume", action="store_true", help="continue from --out/checkpoint.ag")
    p.add_argument("--sample", type=int, default=0, metavar="N",
                   help="only generate N characters from --out/checkpoint.ag (no training)")
    p.add_argument("--temperature", type=float, default=0.8, help="sampling temperature (< 1: more conservative)")
    p.add_argument("--prime", default="ROMEO:\n", help="text the sample starts from")
    p.add_argument("--quiet", action="store_true", help="no progress bar")
    return p.parse_args(argv)


class CharLSTM(nn.Module):
    """Embedding -> LSTM -> Linear: next-character logits for every position."""

    def __init__(self, vocab, embed=256, hidden=256):
        super().__init__()
        self.embed = nn.Embedding(vocab, embed)
        self.lstm = nn.LSTM(embed, hidden, batch_first=True)
        self.head = nn.Linear(hidden, vocab)

    def forward(self, x, state=None):
        """x (B, T) int64 -> logits (B, T, vocab), (h, c)."""
        out, state = self.lstm(self.embed(x), state)
        return self.head(out), state


def read_text(data_dir, limit=None):
    """The Tiny Shakespeare text (first `limit` characters if given)."""
    root = data_dir or os.environ.get("AUTOGRAD_DATA")
    if not root:
        raise SystemExit("char_lstm: pass --data-dir ../shared/data or set $AUTOGRAD_DATA")
    path = os.path.join(root, "tinyshakespeare", "input.txt")
    if not os.path.exists(path):
        raise SystemExit(f"char_lstm: no {path}")
    with open(path, encoding="utf-8") as f:
        text = f.read()
    return text[:limit] if limit else text


def streams(ids, batch_size):
    """(batch_size, L) int64: the id sequence cut into batch_size contiguous streams (the rest dropped)."""
    n = len(ids) // batch_size
    return ids[:n * batch_size].reshape(batch_size, n)


@ag.no_grad()
def evaluate(model, data, seq_len):
    """Mean cross-entropy (nats per character) over every stream of data, state carried across chunks."""
    was = model.training
    model.eval()
    state, total, count = None, 0.0, 0
    for s in range(0, data.shape[1] - 1, seq_len):
        e = min(s + seq_len, data.shape[1] - 1)
        x, y = ag.tensor(data[:, s:e]), ag.tensor(data[:, s + 1:e + 1])
        logits, state = model(x, state)
        total += F.cross_entropy(logits.reshape(-1, logits.shape[-1]), y.reshape(-1), reduction="sum").item()
        count += y.numel()
    model.train(was)
    return total / count


@ag.no_grad()
def sample(model, chars, n, temperature=0.8, prime="\n", seed=0):
    """n characters generated after `prime`, drawn from softmax(logits / temperature)."""
    stoi = {c: i for i, c in enumerate(chars)}
    prime = "".join(c for c in prime if c in stoi) or chars[0]
    gen = ag.Generator().manual_seed(seed)
    was = model.training
    model.eval()
    logits, state = model(ag.tensor([[stoi[c] for c in prime]]))
    out = []
    for _ in range(n):
        probs = F.softmax(logits[:, -1] / max(temperature, 1e-6), dim=-1)
        nxt = ag.multinomial(probs, 1, generator=gen)
        out.append(chars[int(nxt.item())])
        logits, state = model(nxt, state)
    model.train(was)
    return prime + "".join(out)


def load_checkpoint(path):
    """(model, checkpoint dict) rebuilt from an ag.save checkpoint of this script."""
    if not os.path.exists(path):
        raise SystemExit(f"char_lstm: no checkpoint at {path}")
    ckpt = ag.load(path)
    cfg = ckpt["config"]
    model = CharLSTM(len(ckpt["chars"]), cfg["embed"], cfg["hidden"])
    model.load_state_dict(ckpt["model"])
    return model, ckpt


def plot_curves(history, path):
    """Training and validation loss against training minutes."""
    plt = pyplot()
    if plt is None or not history["val_loss"]:
        return None
    fig, ax = plt.subplots(figsize=(6, 4))
    ax.plot(np.array(history["train_sec"]) / 60, history["train_loss"], label="train (running mean)", alpha=0.7)
    ax.plot(np.array(history["val_sec"]) / 60, history["val_loss"], "o-", label="validation")
    ax.axhline(1.55, color="gray", ls="--", lw=1, label="target 1.55")
    ax.set(xlabel="training minutes", ylabel="cross-entropy (nats/char)", title="char-LSTM on Tiny Shakespeare")
    ax.legend()
    ax.grid(alpha=0.3)
    return save_figure(plt, fig, path)


def train(args):
    """Train for --minutes (or --max-steps); returns (model, history, chars)."""
    # why: keep freed memory in the process, so each step's large temporaries are not page-faulted in again
    ag.backend.keep_freed_memory()
    ag.manual_seed(args.seed)
    text = read_text(args.data_dir, args.limit)
    chars = sorted(set(text))
    ids = np.array([{c: i for i, c in enumerate(chars)}[c] for c in text], dtype=np.int64)
    split = int(0.9 * len(ids))
    train_data, val_data = streams(ids[:split], args.batch_size), streams(ids[split:], args.batch_size)
    model = CharLSTM(len(chars), args.embed, args.hidden)
    opt = optim.Adam(model.parameters(), lr=args.lr)
    os.makedirs(args.out, exist_ok=True)
    ckpt_path = os.path.join(args.out, "checkpoint.ag")
    history = {"step": [], "train_sec": [], "train_loss": [], "val_step": [], "val_sec": [], "val_loss": []}
    step, pos, elapsed, state, running = 0, 0, 0.0, None, None
    if args.resume:
        model, ckpt = load_checkpoint(ckpt_path)
        opt = optim.Adam(model.parameters(), lr=args.lr)
        opt.load_state_dict(ckpt["optimizer"])
        step, pos, elapsed, history = ckpt["step"], ckpt["pos"], ckpt["elapsed"], ckpt["history"]
        state = (ckpt["h"], ckpt["c"]) if "h" in ckpt else None
        running = ckpt["running"]
        print(f"resumed from {ckpt_path} at step {step} ({elapsed / 60:.1f} training minutes)")
    print(model)
    print(f"{len(text):,} characters, vocabulary {len(chars)}; train streams {tuple(train_data.shape)}, "
          f"validation {tuple(val_data.shape)}")
    budget = args.minutes * 60
    start, last_eval = time.perf_counter(), time.perf_counter()
    bar = progress(iter(int, 1), "training", args.quiet)  # an endless iterator: the budget decides

    def save():
        extra = {} if state is None else {"h": state[0], "c": state[1]}
        ag.save({"model": model.state_dict(), "optimizer": opt.state_dict(), "step": step, "pos": pos,
                 "elapsed": elapsed + time.perf_counter() - start, "history": history, "chars": "".join(chars),
                 "config": {"embed": args.embed, "hidden": args.hidden}, "running": running, **extra}, ckpt_path)

    def validate():
        v = evaluate(model, val_data, args.seq_len)
        sec = elapsed + time.perf_counter() - start
        if not history["val_loss"] or v < min(history["val_loss"]):
            # early stopping's weights: the lowest validation loss so far (--sample uses them)
            ag.save({"model": model.state_dict(), "chars": "".join(chars), "step": step, "val_loss": v,
                     "config": {"embed": args.embed, "hidden": args.hidden}}, os.path.join(args.out, "best.ag"))
        history["val_step"].append(step)
        history["val_sec"].append(sec)
        history["val_loss"].append(v)
        say(f"step {step:5d}  {sec / 60:5.1f} min  train {running:.3f}  val {v:.4f} nats/char "
            f"({v / math.log(2):.3f} bits)")

    for _ in bar:
        if time.perf_counter() - start >= budget or (args.max_steps is not None and step >= args.max_steps):
            break
        if args.lr_min is not None:
            # cosine decay over the budget: time-based for --minutes, step-based with --max-steps
            done = (step / args.max_steps if args.max_steps else
                    min(1.0, (elapsed + time.perf_counter() - start) / max(elapsed + budget, 1e-9)))
            for group in opt.param_groups:
                group["lr"] = args.lr_min + (args.lr - args.lr_min) * 0.5 * (1 + math.cos(math.pi * done))
        if pos + args.seq_len + 1 > train_data.shape[1]:
            pos, state = 0, None  # an epoch is over: start the streams again from a zero state
        x = ag.tensor(train_data[:, pos:pos + args.seq_len])
        y = ag.tensor(train_data[:, pos + 1:pos + args.seq_len + 1])
        pos += args.seq_len
        if state is not None:
            # truncated BPTT: keep the values of (h, c), drop their history
            state = (state[0].detach(), state[1].detach())
        logits, state = model(x, state)
        loss = F.cross_entropy(logits.reshape(-1, len(chars)), y.reshape(-1))
        opt.zero_grad()
        loss.backward()
        nn.utils.clip_grad_norm_(model.parameters(), args.clip)
        opt.step()
        step += 1
        running = loss.item() if running is None else 0.98 * running + 0.02 * loss.item()
        if step % 10 == 0:
            history["step"].append(step)
            history["train_sec"].append(elapsed + time.perf_counter() - start)
            history["train_loss"].append(running)
            if hasattr(bar, "set_postfix"):
                bar.set_postfix(loss=f"{running:.3f}")
        if time.perf_counter() - last_eval >= args.eval_every:
            validate()
            save()
            last_eval = time.perf_counter()
    if hasattr(bar, "close"):
        bar.close()
    if step and (not history["val_step"] or history["val_step"][-1] != step):
        validate()
    save()
    with open(os.path.join(args.out, "metrics.json"), "w") as f:
        json.dump(history, f, indent=1)
    return model, history, chars


def main(argv=None):
    """Train (or, with --sample, only generate); return the history (with 'sample' and 'figures')."""
    args = parse_args(argv)
    if args.sample:
        best = os.path.join(args.out, "best.ag")
        model, ckpt = load_checkpoint(best if os.path.exists(best) else os.path.join(args.out, "checkpoint.ag"))
        text = sample(model, ckpt["chars"], args.sample, args.temperature, args.prime, args.seed)
        print(text)
        return {"sample": text}
    model, history, chars = train(args)
    text = sample(model, "".join(chars), 300, args.temperature, args.prime, args.seed)
    with open(os.path.join(args.out, "sample.txt"), "w") as f:
        f.write(text)
    print(f"--- sample (temperature {args.temperature}) ---\n{text}\n---")
    if history["val_loss"]:
        print(f"final validation loss: {history['val_loss'][-1]:.4f} nats/char after {history['val_step'][-1]} steps "
              f"({history['val_sec'][-1] / 60:.1f} min)")
        k = int(np.argmin(history["val_loss"]))
        print(f"best validation loss: {history['val_loss'][k]:.4f} nats/char at step {history['val_step'][k]} "
              f"({history['val_sec'][k] / 60:.1f} min), weights in {os.path.join(args.out, 'best.ag')}")
    history = dict(history)
    history["sample"] = text
    history["figures"] = [f for f in [plot_curves(history, os.path.join(args.out, "curves.png"))] if f]
    return history


if __name__ == "__main__":
    main()
