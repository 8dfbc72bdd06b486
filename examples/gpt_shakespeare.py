"""A character-level GPT on Tiny Shakespeare: train, validate, sample, plot loss curves and attention.

    python examples/gpt_shakespeare.py --data ../shared/data --minutes 15     # val loss <= 1.75 on 2 cores
    python examples/gpt_shakespeare.py --resume --minutes 5                    # continue from the checkpoint

The model is nn.models.GPT (nanoGPT's layout: pre-LN blocks, tanh GELU, tied embeddings, GPT-2 init),
4 layers, 4 heads, 128 dims, context 64, batch 16, AdamW with warm-up and cosine decay. The data:
DATA/tinyshakespeare/input.txt (DATA = --data, else $AUTOGRAD_DATA, else ../shared/data), the first
90% of the characters for training, the last 10% for validation. With --minutes the learning-rate
schedule follows the time budget (cosine over whichever runs out first: --max-iters or the minutes).
Writes to --out: checkpoint.ag (model, optimizer, step, history, sampler state), metrics.json,
loss.png (train/validation loss), attention.png (one layer's heads on a line of the play), sample.txt.
"""
import argparse
import json
import math
import os
import sys
import time

import numpy as np

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), ".."))
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

import autograd_core as ag  # noqa: E402
from autograd_core.backend import keep_freed_memory  # noqa: E402
import nn  # noqa: E402
import optim  # noqa: E402
from common import progress, pyplot, read_checkpoint, save_figure, say  # noqa: E402

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))


def parse_args(argv=None):
    """Command-line options."""
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--data", default=None, help="folder holding tinyshakespeare/input.txt "
                                                "(else $AUTOGRAD_DATA, else ../shared/data)")
    p.add_argument("--out", default="runs/gpt_shakespeare")
    p.add_argument("--minutes", type=float, default=15.0, help="training time budget (0: no limit)")
    p.add_argument("--max-iters", type=int, default=20000)
    p.add_argument("--eval-interval", type=int, default=250)
    p.add_argument("--eval-iters", type=int, default=20, help="batches per loss estimate")
    p.add_argument("--batch-size", type=int, default=16)
    p.add_argument("--block-size", type=int, default=64)
    p.add_argument("--n-layer", type=int, default=4)
    p.add_argument("--n-head", type=int, default=4)
    p.add_argument("--n-embd", type=int, default=128)
    p.add_argument("--dropout", type=float, default=0.0)
    p.add_argument("--post-ln", action="store_true", help="the original post-LN block order (GPT-1)")
    p.add_argument("--lr", type=float, default=2e-3)
    p.add_argument("--min-lr", type=float, default=1e-4)
    p.add_argument("--warmup", type=int, default=100)
    p.add_argument("--weight-decay", type=float, default=0.1)
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--sample-chars", type=int, default=500)
    p.add_argument("--temperature", type=float, default=0.8)
    p.add_argument("--top-k", type=int, default=None)
    p.add_argument("--resume", action="store_true", help="continue from --out/checkpoint.ag")
    p.add_argument("--limit", type=int, default=None, help="use only the first N characters (smoke tests)")
    p.add_argument("--quiet", action="store_true", help="no progress bar")
    return p.parse_args(argv)


def load_text(args):
    """(train ids, val ids, chars): the corpus as int64 character ids, split 90/10."""
    data_dir = args.data or os.environ.get("AUTOGRAD_DATA") or os.path.join(ROOT, "..", "shared", "data")
    path = os.path.join(data_dir, "tinyshakespeare", "input.txt")
    if not os.path.exists(path):
        raise SystemExit(f"gpt_shakespeare: no {path} (pass --data DIR holding tinyshakespeare/input.txt)")
    with open(path, encoding="utf-8") as f:
        text = f.read()
    if args.limit:
        text = text[:args.limit]
    chars = sorted(set(text))
    lookup = {c: i for i, c in enumerate(chars)}
    ids = np.array([lookup[c] for c in text], dtype=np.int64)
    n = int(0.9 * len(ids))
    return ids[:n], ids[n:], chars


def get_batch(ids, rng, batch_size, block_size):
    """Random windows: x (B, T) and y = x shifted by one character (the next-character targets)."""
    starts = rng.integers(0, len(ids) - block_size - 1, batch_size)
    offs = starts[:, None] + np.arange(block_size)
    return ag.from_numpy(ids[offs]), ag.from_numpy(ids[offs + 1])


@ag.no_grad()
def estimate_loss(model, splits, args, seed):
    """Mean loss over eval_iters fixed random batches of each split, in eval mode."""
    model.eval()
    out = {}
    for name, ids in splits.items():
        rng = np.random.default_rng(seed)
        out[name] = float(np.mean([model(*get_batch(ids, rng, args.batch_size, args.block_size))[1].item()
                                   for _ in range(args.eval_iters)]))
    model.train()
    return out


def lr_at(step, elapsed, args):
    """Linear warm-up, then cosine decay to min_lr over max_iters or the time budget, whichever ends first."""
    if step < args.warmup:
        return args.lr * (step + 1) / args.warmup
    frac = (step - args.warmup) / max(1, args.max_iters - args.warmup)
    if args.minutes:
        frac = max(frac, elapsed / (60 * args.minutes))
    frac = min(frac, 1.0)
    return args.min_lr + 0.5 * (args.lr - args.min_lr) * (1 + math.cos(math.pi * frac))


def make_model(args, vocab_size):
    """The GPT of the command line's sizes."""
    return nn.models.GPT(nn.models.GPTConfig(vocab_size=vocab_size, block_size=args.block_size,
                                             n_layer=args.n_layer, n_head=args.n_head, n_embd=args.n_embd,
                                             dropout=args.dropout, post_ln=args.post_ln))


def train(args):
    """Train within the budget, evaluating and checkpointing every eval_interval steps.

    Returns (model, history, chars, validation ids).
    """
    # why: keep freed memory in the process, so each step's large temporaries are not page-faulted in again
    keep_freed_memory()
    ag.manual_seed(args.seed)
    train_ids, val_ids, chars = load_text(args)
    model = make_model(args, len(chars))
    decay = [p for n, p in model.named_parameters() if p.dim() >= 2]
    no_decay = [p for n, p in model.named_parameters() if p.dim() < 2]
    opt = optim.AdamW([{"params": decay, "weight_decay": args.weight_decay},
                       {"params": no_decay, "weight_decay": 0.0}], lr=args.lr, betas=(0.9, 0.99))
    os.makedirs(args.out, exist_ok=True)
    ckpt_path = os.path.join(args.out, "checkpoint.ag")
    history = {"step": [], "train_loss": [], "val_loss": [], "seconds": []}
    step, elapsed = 0, 0.0
    rng = np.random.default_rng(args.seed)
    if args.resume:
        ckpt = read_checkpoint(ckpt_path)
        model.load_state_dict(ckpt["model"])
        opt.load_state_dict(ckpt["optimizer"])
        history, step, elapsed = ckpt["history"], ckpt["step"], ckpt["elapsed"]
        rng.bit_generator.state = json.loads(ckpt["rng"])
        say(f"resumed from {ckpt_path} at step {step} ({elapsed / 60:.1f} min trained)")
    say(f"{model.num_parameters() / 1e6:.2f}M parameters, vocab {len(chars)}, "
        f"{len(train_ids):,} train / {len(val_ids):,} val characters")
    splits = {"train": train_ids, "val": val_ids}
    budget = 60 * args.minutes if args.minutes else float("inf")
    start_elapsed = elapsed
    t0 = time.perf_counter()
    bar = progress(range(step, args.max_iters), "training", args.quiet, total=args.max_iters - step)
    loss = None

    def evaluate_and_save():
        losses = estimate_loss(model, splits, args, seed=1234)
        for key, value in (("step", step), ("train_loss", losses["train"]), ("val_loss", losses["val"]),
                           ("seconds", elapsed)):
            history[key].append(value)
        say(f"step {step:5d}  train loss {losses['train']:.4f}  val loss {losses['val']:.4f}  "
            f"({elapsed / 60:.1f} min)")
        ag.save({"model": model.state_dict(), "optimizer": opt.state_dict(), "step": step, "elapsed": elapsed,
                 "history": history, "rng": json.dumps(rng.bit_generator.state)}, ckpt_path)

    for step in bar:
        elapsed = start_elapsed + time.perf_counter() - t0
        if step % args.eval_interval == 0 and (not history["step"] or history["step"][-1] != step):
            evaluate_and_save()
        if elapsed >= budget:
            break
        for group in opt.param_groups:
            group["lr"] = lr_at(step, elapsed, args)
        x, y = get_batch(train_ids, rng, args.batch_size, args.block_size)
        _, loss = model(x, y)
        opt.zero_grad()
        loss.backward()
        opt.step()
        if hasattr(bar, "set_postfix") and step % 10 == 0:
            bar.set_postfix(loss=f"{loss.item():.3f}")
    else:
        step = args.max_iters
    elapsed = start_elapsed + time.perf_counter() - t0
    if not history["step"] or history["step"][-1] != step:
        evaluate_and_save()
    return model, history, chars, val_ids


def plot_losses(history, path):
    """Train and validation loss against steps (skipped without matplotlib)."""
    plt = pyplot()
    if plt is None:
        return None
    fig, ax = plt.subplots(figsize=(6, 4))
    ax.plot(history["step"], history["train_loss"], label="train")
    ax.plot(history["step"], history["val_loss"], label="validation")
    ax.axhline(1.75, color="gray", ls="--", lw=0.8, label="target 1.75")
    ax.set(xlabel="step (batch 16 x 64 characters)", ylabel="cross-entropy (nats/char)",
           title="character GPT on Tiny Shakespeare")
    ax.legend()
    ax.grid(alpha=0.3)
    return save_figure(plt, fig, path)


def plot_attention(model, ids, chars, path, layer=None, length=40):
    """The attention probabilities of every head of one layer on a line of the validation text."""
    plt = pyplot()
    if plt is None:
        return None
    length = min(length, model.config.block_size, len(ids))
    x = ag.from_numpy(ids[None, :length])
    maps = model.attention_maps(x)
    layer = len(maps) - 1 if layer is None else layer
    att = maps[layer][0]                                                  # (n_head, T, T)
    labels = [repr(chars[i])[1:-1] for i in ids[:length]]
    H = att.shape[0]
    fig, axes = plt.subplots(1, H, figsize=(3.2 * H, 3.6))
    for h, ax in enumerate(np.atleast_1d(axes)):
        ax.imshow(att[h], cmap="viridis", vmin=0, vmax=1)
        ax.set_xticks(range(length))
        ax.set_yticks(range(length))
        ax.set_xticklabels(labels, fontsize=4)
        ax.set_yticklabels(labels, fontsize=4)
        ax.set_title(f"layer {layer}, head {h}", fontsize=8)
        ax.set_xlabel("key (attended-to character)", fontsize=6)
    np.atleast_1d(axes)[0].set_ylabel("query (position predicting the next char)", fontsize=6)
    return save_figure(plt, fig, path, dpi=110)


def main(argv=None):
    """Train, sample and plot; return the history with 'sample' and 'figures'."""
    args = parse_args(argv)
    model, history, chars, val_ids = train(args)
    model.eval()
    start = ag.from_numpy(val_ids[None, :1])
    out = model.generate(start, args.sample_chars, temperature=args.temperature, top_k=args.top_k,
                         generator=ag.Generator().manual_seed(args.seed))
    sample = "".join(chars[i] for i in out[0].tolist())
    with open(os.path.join(args.out, "sample.txt"), "w", encoding="utf-8") as f:
        f.write(sample)
    print("---- sample ----")
    print(sample)
    print("----------------")
    figures = [plot_losses(history, os.path.join(args.out, "loss.png")),
               plot_attention(model, val_ids, chars, os.path.join(args.out, "attention.png"))]
    with open(os.path.join(args.out, "metrics.json"), "w") as f:
        json.dump(history, f, indent=1)
    print(f"final validation loss {history['val_loss'][-1]:.4f} after {history['step'][-1]} steps "
          f"({history['seconds'][-1] / 60:.1f} min)")
    history = dict(history)
    history["sample"] = sample
    history["figures"] = [f for f in figures if f]
    return history


if __name__ == "__main__":
    main()
