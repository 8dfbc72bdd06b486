"""Fused primitives for neural-network hot paths (softmax, log-softmax, binary cross-entropy ...).

Each is a composite of simpler ops promoted to one primitive for a stated reason (a `# why:` on the
class): numerical stability, or fewer graph nodes on a path every training step takes.
"""
from ..backend import xp
from ..function import Function
from ..tensor import Tensor  # why: tensor.py does not import this module, so no import cycle


def _stable_exp_shift(x, axis):
    """x - max(x) along axis, with rows that are all -inf (or empty) shifted by 0 instead of nan."""
    m = xp.amax(x, axis=axis, keepdims=True, initial=-xp.inf) if x.size else xp.zeros(())
    m = xp.where(xp.isfinite(m), m, 0)
    return x - m


class Affine(Function):
    """x @ W.T + b (F.linear): x (..., in), W (out, in), b (out,) or None.

    why: speed -- one node instead of three (transpose, matmul, add), and W's gradient comes out of
    BLAS as a fresh contiguous (out, in) array that .grad adopts without a copy (through a transpose
    view it had to be copied every step): about 15% of an MLP training step.
    """
    formula = "grad_x = grad @ W; grad_W = grad.T @ x (summed over batch dims); grad_b = sum(grad)"
    _array_forward = True

    @staticmethod
    def forward(ctx, x, weight, bias):
        need_x, need_w, _ = ctx.needs_input_grad
        ctx.save_for_backward(x if need_w else None, weight if need_x else None)
        y = xp.matmul(x, weight.T)
        if bias is not None:
            y += bias  # y is fresh from matmul: adding in place saves a temporary
        return y

    @staticmethod
    def backward(ctx, grad):
        x, weight = ctx.saved_tensors
        need_x, need_w, need_b = ctx.needs_input_grad
        grad_x = xp.matmul(grad, weight) if need_x else None
        grad_w = grad_b = None
        if need_w or need_b:
            g2 = grad.reshape((-1, grad.shape[-1]))  # (N, out) with every batch dim folded in
            if need_w:
                grad_w = xp.matmul(xp.swapaxes(g2, 0, 1), x.reshape((-1, x.shape[-1])))
            if need_b:
                grad_b = g2.sum(axis=0)
        return grad_x, grad_w, grad_b


class LogSoftmax(Function):
    """log(softmax(x)) along one axis, as x - max - log(sum(exp(x - max))).

    why: stability (exp never overflows, and log(0) never happens for very negative logits) and speed
    (one node instead of five on the path of every classification loss).
    """
    formula = "grad_x = grad - exp(y) * sum(grad, dim)"
    _array_forward = True

    @staticmethod
    def forward(ctx, x, axis):
        ctx.axis = axis
        if x.ndim == 0:
            y = xp.zeros_like(x)
        else:
            z = _stable_exp_shift(x, axis)
            with xp.errstate(all="ignore"):
                y = z - xp.log(xp.sum(xp.exp(z), axis=axis, keepdims=True))
        ctx.save_for_backward(y)
        return y

    @staticmethod
    def backward(ctx, grad):
        y, = ctx.saved_tensors
        if ctx.axis is None:
            return grad * 0, None
        return grad - xp.exp(y) * xp.sum(grad, axis=ctx.axis, keepdims=True), None


class Softmax(Function):
    """exp(x) / sum(exp(x)) along one axis, with the max subtracted first.

    why: stability (no overflow for logits of any size) and speed (one node instead of four).
    """
    formula = "grad_x = y * (grad - sum(grad * y, dim))"
    _array_forward = True

    @staticmethod
    def forward(ctx, x, axis):
        ctx.axis = axis
        if x.ndim == 0:
            y = xp.ones_like(x)
        else:
            with xp.errstate(all="ignore"):
                e = xp.exp(_stable_exp_shift(x, axis))
                y = e / xp.sum(e, axis=axis, keepdims=True)
        ctx.save_for_backward(y)
        return y

    @staticmethod
    def backward(ctx, grad):
        y, = ctx.saved_tensors
        if ctx.axis is None:
            return grad * 0, None
        gy = grad * y
        return gy - y * xp.sum(gy, axis=ctx.axis, keepdims=True), None


class BinaryCrossEntropy(Function):
    """-(t log(p) + (1 - t) log(1 - p)) elementwise, each log clamped at -100 (as PyTorch).

    why: stability. Built from log and clamp, p exactly 0 or 1 gives a 0/0 = nan gradient (the clamp
    zeroes the upstream gradient, then log's backward divides it by 0). PyTorch's gradient
    (p - t) / max(p (1 - p), 1e-12) is finite there.
    """
    formula = ("grad_p = grad * (p - t) / max(p (1 - p), 1e-12); "
               "grad_t = grad * (max(log(1 - p), -100) - max(log(p), -100))")
    _array_forward = True

    @staticmethod
    def forward(ctx, p, t):
        ctx.save_for_backward(p, t)
        with xp.errstate(divide="ignore"):
            log_p = xp.maximum(xp.log(p), -100)
            log_q = xp.maximum(xp.log(1 - p), -100)
        return -(t * log_p + (1 - t) * log_q)

    @staticmethod
    def backward(ctx, grad):
        p, t = ctx.saved_tensors
        need_p, need_t = ctx.needs_input_grad
        grad_p = grad_t = None
        with xp.errstate(divide="ignore", invalid="ignore"):
            if need_p:
                grad_p = grad * (p - t) / xp.maximum(p * (1 - p), 1e-12)
            if need_t:
                grad_t = grad * (xp.maximum(xp.log(1 - p), -100) - xp.maximum(xp.log(p), -100))
        return grad_p, grad_t


class BinaryCrossEntropyWithLogits(Function):
    """(1 - t) x + softplus(-x) elementwise: binary cross-entropy of sigmoid(x) against t, from logits x.

    why: speed and stability -- one node instead of the composite's eight on the path of every GAN and
    binary-classifier step (about 3% of the `gan` benchmark); softplus(-x) = max(-x, 0) + log1p(e^-|x|)
    never overflows, and the gradient sigmoid(x) - t is exact at x = 0 too.
    """
    formula = "grad_x = grad * (sigmoid(x) - t); grad_t = -grad * x"
    _array_forward = True

    @staticmethod
    def forward(ctx, x, t):
        ctx.save_for_backward(x, t)
        return (1 - t) * x + xp.maximum(-x, 0) + xp.log1p(xp.exp(-xp.abs(x)))

    @staticmethod
    def backward(ctx, grad):
        x, t = ctx.saved_tensors
        need_x, need_t = ctx.needs_input_grad
        grad_x = grad_t = None
        if need_x:
            # why: exp(-x) overflows to inf for x << 0, and 1/(1+inf) = 0 is the right sigmoid
            with xp.errstate(over="ignore"):
                grad_x = grad * (1 / (1 + xp.exp(-x)) - t)
        if need_t:
            grad_t = -(grad * x)
        return grad_x, grad_t


class LeakyRelu(Function):
    """x where x > 0, else negative_slope * x (F.leaky_relu).

    why: speed -- one node instead of three (compare, multiply, where) after every layer of a GAN
    (about 5% of the `gan` benchmark).
    """
    formula = "grad_x = grad where x > 0, else negative_slope * grad"
    _array_forward = True

    @staticmethod
    def forward(ctx, x, negative_slope):
        ctx.negative_slope = negative_slope
        pos = x > 0
        ctx.save_for_backward(pos)
        return xp.where(pos, x, x * negative_slope)

    @staticmethod
    def backward(ctx, grad):
        pos, = ctx.saved_tensors
        return xp.where(pos, grad, grad * ctx.negative_slope), None


def _as_tensor(x):
    if not isinstance(x, Tensor):
        return Tensor._make(xp.asarray(x))
    return x


def softmax(input, axis):
    """Softmax along axis (an already-normalised int)."""
    return Softmax.apply(_as_tensor(input), axis)


def log_softmax(input, axis):
    """Log-softmax along axis (an already-normalised int)."""
    return LogSoftmax.apply(_as_tensor(input), axis)


def binary_cross_entropy(input, target):
    """Unreduced binary cross-entropy of probabilities input against target (same shape)."""
    return BinaryCrossEntropy.apply(_as_tensor(input), target)


def binary_cross_entropy_with_logits(input, target):
    """Unreduced binary cross-entropy of sigmoid(input) against target, from logits."""
    return BinaryCrossEntropyWithLogits.apply(_as_tensor(input), target)


def leaky_relu(input, negative_slope):
    """input where input > 0, else negative_slope * input."""
    return LeakyRelu.apply(_as_tensor(input), negative_slope)
