"""The CNN examples (mnist_cnn, explain_cnn) on the real data, and the models of nn.models."""
import os
import sys

import numpy as np
import pytest

import autograd_core as ag
import nn
from test_examples import SHARED_DATA, load_example


# ---- examples/mnist_cnn.py -----------------------------------------------------------------------

def test_mnist_cnn_smoke(tmp_path):
    history = load_example("mnist_cnn").main(["--data-dir", SHARED_DATA, "--out", str(tmp_path), "--quiet",
                                              "--limit", "300", "--epochs", "1"])
    assert history["epoch"] == [1]
    assert 0.0 <= history["test_acc"][0] <= 1.0
    assert os.path.exists(tmp_path / "checkpoint.ag") and os.path.exists(tmp_path / "metrics.json")
    pytest.importorskip("matplotlib")
    for name in ("curves.png", "filters.png", "feature_maps.png"):
        assert os.path.getsize(tmp_path / name) > 0


def test_mnist_cnn_accuracy_on_the_real_data(tmp_path):
    """conv16-pool-conv32-pool-fc128, Adam from 1e-3, batch 64, 10 epochs on the 5,000 images, with the
    example's defaults (the course's 1-pixel displacement, cosine annealing): >= 97.8% for seeds 0 and 1.

    Measured: 98.17% and 98.40% (seeds 2-4: see docs/examples/mnist_cnn.md). The bare recipe gives
    ~97.5% (PyTorch 2.13 on this data: 97.5-97.9%), so the target is checked on each seed.
    """
    for seed in (0, 1):
        history = load_example("mnist_cnn").main(["--data-dir", SHARED_DATA, "--out", str(tmp_path / f"s{seed}"),
                                                  "--quiet", "--seed", str(seed)])
        assert len(history["test_acc"]) == 10
        assert history["test_acc"][-1] >= 0.978, (seed, history["test_acc"])
        assert history["lr"][0] == 1e-3 and history["lr"][-1] < 1e-4, history["lr"]


def test_mnist_cnn_resume_continues_exactly(tmp_path, monkeypatch):
    """A run interrupted during epoch 2 and resumed ends exactly as one straight run: the checkpoint
    restores the scheduler (cosine over the planned 3 epochs) and the generator of the displacements."""
    mnist_cnn = load_example("mnist_cnn")
    common_args = ["--data-dir", SHARED_DATA, "--quiet", "--limit", "200", "--epochs", "3"]
    straight = mnist_cnn.main(common_args + ["--out", str(tmp_path / "b")])
    shared = sys.modules["common"]
    evaluate, calls = shared.evaluate, []

    def interrupted_evaluate(*args, **kwargs):
        calls.append(1)
        if len(calls) == 2:
            raise KeyboardInterrupt  # in epoch 2, before its checkpoint
        return evaluate(*args, **kwargs)

    monkeypatch.setattr(shared, "evaluate", interrupted_evaluate)
    with pytest.raises(KeyboardInterrupt):
        mnist_cnn.main(common_args + ["--out", str(tmp_path / "a")])
    monkeypatch.setattr(shared, "evaluate", evaluate)
    resumed = mnist_cnn.main(common_args + ["--out", str(tmp_path / "a"), "--resume"])
    assert resumed["epoch"] == [1, 2, 3]
    for key in ("train_loss", "test_acc", "lr"):
        assert resumed[key] == straight[key], key
    assert straight["lr"][0] > straight["lr"][1] > straight["lr"][2] > 0


def _shift_of(moved, image, s, fill):
    """The (dy, dx) with |dy|, |dx| <= s that turns image into moved (padding with fill), or None."""
    h, w = image.shape[-2:]
    padded = np.full(image.shape[:-2] + (h + 2 * s, w + 2 * s), fill, dtype=image.dtype)
    padded[..., s:s + h, s:s + w] = image
    for dy in range(-s, s + 1):
        for dx in range(-s, s + 1):
            if np.array_equal(padded[..., s - dy:s - dy + h, s - dx:s - dx + w], moved):
                return dy, dx
    return None


@pytest.mark.parametrize("max_shift, channels", [(1, 1), (2, 1), (1, 3)])
def test_random_shift_moves_each_image_by_its_own_displacement(max_shift, channels):
    common = load_example("common")
    rng = np.random.default_rng(0)
    x = rng.random((200, channels, 6, 5)).astype(np.float32) + 1.0   # no pixel equals the fill
    out = common.random_shift(ag.tensor(x), max_shift, ag.Generator().manual_seed(0), -1.0).numpy()
    assert out.shape == x.shape and out.dtype == np.float32
    shifts = [_shift_of(out[i], x[i], max_shift, -1.0) for i in range(len(x))]
    assert None not in shifts
    # every displacement in the square occurs (200 draws from (2s+1)^2 equally likely ones)
    assert len(set(shifts)) == (2 * max_shift + 1) ** 2
    again = common.random_shift(ag.tensor(x), max_shift, ag.Generator().manual_seed(0), -1.0).numpy()
    assert np.array_equal(out, again)  # seeded


def test_random_shift_of_zero_is_the_identity():
    common = load_example("common")
    x = ag.randn(4, 1, 5, 5)
    assert common.random_shift(x, 0, ag.Generator().manual_seed(0), 0.0) is x


def test_mnist_cnn_training_steps_match_pytorch():
    """Cross-check: from PyTorch's initial weights and on the same batches, twelve Adam steps of the CNN
    give PyTorch's losses to float32 rounding (conv, pool, ReLU, linear, cross-entropy and Adam together)."""
    torch = pytest.importorskip("torch")
    import optim
    import nn.functional as F
    tnn, tF = torch.nn, torch.nn.functional
    torch.manual_seed(0)
    theirs = tnn.Sequential(tnn.Conv2d(1, 16, 5, padding=2), tnn.ReLU(), tnn.MaxPool2d(2),
                            tnn.Conv2d(16, 32, 5, padding=2), tnn.ReLU(), tnn.MaxPool2d(2), tnn.Flatten(),
                            tnn.Linear(1568, 128), tnn.ReLU(), tnn.Linear(128, 10))
    ours = load_example("mnist_cnn").make_model()
    ours.load_state_dict({k: ag.tensor(v.detach().numpy()) for k, v in theirs.state_dict().items()})
    opt_t, opt_o = torch.optim.Adam(theirs.parameters(), 1e-3), optim.Adam(ours.parameters(), lr=1e-3)
    rng = np.random.default_rng(0)
    for step in range(12):
        x = rng.standard_normal((64, 1, 28, 28)).astype(np.float32)
        y = rng.integers(0, 10, 64)
        lt = tF.cross_entropy(theirs(torch.tensor(x)), torch.tensor(y))
        opt_t.zero_grad(); lt.backward(); opt_t.step()
        lo = F.cross_entropy(ours(ag.tensor(x)), ag.tensor(y))
        opt_o.zero_grad(); lo.backward(); opt_o.step()
        assert abs(lo.item() - lt.item()) < 1e-5 * max(1.0, abs(lt.item())), (step, lo.item(), lt.item())


# ---- examples/explain_cnn.py ---------------------------------------------------------------------

def test_explain_cnn_smoke(tmp_path):
    result = load_example("explain_cnn").main(["--data-dir", SHARED_DATA, "--out", str(tmp_path), "--quiet",
                                               "--limit", "300", "--epochs", "1", "--digits", "2",
                                               "--lime-samples", "40", "--smoothgrad-samples", "3",
                                               "--max-steps", "5"])
    assert set(result["maps"]) == {"saliency", "SmoothGrad", "GradCAM", "occlusion", "LIME"}
    for m in result["maps"].values():
        assert m.shape == (2, 28, 28)
    assert len(result["max_input_logits"]) == 10
    pytest.importorskip("matplotlib")
    assert len(result["figures"]) == 2
    for path in result["figures"]:
        assert os.path.getsize(path) > 0


# ---- nn.models -----------------------------------------------------------------------------------

def n_params(model):
    return sum(p.numel() for p in model.parameters())


def test_lenet5_shapes_and_size():
    ag.manual_seed(0)
    assert nn.models.LeNet5()(ag.randn(2, 1, 28, 28)).shape == (2, 10)
    relu = nn.models.LeNet5(activation="relu", padding=0)
    assert relu(ag.randn(2, 1, 32, 32)).shape == (2, 10)
    assert n_params(relu) == 61706                  # the classic LeNet-5's count (torch gives the same)
    assert any(isinstance(m, nn.MaxPool2d) for m in relu.modules())
    assert any(isinstance(m, nn.AvgPool2d) for m in nn.models.LeNet5().modules())
    with pytest.raises(ValueError, match="activation"):
        nn.models.LeNet5(activation="gelu")


def test_vgg_builder_follows_its_configuration():
    ag.manual_seed(0)
    assert n_params(nn.models.vgg("vgg16", 3, 1000)) == 138357544    # torchvision's vgg16
    net = nn.models.vgg([8, "M", 16, "M"], in_channels=1, batch_norm=True, classifier_width=None, pool_size=1)
    convs = [m for m in net.features if isinstance(m, nn.Conv2d)]
    assert [c.out_channels for c in convs] == [8, 16]
    assert all(c.kernel_size == (3, 3) and c.padding == (1, 1) for c in convs)
    assert sum(isinstance(m, nn.MaxPool2d) for m in net.features) == 2
    assert sum(isinstance(m, nn.BatchNorm2d) for m in net.features) == 2
    assert net(ag.randn(2, 1, 28, 28)).shape == (2, 10)
    with pytest.raises(ValueError, match="configuration"):
        nn.models.vgg("vgg99")
    with pytest.raises(ValueError, match="'M'"):
        nn.models.vgg([8, "X"])


def test_basic_block_shortcuts_and_small_resnet_trains_a_step():
    ag.manual_seed(0)
    same = nn.models.BasicBlock(8, 8)
    assert isinstance(same.shortcut, nn.Identity)
    assert same(ag.randn(2, 8, 6, 6)).shape == (2, 8, 6, 6)
    down = nn.models.BasicBlock(8, 16, stride=2)
    assert down(ag.randn(2, 8, 6, 6)).shape == (2, 16, 3, 3)
    assert down.shortcut[0].kernel_size == (1, 1) and down.shortcut[0].stride == (2, 2)
    # the block's output is relu(residual + shortcut): zeroing the residual branch leaves relu(shortcut(x))
    x = ag.randn(2, 8, 6, 6)
    with ag.no_grad():
        same.bn2.weight.zero_()
        same.bn2.bias.zero_()
        same.eval()
        np.testing.assert_allclose(same(x).numpy(), np.maximum(x.numpy(), 0), atol=1e-6)

    net = nn.models.resnet_small(num_blocks=(1, 1), num_classes=3, in_channels=1, width=4)
    x, y = ag.randn(4, 1, 8, 8), ag.tensor([0, 1, 2, 0])
    loss = nn.functional.cross_entropy(net(x), y)
    loss.backward()
    assert all(p.grad is not None for p in net.parameters())
    assert nn.models.resnet_small()(ag.randn(2, 1, 28, 28)).shape == (2, 10)
