"""nn.explain: shapes and sanity of saliency, SmoothGrad, GradCAM, occlusion, maximising input and LIME.

A tiny CNN is trained (in about a second) on a synthetic task: class 1 = a bright 4x4 square near the
centre of a noisy 12x12 image, class 0 = noise only. Explanations of class 1 should then point at
the square and not at the corners.
"""
import numpy as np
import pytest

import autograd_core as ag
import nn
import nn.functional as F
import optim
from nn import explain

H = W = 12


def make_images(n, gen):
    """(x (n, 1, 12, 12), y (n,)): half of them with a bright square at rows/cols 4..7 (+-1)."""
    rng = np.random.default_rng(int(ag.randint(0, 2 ** 31, (1,), generator=gen).item()))
    x = 0.1 * rng.standard_normal((n, 1, H, W)).astype(np.float32)
    y = (np.arange(n) % 2).astype(np.int64)
    for i in np.flatnonzero(y):
        r, c = 4 + rng.integers(-1, 2), 4 + rng.integers(-1, 2)
        x[i, 0, r:r + 4, c:c + 4] += 1.0
    return x, y


def tiny_cnn():
    """conv(1->4, 3, pad 1)-ReLU-maxpool 2-conv(4->8, 3, pad 1)-ReLU-flatten-fc(8*6*6 -> 2)."""
    return nn.Sequential(nn.Conv2d(1, 4, 3, padding=1), nn.ReLU(), nn.MaxPool2d(2),
                         nn.Conv2d(4, 8, 3, padding=1), nn.ReLU(),
                         nn.Flatten(), nn.Linear(8 * 6 * 6, 2))


@pytest.fixture(scope="module")
def trained():
    """(model, images with the square, images without) after 150 Adam steps."""
    ag.manual_seed(0)
    gen = ag.Generator().manual_seed(0)
    model = tiny_cnn()
    opt = optim.Adam(model.parameters(), lr=1e-2)
    for _ in range(150):
        x, y = make_images(32, gen)
        loss = F.cross_entropy(model(ag.tensor(x)), ag.tensor(y))
        opt.zero_grad()
        loss.backward()
        opt.step()
    x, y = make_images(8, ag.Generator().manual_seed(1))
    with ag.no_grad():
        acc = (model(ag.tensor(x)).argmax(dim=1).numpy() == y).mean()
    assert acc == 1.0
    model.zero_grad()
    return model, x[y == 1], x[y == 0]


class LeftHalf(nn.Module):
    """Wraps a model so that it only sees the left half of the image (the right half is zeroed)."""

    def __init__(self, model):
        super().__init__()
        self.model = model
        mask = np.zeros((1, 1, H, W), np.float32)
        mask[..., : W // 2] = 1
        self.mask = ag.tensor(mask)

    def forward(self, x):
        return self.model(x * self.mask)


CENTRE = (slice(4, 8), slice(4, 8))
CORNERS = [(slice(0, 3), slice(0, 3)), (slice(0, 3), slice(9, 12)), (slice(9, 12), slice(0, 3)),
           (slice(9, 12), slice(9, 12))]


def corner_mean(m):
    return np.mean([m[..., r, c].mean() for r, c in CORNERS])


# ---- saliency and SmoothGrad ---------------------------------------------------------------------

def test_saliency_is_nonnegative_and_zero_where_the_model_does_not_look():
    ag.manual_seed(1)
    model = LeftHalf(tiny_cnn())
    x = ag.randn(3, 1, H, W)
    s = explain.saliency(model, x, 1)
    assert s.shape == (3, H, W) and s.dtype == np.float32
    assert (s >= 0).all()
    assert np.all(s[..., W // 2:] == 0)
    assert s[..., : W // 2].max() > 0
    assert all(p.grad is None for p in model.parameters())    # explanations never touch .grad


def test_saliency_equals_the_input_gradient_of_the_target_logit():
    ag.manual_seed(2)
    model = tiny_cnn()
    x = ag.randn(2, 1, H, W, requires_grad=True)
    model(x)[:, 0].sum().backward()
    np.testing.assert_allclose(explain.saliency(model, x.detach(), 0), np.abs(x.grad.numpy())[:, 0], rtol=1e-6)
    # a single image (C, H, W) is a batch of one; one target per image
    assert explain.saliency(model, x.detach()[0], [1]).shape == (1, H, W)
    with pytest.raises(ValueError, match="target"):
        explain.saliency(model, x.detach(), [0, 1, 1])


def test_smoothgrad_is_seeded_nonnegative_and_respects_the_mask():
    ag.manual_seed(3)
    model = LeftHalf(tiny_cnn())
    x = ag.randn(2, 1, H, W)
    a = explain.smoothgrad(model, x, 0, n=8, generator=ag.Generator().manual_seed(0))
    b = explain.smoothgrad(model, x, 0, n=8, generator=ag.Generator().manual_seed(0))
    np.testing.assert_array_equal(a, b)
    assert a.shape == (2, H, W) and (a >= 0).all()
    assert np.all(a[..., W // 2:] == 0)
    # with sigma = 0 every copy is the image itself: SmoothGrad = saliency
    np.testing.assert_allclose(explain.smoothgrad(model, x, 0, n=3, sigma=0.0), explain.saliency(model, x, 0),
                               rtol=1e-5, atol=1e-7)


def test_saliency_points_at_the_square(trained):
    model, pos, _ = trained
    s = explain.smoothgrad(model, pos, 1, n=10, generator=ag.Generator().manual_seed(0))
    assert s[:, 3:9, 3:9].mean() > 2 * corner_mean(s)


# ---- GradCAM -------------------------------------------------------------------------------------

def test_gradcam_shape_range_and_hand_computation():
    ag.manual_seed(4)
    model = tiny_cnn()
    x = ag.randn(3, 1, H, W)
    heat = explain.gradcam(model, x, 1, model[4])
    assert heat.shape == (3, H, W)
    assert (heat >= 0).all() and (heat <= 1).all()
    assert np.allclose(heat.reshape(3, -1).max(axis=1), 1.0) or (heat == 0).any()
    # the same map by hand: retain_grad on the ReLU's output (N, 8, 6, 6)
    xt = ag.tensor(x.numpy())
    A = model[4](model[3](model[2](model[1](model[0](xt)))))
    A.retain_grad()
    model[6](model[5](A))[:, 1].sum().backward()
    cam = np.maximum((A.grad.numpy().mean(axis=(2, 3), keepdims=True) * A.detach().numpy()).sum(axis=1), 0)
    up = explain.resize_bilinear(cam, (H, W))
    up = up / np.where(up.max(axis=(1, 2)) > 0, up.max(axis=(1, 2)), 1)[:, None, None]
    np.testing.assert_allclose(heat, up, atol=1e-5)


def test_gradcam_finds_the_square(trained):
    model, pos, _ = trained
    heat = explain.gradcam(model, pos, 1, model[4])
    assert (heat >= 0).all() and (heat <= 1).all()
    assert heat[:, 3:9, 3:9].mean() > corner_mean(heat) + 0.2


def test_gradcam_needs_a_layer_the_model_uses():
    model = tiny_cnn()
    with pytest.raises(RuntimeError, match="not called"):
        explain.gradcam(model, ag.randn(1, 1, H, W), 0, nn.ReLU())


def test_resize_bilinear_matches_interpolate_when_available():
    maps = np.random.default_rng(0).standard_normal((2, 3, 5)).astype(np.float32)
    up = explain.resize_bilinear(maps, (7, 11))
    assert up.shape == (2, 7, 11)
    assert np.allclose(explain.resize_bilinear(np.ones((1, 3, 3)), (9, 9)), 1.0)
    if hasattr(F, "interpolate"):
        ref = F.interpolate(ag.tensor(maps[:, None]), size=(7, 11), mode="bilinear", align_corners=False)
        np.testing.assert_allclose(up, ref.numpy()[:, 0], atol=1e-5)


# ---- occlusion -----------------------------------------------------------------------------------

def test_occlusion_of_the_background_matters_little(trained):
    model, pos, _ = trained
    occ = explain.occlusion(model, pos, 1, patch=6, stride=2)
    assert occ.shape == (len(pos), H, W)
    centre = occ[:, 4:8, 4:8].mean()
    assert centre > 0.3                                        # covering the square removes the evidence
    assert abs(corner_mean(occ)) < centre / 4                  # covering a corner barely matters
    occ_logit = explain.occlusion(model, pos, 1, patch=3, stride=3, output="logit")   # corners never touch the square
    assert occ_logit[:, 4:8, 4:8].mean() > 5 * abs(corner_mean(occ_logit))


def test_occlusion_covers_every_pixel_and_checks_its_patch():
    model = tiny_cnn()
    occ = explain.occlusion(model, ag.randn(1, 1, H, W), 0, patch=5, stride=3)   # 5 + 3k never reaches 12
    assert occ.shape == (1, H, W)
    with pytest.raises(ValueError, match="larger"):
        explain.occlusion(model, ag.randn(1, 1, H, W), 0, patch=13)


# ---- maximising input ----------------------------------------------------------------------------

def test_maximize_input_increases_the_target_logit(trained):
    model, _, _ = trained
    start = 0.01 * ag.randn(2, 1, H, W, generator=ag.Generator().manual_seed(0))
    with ag.no_grad():
        before = model(start).numpy()
    x = explain.maximize_input(model, [1, 0], (2, 1, H, W), steps=60, lr=0.05, init=start)
    assert x.shape == (2, 1, H, W) and not x.requires_grad
    with ag.no_grad():
        after = model(x).numpy()
    assert after[0, 1] > before[0, 1] + 1 and after[1, 0] > before[1, 0] + 1
    assert all(p.grad is None for p in model.parameters())
    # the class-1 input lights up the centre, where the square was
    img = x.numpy()[0, 0]
    assert img[3:9, 3:9].mean() > img.mean()
    single = explain.maximize_input(model, 1, (1, H, W), steps=2, generator=ag.Generator().manual_seed(0))
    assert single.shape == (1, H, W)


# ---- LIME ----------------------------------------------------------------------------------------

def test_segmentations_label_every_pixel():
    seg = explain.grid_segments((12, 12), 16)
    assert seg.shape == (12, 12) and sorted(np.unique(seg)) == list(range(16))
    img = np.zeros((12, 12), np.float32)
    img[4:8, 4:8] = 1
    slic = explain.slic_segments(img, 9)
    assert slic.shape == (12, 12) and slic.min() == 0
    assert len(np.unique(slic)) == slic.max() + 1
    # the square's pixels share superpixels with no background pixels
    inside = set(np.unique(slic[4:8, 4:8]))
    assert not inside & set(np.unique(slic[img == 0]))


@pytest.mark.parametrize("segmentation", ["grid", "slic"])
def test_lime_weights_the_informative_region(trained, segmentation):
    model, pos, _ = trained
    w = explain.lime(model, pos[:2], 1, n_samples=300, n_segments=9, segmentation=segmentation,
                     generator=ag.Generator().manual_seed(0))
    assert w.shape == (2, H, W)
    assert w[:, 5:7, 5:7].mean() > 3 * np.abs(corner_mean(w)) and w[:, 5:7, 5:7].mean() > 0
    again = explain.lime(model, pos[:2], 1, n_samples=300, n_segments=9, segmentation=segmentation,
                         generator=ag.Generator().manual_seed(0))
    np.testing.assert_array_equal(w, again)
