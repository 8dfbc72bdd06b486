"""Explainability (the course's XAI lecture): saliency, SmoothGrad, GradCAM, occlusion, maximising input, LIME.

Every function takes a model mapping (N, C, H, W) inputs to (N, classes) logits, an input batch
`x` (a Tensor or array; a single (C, H, W) image is treated as a batch of one) and `target`, the
class to explain: an int for every image, or one int per image. The model is put in eval mode for
the call (and restored afterwards); its parameters' `.grad` are never touched, because gradients
are taken with `ag.grad` with respect to the input (or a feature map) only.

Heat maps come back as NumPy float32 arrays of shape (N, H, W): they are for plotting, outside any
graph. `maximize_input` returns the optimised input as a Tensor.
"""
import contextlib

import numpy as np

import autograd_core as ag
import nn

__all__ = ["saliency", "smoothgrad", "gradcam", "occlusion", "maximize_input", "lime",
           "grid_segments", "slic_segments", "resize_bilinear"]


# ---- helpers -------------------------------------------------------------------------------------

def _batch(x, what):
    """x as a float32 NumPy array (N, C, H, W)."""
    arr = x.detach().numpy() if isinstance(x, ag.Tensor) else np.asarray(x)
    if arr.ndim == 3:
        arr = arr[None]
    if arr.ndim != 4:
        raise ValueError(f"{what}: expected an input of shape (N, C, H, W) or (C, H, W), got {arr.shape}")
    return np.ascontiguousarray(arr, dtype=np.float32)


def _targets(target, n, what):
    """target as an int64 array of length n."""
    t = np.asarray(target.numpy() if isinstance(target, ag.Tensor) else target, dtype=np.int64).reshape(-1)
    if t.size == 1:
        t = np.repeat(t, n)
    if t.size != n:
        raise ValueError(f"{what}: target must be one int or one per image ({n}), got {t.size} values")
    return t


def _one_hot(target, num_classes):
    """(N, classes) float32 Tensor with a 1 at each row's target."""
    m = np.zeros((len(target), num_classes), dtype=np.float32)
    m[np.arange(len(target)), target] = 1.0
    return ag.tensor(m)


@contextlib.contextmanager
def _eval_mode(model):
    """model.eval() for the block, then the previous train/eval mode of every submodule."""
    modes = [(m, m.training) for m in model.modules()]
    model.eval()
    try:
        yield
    finally:
        for m, mode in modes:
            m.training = mode


def _input_grad(model, x, target):
    """∂ξ_target/∂x for a float32 batch x (N, C, H, W): the gradient of each row's target logit."""
    xt = ag.tensor(x, requires_grad=True)
    logits = model(xt)
    # why: summing the selected logits gives each image its own gradient (rows do not interact in eval mode)
    score = (logits * _one_hot(target, logits.shape[1])).sum()
    (g,) = ag.grad(score, xt)
    return g.numpy()


def resize_bilinear(maps, size):
    """Bilinear resize of (N, h, w) maps to size (H, W), half-pixel centres (align_corners=False), NumPy only."""
    maps = np.asarray(maps, dtype=np.float32)
    n, h, w = maps.shape
    H, W = size

    def axis(out, inp):
        src = np.clip((np.arange(out) + 0.5) * inp / out - 0.5, 0, inp - 1)
        lo = np.floor(src).astype(np.int64)
        hi = np.minimum(lo + 1, inp - 1)
        return lo, hi, (src - lo).astype(np.float32)

    r0, r1, fr = axis(H, h)
    c0, c1, fc = axis(W, w)
    top = maps[:, r0][:, :, c0] * (1 - fc) + maps[:, r0][:, :, c1] * fc
    bot = maps[:, r1][:, :, c0] * (1 - fc) + maps[:, r1][:, :, c1] * fc
    return top * (1 - fr)[:, None] + bot * fr[:, None]


def _upsample(maps, size):
    """(N, h, w) -> (N, H, W) with F.interpolate (bilinear) when nn.functional has it, else resize_bilinear."""
    if maps.shape[1:] == tuple(size):
        return maps
    interpolate = getattr(nn.functional, "interpolate", None)
    if interpolate is not None:
        with ag.no_grad():
            up = interpolate(ag.tensor(maps[:, None]), size=tuple(size), mode="bilinear", align_corners=False)
        return up.numpy()[:, 0]
    return resize_bilinear(maps, size)


def _normalise(maps):
    """Scale each map to [0, 1] by its maximum (all-zero maps stay zero)."""
    top = maps.reshape(len(maps), -1).max(axis=1)
    return (maps / np.where(top > 0, top, 1.0)[:, None, None]).astype(np.float32)


# ---- gradient methods ----------------------------------------------------------------------------

def saliency(model, x, target):
    """Vanilla gradient saliency: |∂ξ_target/∂x| reduced by the maximum over channels -> (N, H, W).

    ξ_target is the target's logit (the inner potential, before softmax), as on the course's slides;
    its first-order Taylor expansion says how much each pixel moves the score.
    """
    x = _batch(x, "saliency")
    target = _targets(target, len(x), "saliency")
    with _eval_mode(model):
        g = _input_grad(model, x, target)
    return np.abs(g).max(axis=1)


def smoothgrad(model, x, target, n=25, sigma=0.15, generator=None, batch_size=64):
    """SmoothGrad (Smilkov et al. 2017): the saliency maps of n noisy copies of each image, averaged -> (N, H, W).

    The noise is Gaussian with standard deviation sigma * (max(x) - min(x)) of each image (the
    paper's "noise level"); generator seeds it (an ag.Generator).
    """
    x = _batch(x, "smoothgrad")
    target = _targets(target, len(x), "smoothgrad")
    out = np.zeros((len(x),) + x.shape[2:], dtype=np.float32)
    with _eval_mode(model):
        for i in range(len(x)):
            scale = sigma * float(x[i].max() - x[i].min())
            noise = ag.randn(n, *x.shape[1:], generator=generator).numpy()
            noisy = x[i][None] + scale * noise                        # (n, C, H, W)
            for j in range(0, n, batch_size):
                chunk = noisy[j:j + batch_size]
                g = _input_grad(model, chunk, np.full(len(chunk), target[i]))
                out[i] += np.abs(g).max(axis=1).sum(axis=0)
    return out / n


def gradcam(model, x, target, layer):
    """GradCAM (Selvaraju et al. 2017) of `layer`'s feature maps A (N, K, h, w) -> heat maps (N, H, W) in [0, 1].

    A forward hook on `layer` (a submodule of model, usually the last convolution or its ReLU)
    captures A; α_k = the spatial mean of ∂ξ_target/∂A_k; the map is ReLU(Σ_k α_k A_k), upsampled
    bilinearly to the input size and divided by its maximum (the course's M_i^L, slide 214).
    """
    x = _batch(x, "gradcam")
    target = _targets(target, len(x), "gradcam")
    captured = []
    handle = layer.register_forward_hook(lambda module, args, output: captured.append(output))
    try:
        with _eval_mode(model):
            # why: the input requires grad so that A is in the graph even when the model is frozen
            logits = model(ag.tensor(x, requires_grad=True))
    finally:
        handle.remove()
    if not captured:
        raise RuntimeError(f"gradcam: the layer {type(layer).__name__} was not called by the model's forward")
    feats = captured[-1]
    if not isinstance(feats, ag.Tensor) or feats.ndim != 4:
        raise ValueError(f"gradcam: the layer's output must be feature maps (N, K, h, w), got "
                         f"{getattr(feats, 'shape', type(feats).__name__)}")
    score = (logits * _one_hot(target, logits.shape[1])).sum()
    (g,) = ag.grad(score, feats)
    A, g = feats.detach().numpy(), g.numpy()
    alpha = g.mean(axis=(2, 3), keepdims=True)                        # (N, K, 1, 1)
    cam = np.maximum((alpha * A).sum(axis=1), 0.0)                    # (N, h, w)
    return _normalise(np.maximum(_upsample(cam, x.shape[2:]), 0.0))


# ---- perturbation methods -------------------------------------------------------------------------

@ag.no_grad()
def _scores(model, batch, target, output, batch_size):
    """The target's probability (output='prob') or logit (output='logit') for each image of a NumPy batch."""
    res = []
    for j in range(0, len(batch), batch_size):
        logits = model(ag.tensor(batch[j:j + batch_size]))
        if output == "prob":
            logits = nn.functional.softmax(logits, dim=1)
        res.append(logits.numpy()[:, target])
    return np.concatenate(res)


def occlusion(model, x, target, patch=4, stride=2, baseline=0.0, output="prob", batch_size=256):
    """Occlusion sensitivity (Zeiler & Fergus 2014): slide a patch of `baseline` over the image -> (N, H, W).

    For every patch position the drop in the target's score (the softmax probability, or the logit
    with output='logit') is recorded; each pixel gets the mean drop of the patches covering it, so
    the map has the input's size. Positive = covering this region hurts the prediction. Forward only,
    under no_grad, with the occluded copies evaluated in batches.
    """
    if output not in ("prob", "logit"):
        raise ValueError(f"occlusion: output must be 'prob' or 'logit', got {output!r}")
    x = _batch(x, "occlusion")
    target = _targets(target, len(x), "occlusion")
    N, C, H, W = x.shape
    ph, pw = (patch, patch) if np.isscalar(patch) else patch
    sh, sw = (stride, stride) if np.isscalar(stride) else stride
    if ph > H or pw > W:
        raise ValueError(f"occlusion: patch {(ph, pw)} is larger than the image {(H, W)}")
    rows = list(range(0, H - ph + 1, sh))
    cols = list(range(0, W - pw + 1, sw))
    if rows[-1] != H - ph:
        rows.append(H - ph)                      # why: the last patch reaches the border
    if cols[-1] != W - pw:
        cols.append(W - pw)
    out = np.zeros((N, H, W), dtype=np.float32)
    with _eval_mode(model):
        for i in range(N):
            base = _scores(model, x[i][None], target[i], output, batch_size)[0]
            copies = np.repeat(x[i][None], len(rows) * len(cols), axis=0)
            for k, (r, c) in enumerate((r, c) for r in rows for c in cols):
                copies[k, :, r:r + ph, c:c + pw] = baseline
            drops = base - _scores(model, copies, target[i], output, batch_size)
            total, count = np.zeros((H, W), np.float32), np.zeros((H, W), np.float32)
            for k, (r, c) in enumerate((r, c) for r in rows for c in cols):
                total[r:r + ph, c:c + pw] += drops[k]
                count[r:r + ph, c:c + pw] += 1
            out[i] = total / np.maximum(count, 1)
    return out


def maximize_input(model, target, shape, steps=200, lr=0.1, l2=1e-3, generator=None, optimizer="adam", init=None):
    """The input that maximises a class's logit: argmax_x ξ_target(x) - l2·||x||² by gradient ascent.

    The course's class-model visualisation (slides 207-208): the model is frozen (eval mode, no
    parameter gradients), the input (shape (N, C, H, W) or (C, H, W), starting from small Gaussian
    noise from `generator` or from `init`) requires grad and an optimizer ('adam' or plain
    gradient ascent 'sgd') updates it. `target` is one class or one per row. Returns the detached
    input Tensor of `shape`.
    """
    import optim
    single = len(shape) == 3
    shape = (1,) + tuple(shape) if single else tuple(shape)
    if len(shape) != 4:
        raise ValueError(f"maximize_input: shape must be (N, C, H, W) or (C, H, W), got {shape}")
    target = _targets(target, shape[0], "maximize_input")
    if init is None:
        start = 0.01 * ag.randn(*shape, generator=generator)
    else:
        start = ag.tensor(_batch(init, "maximize_input").reshape(shape))
    x = start.detach().clone().requires_grad_(True)
    if optimizer == "adam":
        opt = optim.Adam([x], lr=lr)
    elif optimizer == "sgd":
        opt = optim.SGD([x], lr=lr)
    else:
        raise ValueError(f"maximize_input: optimizer must be 'adam' or 'sgd', got {optimizer!r}")
    with _eval_mode(model):
        for _ in range(steps):
            logits = model(x)
            objective = (logits * _one_hot(target, logits.shape[1])).sum() - l2 * (x * x).sum()
            (g,) = ag.grad(objective, x)         # why: never touches the frozen model's .grad
            x.grad = -g                          # ascent: the optimizer minimises -objective
            opt.step()
    x = x.detach()
    return x[0] if single else x


# ---- LIME ----------------------------------------------------------------------------------------

def grid_segments(shape, n_segments=16):
    """Superpixels as a regular grid: an (H, W) int array of labels 0..L-1, about n_segments cells."""
    H, W = shape
    per_row = max(1, int(round(np.sqrt(n_segments * W / H))))
    per_col = max(1, int(round(n_segments / per_row)))
    r = np.minimum(np.arange(H) * per_col // H, per_col - 1)
    c = np.minimum(np.arange(W) * per_row // W, per_row - 1)
    return (r[:, None] * per_row + c[None, :]).astype(np.int64)


def slic_segments(image, n_segments=16, compactness=0.1, iters=10):
    """SLIC-like superpixels: k-means on (row, col, intensity) from grid-placed centres -> (H, W) labels 0..L-1.

    image is (C, H, W) or (H, W); the intensity is the channel mean scaled to [0, 1]. compactness
    weighs position against intensity (larger: more square superpixels).
    """
    img = np.asarray(image, dtype=np.float32)
    if img.ndim == 3:
        img = img.mean(axis=0)
    H, W = img.shape
    span = float(img.max() - img.min())
    inten = (img - img.min()) / (span if span > 0 else 1.0)
    step = np.sqrt(H * W / n_segments)
    rr, cc = np.mgrid[0:H, 0:W]
    # why: positions in units of the grid step, weighted by compactness, so intensity edges can win
    feats = np.stack([compactness * rr.ravel() / step, compactness * cc.ravel() / step, inten.ravel()], axis=1)
    labels = grid_segments((H, W), n_segments).ravel()
    for _ in range(iters):
        centres = np.stack([feats[labels == k].mean(axis=0) for k in np.unique(labels)])
        d = ((feats[:, None, :] - centres[None, :, :]) ** 2).sum(axis=2)     # (H*W, K)
        new = d.argmin(axis=1)
        if np.array_equal(new, labels):
            break
        labels = new
    _, labels = np.unique(labels, return_inverse=True)
    return labels.reshape(H, W).astype(np.int64)


def lime(model, x, target, n_samples=500, n_segments=16, segmentation="grid", kernel_width=0.25, fill=None,
         alpha=1e-3, generator=None, batch_size=250):
    """LIME for images (Ribeiro et al. 2016): a kernel-weighted linear surrogate over superpixels -> (N, H, W).

    As on the course's slides (220-227): superpixels P_1..P_ℓ ('grid' or 'slic' segmentation);
    random binary vectors z ∈ {0,1}^ℓ (the first all ones) remove the superpixels with z_k = 0
    (filled with `fill`, default the image's mean); the target's logit ξ_i(I[z]) is recorded; a
    linear model F(z) = w_0 + Σ w_k z_k is fitted by least squares weighted by
    π = exp(-(1 - sqrt(1 - s/ℓ))² / (2ν²)) (s = number of zeros, ν = kernel_width), with a small
    ridge penalty `alpha` standing in for the regulariser Ω. Each pixel gets its superpixel's w_k.
    """
    x = _batch(x, "lime")
    target = _targets(target, len(x), "lime")
    N, C, H, W = x.shape
    out = np.zeros((N, H, W), dtype=np.float32)
    with _eval_mode(model):
        for i in range(N):
            if segmentation == "grid":
                seg = grid_segments((H, W), n_segments)
            elif segmentation == "slic":
                seg = slic_segments(x[i], n_segments)
            else:
                raise ValueError(f"lime: segmentation must be 'grid' or 'slic', got {segmentation!r}")
            L = int(seg.max()) + 1
            z = (ag.rand(n_samples, L, generator=generator).numpy() < 0.5).astype(np.float32)
            z[0] = 1.0
            value = x[i].mean() if fill is None else fill
            keep = z[:, seg]                                                  # (S, H, W)
            images = x[i][None] * keep[:, None] + value * (1 - keep[:, None])  # (S, C, H, W)
            y = _scores(model, images, target[i], "logit", batch_size).astype(np.float64)
            s = L - z.sum(axis=1)
            dist = 1.0 - np.sqrt(np.clip(1.0 - s / L, 0.0, 1.0))
            pi = np.exp(-dist ** 2 / (2 * kernel_width ** 2))
            A = np.concatenate([np.ones((n_samples, 1)), z], axis=1).astype(np.float64)
            sw = np.sqrt(pi)[:, None]
            # ridge on the slopes only: solve [sw*A; sqrt(alpha)*I'] w = [sw*y; 0]
            reg = np.sqrt(alpha) * np.eye(L + 1)[1:]
            w, *_ = np.linalg.lstsq(np.concatenate([sw * A, reg]), np.concatenate([sw[:, 0] * y, np.zeros(L)]),
                                    rcond=None)
            out[i] = w[1:][seg]
    return out
