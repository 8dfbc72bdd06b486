"""GAN workload: one discriminator step and one generator step of the MLP GAN on MNIST-sized data."""
import numpy as np

from . import workload
from .nn import _stack


def _gan_data(rng, batch=64, latent=64, hidden=256):
    """Weights for G (64->256->784) and D (784->256->1), a real batch in [-1, 1] and two noise batches."""
    sizes = {"g0": (hidden, latent), "g1": (784, hidden), "d0": (hidden, 784), "d1": (1, hidden)}
    out = {k: rng.standard_normal(s, dtype=np.float32) / np.float32(np.sqrt(s[1])) for k, s in sizes.items()}
    out["x"] = rng.uniform(-1, 1, (batch, 784)).astype(np.float32)
    out["z1"] = rng.standard_normal((batch, latent), dtype=np.float32)
    out["z2"] = rng.standard_normal((batch, latent), dtype=np.float32)
    return out


@workload("gan", target=1.0, data=_gan_data)
def gan(lib, data):
    """G 64-256-784 (LeakyReLU 0.2, Tanh), D 784-256-1, batch 64, Adam(2e-4, (0.5, 0.999)): one D + one G step."""
    nn, F, optim, _, _ = _stack(lib)
    lib.manual_seed(0)
    G = nn.Sequential(nn.Linear(64, 256), nn.LeakyReLU(0.2), nn.Linear(256, 784), nn.Tanh())
    D = nn.Sequential(nn.Linear(784, 256), nn.LeakyReLU(0.2), nn.Linear(256, 1))
    with lib.no_grad():
        for layer, key in ((G[0], "g0"), (G[2], "g1"), (D[0], "d0"), (D[2], "d1")):
            layer.weight.copy_(lib.tensor(data[key]))
            layer.bias.zero_()
    opt_g = optim.Adam(G.parameters(), lr=2e-4, betas=(0.5, 0.999))
    opt_d = optim.Adam(D.parameters(), lr=2e-4, betas=(0.5, 0.999))
    x, z1, z2 = lib.tensor(data["x"]), lib.tensor(data["z1"]), lib.tensor(data["z2"])
    ones, zeros = lib.ones(64, 1), lib.zeros(64, 1)

    def step():
        # discriminator: real -> 1, fake -> 0; detach so G's graph is not built into D's loss
        fake = G(z1).detach()
        loss_d = (F.binary_cross_entropy_with_logits(D(x), ones)
                  + F.binary_cross_entropy_with_logits(D(fake), zeros))
        opt_d.zero_grad()
        loss_d.backward()
        opt_d.step()
        # generator (non-saturating): fake -> 1 through D; only G's optimizer steps
        loss_g = F.binary_cross_entropy_with_logits(D(G(z2)), ones)
        opt_g.zero_grad()
        loss_g.backward()
        opt_g.step()
    return step
