"""The generative examples: GAN steps, the WGAN-GP penalty, the VAE loss, the sample scorer, and smoke runs."""
import math
import os

import numpy as np
import pytest

import autograd_core as ag
import nn
import nn.functional as F
from test_examples import SHARED_DATA, load_example


gan = load_example("gan_mnist")
ae = load_example("autoencoder")
gen = load_example("generative")


def gan_args(**kw):
    """The script's defaults with kw overridden."""
    args = gan.parse_args([])
    for k, v in kw.items():
        setattr(args, k, v)
    return args


def params(module):
    return [p.detach().numpy().copy() for p in module.parameters()]


# ---- one GAN step ---------------------------------------------------------------------------------

GAN_CASES = [  # (arch, loss): every generator/critic loss, both architectures
    ("mlp", "non-saturating"),
    ("mlp", "saturating"),
    ("mlp", "wgan-gp"),
    ("dcgan", "non-saturating"),
    ("dcgan", "wgan-gp"),
]


@pytest.mark.parametrize("arch,loss", GAN_CASES)
def test_one_gan_step_changes_both_networks_and_the_d_step_leaves_g_alone(arch, loss):
    args = gan_args(arch=arch, loss=loss, latent=8, hidden=16, channels=4, batch_size=8)
    G, D, opt_g, opt_d = gan.build(args)
    noise = ag.Generator().manual_seed(0)
    real = ag.rand(8, 1, 28, 28, generator=ag.Generator().manual_seed(1)) * 2 - 1
    g0, d0 = params(G), params(D)

    gan.d_step(G, D, opt_d, real, args, noise)
    assert all(p.grad is None for p in G.parameters()), "the D step reached G's gradients"
    assert all(p.grad is not None for p in D.parameters())
    assert all(np.array_equal(a, b) for a, b in zip(g0, params(G))), "the D step changed G"
    moved = [not np.array_equal(a, b) for a, b in zip(d0, params(D))]
    if loss == "wgan-gp":
        # the critic's last bias adds to real and fake scores alike and has no input gradient: it cancels
        moved = moved[:-1]
    assert all(moved), "the D step left a D parameter unchanged"

    d1 = params(D)
    gan.g_step(G, D, opt_g, args, noise)
    assert all(p.grad is not None for p in G.parameters())
    # BatchNorm's running statistics may move (buffers), the parameters may not
    assert all(np.array_equal(a, b) for a, b in zip(d1, params(D))), "the G step changed D"
    assert all(not np.array_equal(a, b) for a, b in zip(g0, params(G))), "the G step left a G parameter unchanged"


def test_discriminator_loss_detaches_a_fake_that_has_a_graph():
    args = gan_args(latent=8, hidden=16)
    G, D, _, _ = gan.build(args)
    fake = G(ag.randn(4, 8))
    assert fake.requires_grad
    loss, _, _ = gan.discriminator_loss(D, ag.zeros(4, 1, 28, 28), fake, args)
    loss.backward()
    assert all(p.grad is None for p in G.parameters())
    assert all(p.grad is not None for p in D.parameters())


@pytest.mark.parametrize("kind,logit,expected", [
    # the loss G minimises at one logit l of D: saturating ln(1 - s(l)), non-saturating -ln s(l), wgan -l
    ("saturating", 0.0, math.log(0.5)),
    ("saturating", 2.0, math.log(1 - 1 / (1 + math.exp(-2.0)))),
    ("non-saturating", 0.0, -math.log(0.5)),
    ("non-saturating", -3.0, -math.log(1 / (1 + math.exp(3.0)))),
    ("wgan-gp", 1.5, -1.5),
])
def test_generator_losses_on_known_logits(kind, logit, expected):
    D = lambda x: x.reshape(len(x), -1)[:, :1]                               # noqa: E731
    fake = ag.full((3, 1, 28, 28), logit)
    assert gan.generator_loss(D, fake, kind).item() == pytest.approx(expected, rel=1e-5)


def test_saturating_loss_gradient_vanishes_where_d_rejects_the_fakes():
    """The slides' loss has a tiny gradient at D(G(z)) ~ 0; the non-saturating one does not (why it is the default)."""
    D = lambda x: x                                                          # noqa: E731
    grads = {}
    for kind in ("saturating", "non-saturating"):
        logit = ag.tensor([[-8.0]], requires_grad=True)
        gan.generator_loss(D, logit, kind).backward()
        grads[kind] = abs(logit.grad.item())
    assert grads["saturating"] < 1e-3 < 0.99 < grads["non-saturating"]


def test_discriminator_loss_is_the_courses_cross_entropy():
    """E = -mean[ln D(x) + ln(1 - D(G(z)))] with D given as logits."""
    args = gan_args()
    lr, lf = np.array([[0.3], [-1.2]]), np.array([[2.0], [-0.5]])
    real, fake = ag.tensor(lr), ag.tensor(lf)
    loss, _, _ = gan.discriminator_loss(lambda x: x, real, fake, args)
    sig = lambda v: 1 / (1 + np.exp(-v))                                     # noqa: E731
    expected = -np.mean(np.log(sig(lr))) - np.mean(np.log(1 - sig(lf)))
    assert loss.item() == pytest.approx(expected, rel=1e-6)


# ---- WGAN-GP gradient penalty ----------------------------------------------------------------------

def test_gradient_penalty_of_a_linear_critic_is_known():
    """D(x) = w . x has gradient w everywhere: the penalty is (|w| - 1)^2 whatever the points."""
    w = ag.tensor(np.array([[3.0, 4.0]]))
    critic = lambda x: x @ w.T                                               # noqa: E731
    real, fake = ag.randn(5, 2, dtype=ag.float64), ag.randn(5, 2, dtype=ag.float64)
    assert gan.gradient_penalty(critic, real, fake).item() == pytest.approx(16.0, rel=1e-9)


def test_gradient_penalty_gradient_matches_finite_differences():
    rng = np.random.default_rng(0)
    w0 = ag.tensor(rng.standard_normal((5, 6)) * 0.7, requires_grad=True)
    b0 = ag.tensor(rng.standard_normal(5) * 0.1, requires_grad=True)
    w1 = ag.tensor(rng.standard_normal((1, 5)), requires_grad=True)
    real, fake = ag.tensor(rng.standard_normal((4, 6))), ag.tensor(rng.standard_normal((4, 6)))

    def penalty(w0, b0, w1):
        critic = lambda x: F.linear(F.tanh(F.linear(x, w0, b0)), w1)         # noqa: E731
        # a fresh seeded generator: every evaluation interpolates at the same points
        return gan.gradient_penalty(critic, real, fake, ag.Generator().manual_seed(0))

    assert ag.gradcheck(penalty, (w0, b0, w1), eps=1e-6, atol=1e-6, rtol=1e-4)


@pytest.mark.parametrize("arch", ["mlp", "dcgan"])
def test_gradient_penalty_through_the_scripts_critics_matches_finite_differences(arch):
    """The real critics (LeakyReLU, Linear; Conv2d for dcgan) in float64: analytic vs central differences."""
    args = gan_args(arch=arch, loss="wgan-gp", latent=4, hidden=8, channels=2)
    _, D, _, _ = gan.build(args)
    D = D.double()
    rng = np.random.default_rng(1)
    real, fake = ag.tensor(rng.uniform(-1, 1, (3, 1, 28, 28))), ag.tensor(rng.uniform(-1, 1, (3, 1, 28, 28)))
    gp = lambda: gan.gradient_penalty(D, real, fake, ag.Generator().manual_seed(0))   # noqa: E731
    gp().backward()
    checked = 0
    for p in D.parameters():
        flat = p.detach().numpy().reshape(-1)        # a view: writing it moves the parameter
        # a piecewise-linear critic's input gradient does not depend on its biases (almost everywhere):
        # they are not in the penalty's graph, so no gradient; the differences below must then give 0
        analytic = p.grad.numpy().reshape(-1) if p.grad is not None else np.zeros(flat.size)
        for i in rng.choice(flat.size, size=min(4, flat.size), replace=False):
            old = flat[i]
            flat[i] = old + 1e-6             # (not under no_grad: the penalty itself needs a gradient)
            up = gp().item()
            flat[i] = old - 1e-6
            down = gp().item()
            flat[i] = old
            assert (up - down) / 2e-6 == pytest.approx(analytic[i], rel=1e-4, abs=1e-7)
            checked += 1
    assert checked >= 8
    assert all(p.grad is not None for p in D.parameters() if p.dim() >= 2)


def test_gradient_penalty_rejects_mismatched_batches():
    with pytest.raises(ValueError, match="gradient_penalty.*same shape"):
        gan.gradient_penalty(lambda x: x.sum(dim=1, keepdim=True), ag.zeros(4, 3), ag.zeros(5, 3))


def test_gradient_penalty_agrees_with_pytorch():
    torch = pytest.importorskip("torch")
    rng = np.random.default_rng(2)
    w0, w1 = rng.standard_normal((7, 6)), rng.standard_normal((1, 7))
    real, fake = rng.standard_normal((4, 6)), rng.standard_normal((4, 6))
    eps = ag.Generator().manual_seed(0)
    ours_w0 = ag.tensor(w0, requires_grad=True)
    ours = gan.gradient_penalty(lambda x: F.leaky_relu(x @ ours_w0.T, 0.2) @ ag.tensor(w1).T,
                                ag.tensor(real), ag.tensor(fake), eps)
    ours.backward()
    e = ag.rand(4, 1, dtype=ag.float64, generator=ag.Generator().manual_seed(0)).numpy()   # the penalty's draw
    tw0 = torch.tensor(w0, requires_grad=True)
    x_hat = (torch.tensor(e * real + (1 - e) * fake)).requires_grad_()
    (g,) = torch.autograd.grad((torch.nn.functional.leaky_relu(x_hat @ tw0.T, 0.2) @ torch.tensor(w1).T).sum(),
                               x_hat, create_graph=True)
    theirs = ((g.norm(dim=1) - 1) ** 2).mean()
    theirs.backward()
    assert ours.item() == pytest.approx(theirs.item(), rel=1e-9)
    np.testing.assert_allclose(ours_w0.grad.numpy(), tw0.grad.numpy(), rtol=1e-7, atol=1e-10)


# ---- VAE loss and reparameterisation ---------------------------------------------------------------

VAE_CASES = [  # (mu, logvar, expected KL per image): -1/2 sum(1 + logvar - mu^2 - exp(logvar))
    (np.zeros((2, 3)), np.zeros((2, 3)), 0.0),
    (np.ones((2, 3)), np.zeros((2, 3)), 1.5),
    (np.zeros((1, 2)), np.full((1, 2), math.log(4.0)), 3.0 - math.log(4.0)),
    (np.array([[2.0, 0.0]]), np.array([[0.0, -1.0]]), 2.0 + 0.5 * math.exp(-1.0)),
]


@pytest.mark.parametrize("mu,logvar,kl", VAE_CASES)
def test_vae_loss_terms_on_known_inputs(mu, logvar, kl):
    n = len(mu)
    x = np.tile(np.array([0.0, 1.0, 0.5, 0.25]), (n, 1, 28, 7))          # any x: at logit 0 BCE is ln 2
    total, recon, kl_term = ae.vae_loss(ag.zeros(n, 1, 28, 28), ag.tensor(x, dtype=ag.float32),
                                        ag.tensor(mu), ag.tensor(logvar))
    assert recon.item() == pytest.approx(784 * math.log(2.0), rel=1e-5)
    assert kl_term.item() == pytest.approx(kl, rel=1e-6, abs=1e-9)
    assert total.item() == pytest.approx(recon.item() + kl_term.item(), rel=1e-6)


def test_vae_kl_case_table_is_the_closed_form():
    """Guards the hand-written row above: its KL equals the formula term by term."""
    mu, logvar = np.array([2.0, 0.0]), np.array([0.0, -1.0])
    assert VAE_CASES[3][2] == pytest.approx(-0.5 * np.sum(1 + logvar - mu ** 2 - np.exp(logvar)))


def test_vae_reconstruction_term_on_confident_logits():
    """Logit +20 where x = 1 and -20 where x = 0 costs almost nothing; the other way round ~ 20 per pixel."""
    x = ag.tensor(np.tile([0.0, 1.0], (1, 1, 28, 14)), dtype=ag.float32)
    right, wrong = (x * 2 - 1) * 20, (1 - x * 2) * 20
    z = ag.zeros(1, 2)
    assert ae.vae_loss(right, x, z, z)[1].item() < 1e-4
    assert ae.vae_loss(wrong, x, z, z)[1].item() == pytest.approx(784 * 20, rel=1e-3)


def test_reparameterize_is_mu_plus_sigma_eps_with_gradients():
    mu = ag.tensor(np.array([[1.0, -2.0]]), requires_grad=True)
    logvar = ag.tensor(np.array([[0.0, math.log(9.0)]]), requires_grad=True)
    z = ae.reparameterize(mu, logvar, ag.Generator().manual_seed(3))
    eps = ag.randn(1, 2, dtype=ag.float64, generator=ag.Generator().manual_seed(3)).numpy()
    np.testing.assert_allclose(z.detach().numpy(), mu.detach().numpy() + np.array([[1.0, 3.0]]) * eps, rtol=1e-12)
    z.sum().backward()
    np.testing.assert_allclose(mu.grad.numpy(), [[1.0, 1.0]])
    np.testing.assert_allclose(logvar.grad.numpy(), 0.5 * np.array([[1.0, 3.0]]) * eps, rtol=1e-12)


def test_vae_loss_rejects_mismatched_shapes():
    with pytest.raises(ValueError, match="vae_loss.*same shape"):
        ae.vae_loss(ag.zeros(2, 1, 28, 28), ag.zeros(2, 784), ag.zeros(2, 2), ag.zeros(2, 2))
    with pytest.raises(ValueError, match="vae_loss.*mu and logvar"):
        ae.vae_loss(ag.zeros(2, 784), ag.zeros(2, 784), ag.zeros(2, 2), ag.zeros(2, 3))


# ---- the sample scorer -----------------------------------------------------------------------------

class FixedLogits(nn.Module):
    """A stand-in classifier: returns the given logits row by row, whatever the image."""

    def __init__(self, logits):
        super().__init__()
        self.logits = ag.tensor(np.asarray(logits, dtype=np.float32))

    def forward(self, x):
        return self.logits[:len(x)]


@pytest.mark.parametrize("logits,confidence,diversity", [
    (np.eye(10) * 50, 1.0, math.log(10)),                        # ten confident digits, one of each
    (np.tile(np.eye(10)[3] * 50, (10, 1)), 1.0, 0.0),              # collapsed onto one digit
    (np.zeros((4, 10)), 0.1, 0.0),                                  # ties: argmax 0 every time
    (np.eye(10)[[1, 1, 2, 2]] * 50, 1.0, math.log(2)),             # two digits, equally often
])
def test_score_on_known_predictions(logits, confidence, diversity):
    conf, div, hist = gen.score(FixedLogits(logits), ag.zeros(len(logits), 1, 28, 28))
    assert conf == pytest.approx(confidence, rel=1e-5)
    assert div == pytest.approx(diversity, abs=1e-9)
    assert hist.sum() == len(logits) and hist.shape == (10,)


def test_score_rejects_no_images():
    with pytest.raises(ValueError, match="score"):
        gen.score(FixedLogits(np.eye(10)), ag.zeros(0, 1, 28, 28))


def test_tile_lays_images_out_row_by_row():
    imgs = np.arange(5, dtype=np.float32)[:, None, None] * np.ones((5, 28, 28), np.float32)
    grid = gen.tile(imgs, nrow=3)
    assert grid.shape == (56, 84)
    assert grid[0, 0] == 0 and grid[0, 28] == 1 and grid[0, 56] == 2 and grid[28, 0] == 3 and grid[28, 28] == 4
    assert grid[28, 56] == -1                                   # the unfilled cell is black


def test_scorer_on_real_test_digits(tmp_path):
    """The CNN scorer trained inside the test (5,000 images, 4 epochs, seed 0): real digits score high.

    Measured: confidence 0.960, diversity 2.299 nats (ln 10 = 2.303); uniform noise: 0.52 and 0.74.
    """
    (train_x, train_y), (test_x, test_y) = gen.load_mnist_pm1(SHARED_DATA)
    cache = str(tmp_path / "scorer.ag")
    scorer = gen.load_scorer(train_x, train_y, cache)
    assert os.path.exists(cache)
    conf, div, hist = gen.score(scorer, test_x)
    assert conf >= 0.95, conf
    assert div >= 2.25, div
    # the cache gives back the same classifier
    again = gen.load_scorer(None, None, cache)
    assert gen.score(again, test_x[:500])[0] == pytest.approx(gen.score(scorer, test_x[:500])[0], rel=1e-6)
    # and it is a judge: pure noise is not a confident digit collection
    noise = ag.rand(1000, 1, 28, 28, generator=ag.Generator().manual_seed(0)) * 2 - 1
    n_conf, n_div, _ = gen.score(scorer, noise)
    assert n_div < 1.5 and n_conf < 0.8, (n_conf, n_div)


# ---- smoke runs of the scripts ---------------------------------------------------------------------

@pytest.fixture(scope="module")
def scorer_cache(tmp_path_factory):
    """One small scorer (256 images) shared by the GAN smoke runs."""
    path = str(tmp_path_factory.mktemp("scorer") / "scorer.ag")
    (train_x, train_y), _ = gen.load_mnist_pm1(SHARED_DATA, limit=256)
    gen.load_scorer(train_x, train_y, path)
    return path


SMOKE = [  # GAN command lines: every architecture and loss, and k > 1
    ["--arch", "mlp"],
    ["--arch", "mlp", "--loss", "saturating", "--k", "2"],
    ["--arch", "dcgan", "--channels", "4"],
    ["--arch", "mlp", "--loss", "wgan-gp", "--k", "2", "--beta2", "0.9"],
    ["--arch", "dcgan", "--channels", "4", "--loss", "wgan-gp"],
]


@pytest.mark.parametrize("extra", SMOKE, ids=[" ".join(e) for e in SMOKE])
def test_gan_mnist_smoke(tmp_path, scorer_cache, extra):
    result = gan.main(["--data-dir", SHARED_DATA, "--out", str(tmp_path), "--quiet", "--limit", "128",
                       "--epochs", "1", "--hidden", "32", "--latent", "16", "--score-samples", "100",
                       "--scorer-cache", scorer_cache] + extra)
    assert result["epoch"] == [1]
    assert all(math.isfinite(result[k][0]) for k in ("loss_d", "loss_g", "d_real", "d_fake"))
    assert 0.0 <= result["final"]["diversity"] <= math.log(10) + 1e-9
    assert 0.0 < result["final"]["confidence"] <= 1.0
    assert os.path.exists(tmp_path / "checkpoint.ag") and os.path.exists(tmp_path / "metrics.json")
    pytest.importorskip("matplotlib")
    assert os.path.getsize(tmp_path / "samples_001.png") > 0 and os.path.getsize(tmp_path / "curves.png") > 0


def test_gan_mnist_resume_continues_exactly(tmp_path, scorer_cache):
    common = ["--data-dir", SHARED_DATA, "--quiet", "--limit", "128", "--hidden", "32", "--latent", "16",
              "--score-samples", "100", "--scorer-cache", scorer_cache]
    gan.main(common + ["--out", str(tmp_path / "a"), "--epochs", "1"])
    resumed = gan.main(common + ["--out", str(tmp_path / "a"), "--epochs", "2", "--resume"])
    straight = gan.main(common + ["--out", str(tmp_path / "b"), "--epochs", "2"])
    assert resumed["epoch"] == [1, 2]
    assert resumed["loss_d"] == straight["loss_d"] and resumed["loss_g"] == straight["loss_g"]
    assert resumed["final"] == {**straight["final"], "wall_s": resumed["final"]["wall_s"]}


def test_gan_mnist_rejects_bad_k():
    with pytest.raises(SystemExit):
        gan.parse_args(["--k", "0"])


@pytest.mark.parametrize("extra", [["--model", "mlp"], ["--model", "conv", "--denoise"],
                                   ["--model", "vae", "--latent", "2"], ["--model", "mlp", "--latent", "1"]])
def test_autoencoder_smoke(tmp_path, extra):
    result = ae.main(["--data-dir", SHARED_DATA, "--out", str(tmp_path), "--quiet", "--limit", "128",
                      "--epochs", "2", "--hidden", "32"] + extra)
    assert result["epoch"] == [1, 2]
    assert 0.0 < result["test_mse"] < 0.25
    if "--denoise" in extra:
        assert result["noisy_input_mse"] > 0
    pytest.importorskip("matplotlib")
    expected = 3 if "vae" in extra else 2
    assert len(result["figures"]) == expected and all(os.path.getsize(p) > 0 for p in result["figures"])


def test_autoencoder_learns_to_reconstruct(tmp_path):
    """Eight epochs on the 5,000 images already beat the best constant image (the mean digit) by far."""
    result = ae.main(["--data-dir", SHARED_DATA, "--out", str(tmp_path), "--quiet", "--epochs", "8"])
    (_, _), (test_x, _) = gen.load_mnist_pm1(SHARED_DATA)
    x = (test_x.numpy() + 1) / 2
    mean_image_mse = float(((x - x.mean(axis=0)) ** 2).mean())
    assert result["test_mse"] < 0.6 * mean_image_mse, (result["test_mse"], mean_image_mse)
