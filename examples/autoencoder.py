"""Autoencoders on MNIST: an MLP and a convolutional one, a denoising option, and a variational autoencoder.

    python examples/autoencoder.py --data-dir ../shared/data                  # MLP, 16-d code
    python examples/autoencoder.py --model conv                               # Conv2d / ConvTranspose2d
    python examples/autoencoder.py --model conv --denoise --noise 0.5         # noisy in, clean out
    python examples/autoencoder.py --model vae --latent 2                     # VAE, 2-d code, samples

An autoencoder x -> code -> x' is trained to give x' = x through a bottleneck (the course names PCA
as its linear baseline). Pixels are in [0, 1]; the decoder gives logits and is trained with binary
cross-entropy (sigmoid(logit) is the reconstruction). --denoise feeds clamp(x + noise * N(0, 1), 0, 1)
and still asks for the clean x. The VAE (Kingma & Welling 2014) encodes x to a Gaussian N(mu,
diag exp(logvar)), samples z = mu + exp(logvar / 2) * eps with eps ~ N(0, I) (the reparameterisation,
so gradients reach mu and logvar), and minimises the negative evidence lower bound per image:
sum over pixels of BCE(x' logits, x) + KL(N(mu, exp(logvar)) || N(0, I)); new digits are decoded
from z ~ N(0, I).

Reported: test reconstruction error = mean squared error per pixel between x and sigmoid(decoder)
on the 10,000 test images (denoising: from noisy inputs). Writes to --out: reconstructions.png (test
digits, their inputs when noisy, their reconstructions), latent.png (the test codes coloured by digit;
codes wider than 2 are projected on their two principal components), samples.png (VAE only),
metrics.json.
"""
import argparse
import json
import os
import sys
import time

import numpy as np

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), ".."))
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

import autograd_core as ag  # noqa: E402
import nn  # noqa: E402
import nn.functional as F  # noqa: E402
import optim  # noqa: E402
from common import progress, pyplot, save_figure, say  # noqa: E402
from generative import load_mnist_pm1, tile  # noqa: E402
from nn.data import DataLoader, TensorDataset  # noqa: E402


def parse_args(argv=None):
    """Command-line options."""
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--model", choices=("mlp", "conv", "vae"), default="mlp")
    p.add_argument("--latent", type=int, default=16, help="size of the code (2 shows it directly)")
    p.add_argument("--hidden", type=int, default=256, help="mlp/vae hidden width")
    p.add_argument("--denoise", action="store_true", help="train to remove Gaussian noise from the inputs")
    p.add_argument("--noise", type=float, default=0.5, help="standard deviation of the --denoise noise")
    p.add_argument("--epochs", type=int, default=30)
    p.add_argument("--batch-size", type=int, default=64)
    p.add_argument("--lr", type=float, default=1e-3)
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--data-dir", default=None, help="folder holding mnist/ (else $AUTOGRAD_DATA or download)")
    p.add_argument("--out", default="runs/autoencoder")
    p.add_argument("--limit", type=int, default=None, help="use only this many training images (smoke tests)")
    p.add_argument("--quiet", action="store_true", help="no progress bars")
    args = p.parse_args(argv)
    if args.latent < 1:
        p.error(f"--latent must be >= 1, got {args.latent}")
    return args


class AutoEncoder(nn.Module):
    """x (N, 1, 28, 28) -> encoder -> code (N, latent) -> decoder -> logits (N, 1, 28, 28)."""

    def __init__(self, encoder, decoder):
        super().__init__()
        self.encoder, self.decoder = encoder, decoder

    def encode(self, x):
        """The code (N, latent)."""
        return self.encoder(x)

    def forward(self, x):
        """Reconstruction logits (sigmoid gives pixels)."""
        return self.decoder(self.encoder(x))


class VAE(nn.Module):
    """Variational autoencoder with an MLP encoder to (mu, logvar) and an MLP decoder to pixel logits."""

    def __init__(self, latent=2, hidden=256):
        super().__init__()
        self.body = nn.Sequential(nn.Flatten(), nn.Linear(784, hidden), nn.ReLU())
        self.mu = nn.Linear(hidden, latent)
        self.logvar = nn.Linear(hidden, latent)
        self.decoder = nn.Sequential(nn.Linear(latent, hidden), nn.ReLU(), nn.Linear(hidden, 784),
                                     nn.Unflatten(1, (1, 28, 28)))

    def encode(self, x):
        """The posterior mean mu (N, latent): the code used for plots."""
        return self.mu(self.body(x))

    def forward(self, x, generator=None):
        """(reconstruction logits, mu, logvar), with z = mu + exp(logvar / 2) * eps sampled while training."""
        h = self.body(x)
        mu, logvar = self.mu(h), self.logvar(h)
        z = reparameterize(mu, logvar, generator) if self.training else mu
        return self.decoder(z), mu, logvar


def reparameterize(mu, logvar, generator=None):
    """z = mu + sigma * eps, eps ~ N(0, I), sigma = exp(logvar / 2): a sample whose gradient reaches mu and logvar."""
    return mu + (0.5 * logvar).exp() * ag.randn(*mu.shape, dtype=mu.dtype, generator=generator)


def vae_loss(logits, x, mu, logvar):
    """(loss, reconstruction, kl), each a mean over the batch of a per-image sum (the negative ELBO).

    reconstruction: sum over pixels of BCE(sigmoid(logits), x); kl: KL(N(mu, exp(logvar)) || N(0, I))
    = -1/2 sum(1 + logvar - mu^2 - exp(logvar)) over the code.
    """
    if logits.shape != x.shape:
        raise ValueError(f"vae_loss: logits and x must have the same shape, got {tuple(logits.shape)} and "
                         f"{tuple(x.shape)}")
    if mu.shape != logvar.shape:
        raise ValueError(f"vae_loss: mu and logvar must have the same shape, got {tuple(mu.shape)} and "
                         f"{tuple(logvar.shape)}")
    n = len(x)
    recon = F.binary_cross_entropy_with_logits(logits, x, reduction="sum") / n
    kl = -0.5 * (1 + logvar - mu * mu - logvar.exp()).sum() / n
    return recon + kl, recon, kl


def make_model(args):
    """The autoencoder that --model names."""
    if args.model == "vae":
        return VAE(args.latent, args.hidden)
    if args.model == "mlp":
        h = args.hidden
        encoder = nn.Sequential(nn.Flatten(), nn.Linear(784, h), nn.ReLU(), nn.Linear(h, h // 2), nn.ReLU(),
                                nn.Linear(h // 2, args.latent))
        decoder = nn.Sequential(nn.Linear(args.latent, h // 2), nn.ReLU(), nn.Linear(h // 2, h), nn.ReLU(),
                                nn.Linear(h, 784), nn.Unflatten(1, (1, 28, 28)))
        return AutoEncoder(encoder, decoder)
    encoder = nn.Sequential(
        nn.Conv2d(1, 16, 3, stride=2, padding=1), nn.ReLU(),                   # (N, 16, 14, 14)
        nn.Conv2d(16, 32, 3, stride=2, padding=1), nn.ReLU(),                  # (N, 32, 7, 7)
        nn.Flatten(), nn.Linear(32 * 7 * 7, args.latent),
    )
    decoder = nn.Sequential(
        nn.Linear(args.latent, 32 * 7 * 7), nn.ReLU(), nn.Unflatten(1, (32, 7, 7)),
        nn.ConvTranspose2d(32, 16, 4, stride=2, padding=1), nn.ReLU(),        # (N, 16, 14, 14)
        nn.ConvTranspose2d(16, 1, 4, stride=2, padding=1),                     # (N, 1, 28, 28) logits
    )
    return AutoEncoder(encoder, decoder)


def corrupt(x, std, generator=None):
    """clamp(x + std * N(0, 1), 0, 1): the denoising input."""
    return (x + std * ag.randn(*x.shape, generator=generator)).clamp(0, 1)


def loss_of(model, inputs, target, generator=None):
    """The training loss on one batch (BCE per pixel, mean; the VAE's negative ELBO per image)."""
    if isinstance(model, VAE):
        logits, mu, logvar = model(inputs, generator)
        return vae_loss(logits, target, mu, logvar)[0]
    return F.binary_cross_entropy_with_logits(model(inputs), target)


@ag.no_grad()
def reconstruct(model, x, batch_size=1000):
    """sigmoid(decoder(encoder(x))) in eval mode (the VAE decodes its mean code), in batches."""
    model.eval()
    outs = []
    for i in range(0, len(x), batch_size):
        out = model(x[i:i + batch_size])
        outs.append(F.sigmoid(out[0] if isinstance(out, tuple) else out))
    model.train()
    return ag.cat(outs)


@ag.no_grad()
def codes(model, x, batch_size=1000):
    """The codes (N, latent) of x as a NumPy array (the VAE's mu)."""
    model.eval()
    out = np.concatenate([model.encode(x[i:i + batch_size]).numpy() for i in range(0, len(x), batch_size)])
    model.train()
    return out


def plot_reconstructions(x, noisy, recon, path, n=10):
    """Rows: test digits, their noisy inputs (when denoising), their reconstructions."""
    plt = pyplot()
    if plt is None:
        return None
    rows = [x[:n]] + ([noisy[:n]] if noisy is not None else []) + [recon[:n]]
    grid = tile(np.concatenate([r.numpy() * 2 - 1 for r in rows]), n)
    fig, ax = plt.subplots(figsize=(n * 0.6, len(rows) * 0.65))
    ax.imshow(grid, cmap="gray", vmin=-1, vmax=1, interpolation="nearest")
    ax.axis("off")
    names = ["input", "noisy input", "reconstruction"] if noisy is not None else ["input", "reconstruction"]
    ax.set_title(" / ".join(names) + " (rows)", fontsize=8)
    return save_figure(plt, fig, path, dpi=90)


def plot_latent(z, y, path, title):
    """Codes (N, latent) as a scatter coloured by digit; wider codes projected on 2 principal components."""
    plt = pyplot()
    if plt is None:
        return None
    if z.shape[1] > 2:
        zc = z - z.mean(axis=0)
        _, _, vt = np.linalg.svd(zc, full_matrices=False)
        z, axes = zc @ vt[:2].T, ("PC 1", "PC 2")
    elif z.shape[1] == 2:
        axes = ("z1", "z2")
    else:
        z, axes = np.concatenate([z, np.zeros_like(z)], axis=1), ("z1", "")
    fig, ax = plt.subplots(figsize=(5.2, 4.4))
    sc = ax.scatter(z[:, 0], z[:, 1], c=y, cmap="tab10", s=2, vmin=-0.5, vmax=9.5)
    fig.colorbar(sc, ax=ax, ticks=range(10), label="digit")
    ax.set(xlabel=axes[0], ylabel=axes[1], title=title)
    return save_figure(plt, fig, path, dpi=90)


def plot_samples(model, latent, path, generator, n=64):
    """VAE: decode z ~ N(0, I) into a grid of new digits."""
    plt = pyplot()
    if plt is None:
        return None
    with ag.no_grad():
        imgs = F.sigmoid(model.decoder(ag.randn(n, latent, generator=generator))).numpy()
    fig, ax = plt.subplots(figsize=(4.5, 4.7))
    ax.imshow(tile(imgs * 2 - 1, 8), cmap="gray", vmin=-1, vmax=1, interpolation="nearest")
    ax.axis("off")
    ax.set_title("VAE samples, z ~ N(0, I)", fontsize=9)
    return save_figure(plt, fig, path, dpi=90)


def main(argv=None):
    """Train, report the test reconstruction error; return a dict of metrics (and 'figures')."""
    args = parse_args(argv)
    ag.manual_seed(args.seed)
    (train_x, _), (test_x, test_y) = load_mnist_pm1(args.data_dir, args.limit)
    train_x, test_x = (train_x + 1) / 2, (test_x + 1) / 2          # pixels in [0, 1]
    model = make_model(args)
    opt = optim.Adam(model.parameters(), lr=args.lr)
    noise = ag.Generator().manual_seed(args.seed + 1)
    loader = DataLoader(TensorDataset(train_x), batch_size=args.batch_size, shuffle=True,
                        generator=ag.Generator().manual_seed(args.seed))
    print(model)
    history = {"epoch": [], "train_loss": [], "seconds": []}
    t_start = time.perf_counter()
    for epoch in range(1, args.epochs + 1):
        t0 = time.perf_counter()
        total, seen = 0.0, 0
        for (xb,) in progress(loader, f"epoch {epoch}/{args.epochs}", args.quiet, total=len(loader)):
            inputs = corrupt(xb, args.noise, noise) if args.denoise else xb
            loss = loss_of(model, inputs, xb, noise)
            opt.zero_grad()
            loss.backward()
            opt.step()
            total += loss.item() * len(xb)
            seen += len(xb)
        for key, value in (("epoch", epoch), ("train_loss", total / seen), ("seconds", time.perf_counter() - t0)):
            history[key].append(value)
        say(f"epoch {epoch:2d}  train loss {total / seen:.4f}  ({history['seconds'][-1]:.1f} s)")
    test_in = corrupt(test_x, args.noise, ag.Generator().manual_seed(args.seed + 2)) if args.denoise else test_x
    recon = reconstruct(model, test_in)
    mse = ((recon - test_x) ** 2).mean().item()
    baseline = ((test_in - test_x) ** 2).mean().item() if args.denoise else None
    wall = time.perf_counter() - t_start
    msg = f"test reconstruction error (MSE per pixel, pixels in [0, 1]): {mse:.4f}"
    if baseline is not None:
        msg += f"  (noisy input itself: {baseline:.4f})"
    print(msg + f"  wall {wall:.0f} s")
    os.makedirs(args.out, exist_ok=True)
    name = args.model + ("+denoise" if args.denoise else "")
    figures = [
        plot_reconstructions(test_x, test_in if args.denoise else None, recon,
                             os.path.join(args.out, "reconstructions.png")),
        plot_latent(codes(model, test_in), test_y.numpy(), os.path.join(args.out, "latent.png"),
                    f"{name}: {args.latent}-d test codes"),
    ]
    if args.model == "vae":
        figures.append(plot_samples(model, args.latent, os.path.join(args.out, "samples.png"),
                                    ag.Generator().manual_seed(args.seed + 3)))
    result = dict(history, test_mse=mse, noisy_input_mse=baseline, wall_s=wall)
    with open(os.path.join(args.out, "metrics.json"), "w") as f:
        json.dump(result, f, indent=1)
    result["figures"] = [p for p in figures if p]
    return result


if __name__ == "__main__":
    main()
