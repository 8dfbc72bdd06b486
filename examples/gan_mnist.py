"""A generative adversarial network on MNIST: the course's algorithm, k discriminator steps per generator step.

    python examples/gan_mnist.py --data-dir ../shared/data                 # MLP GAN, non-saturating loss
    python examples/gan_mnist.py --loss saturating                         # the slides' min ln(1 - D(G(z)))
    python examples/gan_mnist.py --arch dcgan --epochs 30                  # ConvTranspose2d + BatchNorm
    python examples/gan_mnist.py --loss wgan-gp --k 5 --beta1 0.5 --beta2 0.9   # gradient penalty
    python examples/gan_mnist.py --resume                                  # continue from the checkpoint

The algorithm (COURSE.md 1.11, Goodfellow et al. 2014): per iteration, k times: a real minibatch x and
noise z, W_D := W_D - lr grad E with E = -mean[ln D(x) + ln(1 - D(G(z)))] (binary cross-entropy on
logits, G(z) detached so the step touches only D); then fresh noise and one generator step.
Generator losses: 'saturating' is the slide's, minimise mean ln(1 - D(G(z))) (its gradient vanishes
while D confidently rejects the fakes, i.e. early on); 'non-saturating' (default, not on the slides)
minimises -mean ln D(G(z)), the same fixed point with strong early gradients. 'wgan-gp' replaces both
by the Wasserstein critic loss mean D(G(z)) - mean D(x) + lambda mean(|grad_x D(x_hat)| - 1)^2, the
penalty taken at random points between real and fake images with ag.grad(..., create_graph=True),
so the critic step differentiates a gradient (the critic then has no BatchNorm: the penalty is per
sample). The Adam optimisers only ever step their own network's parameters.

Images are scaled to [-1, 1] (the generator ends in Tanh). Samples are scored by generative.py's
cached MNIST classifier: confidence (mean top-class probability) and diversity (entropy of the
predicted-digit histogram, at most ln 10 = 2.30 nats). Writes to --out: samples_NNN.png (a fixed
noise batch after each epoch), checkpoint.ag (both networks, both optimisers, the random states),
metrics.json (per epoch losses, D outputs and scores), curves.png. --resume continues bit for bit.
"""
import argparse
import json
import os
import sys
import time

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), ".."))
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

import autograd_core as ag  # noqa: E402
import nn  # noqa: E402
import nn.functional as F  # noqa: E402
import optim  # noqa: E402
from common import progress, pyplot, read_checkpoint, save_figure, say  # noqa: E402
from generative import load_mnist_pm1, load_scorer, save_grid, score  # noqa: E402
from nn.data import DataLoader, TensorDataset  # noqa: E402

LOSSES = ("non-saturating", "saturating", "wgan-gp")


def parse_args(argv=None):
    """Command-line options."""
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--arch", choices=("mlp", "dcgan"), default="mlp")
    p.add_argument("--loss", choices=LOSSES, default="non-saturating", help="generator/critic loss")
    p.add_argument("--k", type=int, default=1, help="discriminator steps per generator step (the course's k)")
    p.add_argument("--epochs", type=int, default=100, help="passes of the discriminator over the training images")
    p.add_argument("--batch-size", type=int, default=64)
    p.add_argument("--latent", type=int, default=64, help="size of the noise z ~ N(0, I)")
    p.add_argument("--hidden", type=int, default=256, help="mlp width (G: z-h-2h-784, D: 784-2h-h-1)")
    p.add_argument("--dropout", type=float, default=0.0, help="mlp: dropout after each hidden activation of D")
    p.add_argument("--channels", type=int, default=32, help="dcgan channels at 14x14 (twice that at 7x7)")
    p.add_argument("--lr", type=float, default=2e-4)
    p.add_argument("--beta1", type=float, default=0.5)
    p.add_argument("--beta2", type=float, default=0.999)
    p.add_argument("--gp-weight", type=float, default=10.0, help="lambda of the WGAN-GP penalty")
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--data-dir", default=None, help="folder holding mnist/ (else $AUTOGRAD_DATA or download)")
    p.add_argument("--out", default="runs/gan_mnist")
    p.add_argument("--resume", action="store_true", help="continue from --out/checkpoint.ag")
    p.add_argument("--limit", type=int, default=None, help="use only this many training images (smoke tests)")
    p.add_argument("--score-samples", type=int, default=10000, help="generated images scored at the end")
    p.add_argument("--scorer-cache", default=None,
                   help="scorer checkpoint (default ~/.cache/autograd_core/...; --out/scorer.ag with --limit)")
    p.add_argument("--quiet", action="store_true", help="no progress bars")
    args = p.parse_args(argv)
    if args.k < 1:
        p.error(f"--k must be >= 1, got {args.k}")
    return args


def make_mlp(latent, hidden, dropout=0.0):
    """(G, D): G z (N, latent) -> (N, 1, 28, 28) in [-1, 1]; D (N, 1, 28, 28) -> (N, 1) logits.

    G has BatchNorm1d after its hidden layers (DCGAN's advice, Radford et al. 2016): on the 5,000
    images it keeps D from winning early and lifts diversity (the same G without it dropped the 0s).
    dropout: in D after each hidden activation (Goodfellow et al.'s MNIST discriminator used it).
    """
    G = nn.Sequential(
        nn.Linear(latent, hidden, bias=False), nn.BatchNorm1d(hidden), nn.LeakyReLU(0.2),
        nn.Linear(hidden, 2 * hidden, bias=False), nn.BatchNorm1d(2 * hidden), nn.LeakyReLU(0.2),
        nn.Linear(2 * hidden, 784), nn.Tanh(), nn.Unflatten(1, (1, 28, 28)),
    )
    D = nn.Sequential(
        nn.Flatten(),
        nn.Linear(784, 2 * hidden), nn.LeakyReLU(0.2), nn.Dropout(dropout),
        nn.Linear(2 * hidden, hidden), nn.LeakyReLU(0.2), nn.Dropout(dropout),
        nn.Linear(hidden, 1),
    )
    return G, D


def make_dcgan(latent, ch, batch_norm_d=True):
    """(G, D), DCGAN-style (Radford et al. 2016): G upsamples 7 -> 14 -> 28 with ConvTranspose2d + BatchNorm.

    ch: channels of the 14x14 stage (2 ch at 7x7). batch_norm_d=False for WGAN-GP (the penalty is per sample).
    """
    G = nn.Sequential(
        nn.Linear(latent, 2 * ch * 7 * 7, bias=False), nn.BatchNorm1d(2 * ch * 7 * 7), nn.ReLU(),
        nn.Unflatten(1, (2 * ch, 7, 7)),                                             # (N, 2ch, 7, 7)
        nn.ConvTranspose2d(2 * ch, ch, 4, stride=2, padding=1, bias=False), nn.BatchNorm2d(ch), nn.ReLU(),
        nn.ConvTranspose2d(ch, 1, 4, stride=2, padding=1), nn.Tanh(),                # (N, 1, 28, 28)
    )
    D = nn.Sequential(
        nn.Conv2d(1, ch, 4, stride=2, padding=1), nn.LeakyReLU(0.2),                 # (N, ch, 14, 14)
        nn.Conv2d(ch, 2 * ch, 4, stride=2, padding=1, bias=not batch_norm_d),        # (N, 2ch, 7, 7)
        *([nn.BatchNorm2d(2 * ch)] if batch_norm_d else []), nn.LeakyReLU(0.2),
        nn.Flatten(), nn.Linear(2 * ch * 7 * 7, 1),
    )
    return G, D


def gradient_penalty(critic, real, fake, generator=None):
    """WGAN-GP's mean (|grad_x critic(x_hat)|_2 - 1)^2 at x_hat = eps real + (1 - eps) fake, eps ~ U(0, 1) per sample.

    critic: any callable (N, ...) -> (N, 1). The gradient is taken with create_graph=True, so the
    penalty is itself differentiable with respect to the critic's parameters (a gradient of a gradient).
    """
    if real.shape != fake.shape:
        raise ValueError(f"gradient_penalty: real and fake must have the same shape, got {tuple(real.shape)} "
                         f"and {tuple(fake.shape)}")
    eps = ag.rand(len(real), *([1] * (real.dim() - 1)), dtype=real.dtype, generator=generator)
    x_hat = (eps * real.detach() + (1 - eps) * fake.detach()).requires_grad_()
    (grad,) = ag.grad(critic(x_hat).sum(), x_hat, create_graph=True)
    # why + 1e-12: the norm's derivative is grad/|grad|, undefined where a sample's gradient vanishes
    norm = ((grad * grad).reshape(len(real), -1).sum(dim=1) + 1e-12).sqrt()
    return ((norm - 1) ** 2).mean()


def discriminator_loss(D, real, fake, args, generator=None):
    """The discriminator's (critic's) loss on a real batch and a detached fake batch."""
    fake = fake.detach()
    real_out, fake_out = D(real), D(fake)
    if args.loss == "wgan-gp":
        loss = fake_out.mean() - real_out.mean() + args.gp_weight * gradient_penalty(D, real, fake, generator)
    else:
        # E = -mean[ln D(x) + ln(1 - D(G(z)))]: BCE with target 1 on real, 0 on fake
        loss = (F.binary_cross_entropy_with_logits(real_out, ag.ones_like(real_out))
                + F.binary_cross_entropy_with_logits(fake_out, ag.zeros_like(fake_out)))
    return loss, real_out, fake_out


def generator_loss(D, fake, loss_kind):
    """The generator's loss on D's verdict about fresh fakes (gradients flow through D into G)."""
    out = D(fake)
    if loss_kind == "saturating":
        # the slide's: minimise mean ln(1 - D(G(z))) = -BCE(out, 0)
        return -F.binary_cross_entropy_with_logits(out, ag.zeros_like(out))
    if loss_kind == "non-saturating":
        return F.binary_cross_entropy_with_logits(out, ag.ones_like(out))
    return -out.mean()


def d_step(G, D, opt_d, real, args, noise=None):
    """One discriminator step on a real batch and G's fakes; returns (loss, mean D(x), mean D(G(z))) as floats.

    The fakes are made without a graph (and detached), so the step fills no gradient in G; opt_d steps only D.
    D(x), D(G(z)) are probabilities, or the critic's raw scores for wgan-gp.
    """
    with ag.no_grad():   # why: D's step needs G's images, not G's graph (discriminator_loss detaches too)
        fake = G(ag.randn(len(real), args.latent, generator=noise))
    loss, real_out, fake_out = discriminator_loss(D, real, fake, args, noise)
    opt_d.zero_grad()
    loss.backward()
    opt_d.step()
    if args.loss != "wgan-gp":
        real_out, fake_out = F.sigmoid(real_out), F.sigmoid(fake_out)
    return loss.item(), real_out.mean().item(), fake_out.mean().item()


def g_step(G, D, opt_g, args, noise=None):
    """One generator step on fresh noise through D; returns the loss as a float.

    The gradient flows through D into G and also lands in D's .grad; opt_g steps only G, and the next
    d_step's zero_grad clears D's (D is not changed by it: frozen, as the course's algorithm asks).
    """
    loss = generator_loss(D, G(ag.randn(args.batch_size, args.latent, generator=noise)), args.loss)
    opt_g.zero_grad()
    loss.backward()
    opt_g.step()
    return loss.item()


def build(args):
    """(G, D, opt_g, opt_d) for args, seeded."""
    ag.manual_seed(args.seed)
    if args.arch == "mlp":
        G, D = make_mlp(args.latent, args.hidden, args.dropout)
    else:
        G, D = make_dcgan(args.latent, args.channels, batch_norm_d=args.loss != "wgan-gp")
    opt_g = optim.Adam(G.parameters(), lr=args.lr, betas=(args.beta1, args.beta2))
    opt_d = optim.Adam(D.parameters(), lr=args.lr, betas=(args.beta1, args.beta2))
    return G, D, opt_g, opt_d


@ag.no_grad()
def sample(G, z, batch_size=1000):
    """G(z) in eval mode (BatchNorm uses its running statistics), in batches; G is left as it was."""
    was_training = G.training
    G.eval()
    out = ag.cat([G(z[i:i + batch_size]) for i in range(0, len(z), batch_size)])
    G.train(was_training)
    return out


def train(args):
    """Train; checkpoint, sample grid and quick score after every epoch. Returns (G, D, history, scorer)."""
    (train_x, train_y), _ = load_mnist_pm1(args.data_dir, args.limit)
    cache = args.scorer_cache or (os.path.join(args.out, "scorer.ag") if args.limit else None)
    scorer = load_scorer(train_x, train_y, cache, quiet=args.quiet)
    G, D, opt_g, opt_d = build(args)
    noise = ag.Generator().manual_seed(args.seed + 1)
    fixed_z = ag.randn(64, args.latent, generator=ag.Generator().manual_seed(1234))
    quick_z = ag.randn(1000, args.latent, generator=ag.Generator().manual_seed(4321))
    loader = DataLoader(TensorDataset(train_x), batch_size=args.batch_size, shuffle=True, drop_last=True,
                        generator=ag.Generator().manual_seed(args.seed))
    if len(loader) == 0:
        raise SystemExit(f"gan_mnist: {len(train_x)} training images, fewer than one batch of {args.batch_size}")
    os.makedirs(args.out, exist_ok=True)
    ckpt_path = os.path.join(args.out, "checkpoint.ag")
    keys = ("epoch", "loss_d", "loss_g", "d_real", "d_fake", "confidence", "diversity", "seconds")
    history, start_epoch, d_steps = {k: [] for k in keys}, 0, 0
    if args.resume:
        ckpt = read_checkpoint(ckpt_path)
        G.load_state_dict(ckpt["G"])
        D.load_state_dict(ckpt["D"])
        opt_g.load_state_dict(ckpt["opt_g"])
        opt_d.load_state_dict(ckpt["opt_d"])
        loader.generator.set_state(ckpt["loader_rng"])
        noise.set_state(ckpt["noise_rng"])
        ag.default_generator.set_state(ckpt["global_rng"])      # dropout draws from it
        history, start_epoch, d_steps = ckpt["history"], ckpt["epoch"], ckpt["d_steps"]
        say(f"resumed from {ckpt_path} after epoch {start_epoch}")
    for epoch in range(start_epoch + 1, args.epochs + 1):
        t0 = time.perf_counter()
        sums = {"loss_d": 0.0, "loss_g": 0.0, "d_real": 0.0, "d_fake": 0.0}
        n_d = n_g = 0
        for (real,) in progress(loader, f"epoch {epoch}/{args.epochs}", args.quiet, total=len(loader)):
            # k discriminator steps, each on its own real minibatch and fresh noise, then one G step
            loss_d, d_real, d_fake = d_step(G, D, opt_d, real, args, noise)
            d_steps += 1
            n_d += 1
            sums["loss_d"] += loss_d
            sums["d_real"] += d_real
            sums["d_fake"] += d_fake
            if d_steps % args.k == 0:
                sums["loss_g"] += g_step(G, D, opt_g, args, noise)
                n_g += 1
        seconds = time.perf_counter() - t0
        conf, div, _ = score(scorer, sample(G, quick_z))
        row = {"epoch": epoch, "loss_d": sums["loss_d"] / n_d, "loss_g": sums["loss_g"] / max(n_g, 1),
               "d_real": sums["d_real"] / n_d, "d_fake": sums["d_fake"] / n_d, "confidence": conf,
               "diversity": div, "seconds": seconds}
        for k in keys:
            history[k].append(row[k])
        say(f"epoch {epoch:3d}  loss D {row['loss_d']:.3f}  loss G {row['loss_g']:.3f}  "
            f"D(x) {row['d_real']:.3f}  D(G(z)) {row['d_fake']:.3f}  confidence {conf:.3f}  "
            f"diversity {div:.3f}  ({seconds:.1f} s)")
        save_grid(sample(G, fixed_z), os.path.join(args.out, f"samples_{epoch:03d}.png"), nrow=8,
                  title=f"epoch {epoch}")
        ag.save({"G": G.state_dict(), "D": D.state_dict(), "opt_g": opt_g.state_dict(),
                 "opt_d": opt_d.state_dict(), "epoch": epoch, "d_steps": d_steps, "history": history,
                 "loader_rng": loader.generator.get_state(), "noise_rng": noise.get_state(),
                 "global_rng": ag.default_generator.get_state()}, ckpt_path)
    return G, D, history, scorer


def plot_curves(history, path):
    """Losses and the two scores per epoch (skipped without matplotlib)."""
    plt = pyplot()
    if plt is None or not history["epoch"]:
        return None
    fig, (ax1, ax2) = plt.subplots(1, 2, figsize=(10, 3.6))
    ax1.plot(history["epoch"], history["loss_d"], label="D")
    ax1.plot(history["epoch"], history["loss_g"], label="G")
    ax1.set(xlabel="epoch", ylabel="loss", title="losses")
    ax2.plot(history["epoch"], history["confidence"], label="confidence")
    ax2.plot(history["epoch"], history["diversity"], label="diversity (nats)")
    ax2.axhline(2.302585, color="grey", lw=0.8, ls="--")
    ax2.set(xlabel="epoch", title="sample scores (1,000 samples)")
    for ax in (ax1, ax2):
        ax.legend()
        ax.grid(alpha=0.3)
    return save_figure(plt, fig, path)


def main(argv=None):
    """Train, then score --score-samples fresh samples; print and return the history with 'final' scores."""
    args = parse_args(argv)
    t0 = time.perf_counter()
    G, D, history, scorer = train(args)
    z = ag.randn(args.score_samples, args.latent, generator=ag.Generator().manual_seed(args.seed + 99))
    conf, div, hist = score(scorer, sample(G, z))
    seconds = time.perf_counter() - t0
    print(f"final: {args.score_samples} samples  confidence {conf:.3f}  diversity {div:.3f} nats "
          f"(ln 10 = 2.303)  digits {hist.tolist()}  wall {seconds:.0f} s")
    result = dict(history)
    result["final"] = {"confidence": conf, "diversity": div, "histogram": hist.tolist(), "wall_s": seconds}
    with open(os.path.join(args.out, "metrics.json"), "w") as f:
        json.dump(result, f, indent=1)
    result["figures"] = [p for p in [plot_curves(history, os.path.join(args.out, "curves.png"))] if p]
    return result


if __name__ == "__main__":
    main()
