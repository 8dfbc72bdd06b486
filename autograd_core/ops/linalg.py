"""Linear algebra primitives: matmul with batching and broadcasting, einsum, and their spellings."""
from ..backend import xp
from ..dispatch import implements_ufunc
from ..function import Function

Tensor = None  # bound by tensor.py


def _bind_tensor(cls):
    global Tensor
    Tensor = cls


def _shape(x):
    return x._data.shape if isinstance(x, Tensor) else xp.shape(x)


class MatMul(Function):
    """a @ b with NumPy's matmul rules (1-D promotion, broadcast batch dims)."""
    _array_forward = True

    @staticmethod
    def forward(ctx, a, b):
        need_a, need_b = ctx.needs_input_grad
        ctx.save_for_backward(a if need_b else None, b if need_a else None)
        ctx.a_shape, ctx.b_shape = a.shape, b.shape
        return xp.matmul(a, b)

    @staticmethod
    def backward(ctx, grad):
        a, b = ctx.saved_tensors
        need_a, need_b = ctx.needs_input_grad
        a_shape, b_shape = ctx.a_shape, ctx.b_shape
        # why: treat vectors as (1, k) / (k, 1) matrices, then drop the added axis again
        if len(a_shape) == 1:
            grad = grad.reshape(grad.shape[:-1] + (1,) + grad.shape[-1:]) if len(b_shape) > 1 else grad.reshape(grad.shape + (1,))
            if a is not None:
                a = a.reshape((1,) + a_shape)
        if len(b_shape) == 1:
            grad = grad.reshape(grad.shape + (1,))
            if b is not None:
                b = b.reshape(b_shape + (1,))
        grad_a = grad_b = None
        if need_a:
            grad_a = xp.matmul(grad, xp.swapaxes(b, -1, -2))
            if len(a_shape) == 1:
                grad_a = grad_a.reshape(grad_a.shape[:-2] + grad_a.shape[-1:])
        if need_b:
            grad_b = xp.matmul(xp.swapaxes(a, -1, -2), grad)
            if len(b_shape) == 1:
                grad_b = grad_b.reshape(grad_b.shape[:-1])
        return grad_a, grad_b


def _check_matmul(a_shape, b_shape, what):
    if len(a_shape) == 0 or len(b_shape) == 0:
        raise RuntimeError(f"{what}: both arguments need at least 1 dimension, got shapes {tuple(a_shape)} and "
                           f"{tuple(b_shape)}")
    ka = a_shape[-1]
    kb = b_shape[-2] if len(b_shape) > 1 else b_shape[0]
    if ka != kb:
        raise RuntimeError(f"{what}: {tuple(a_shape)} @ {tuple(b_shape)}: inner dimensions {ka} and {kb} differ")
    batch_a, batch_b = a_shape[:-2], b_shape[:-2]
    try:
        xp.broadcast_shapes(batch_a, batch_b)
    except ValueError:
        raise RuntimeError(f"{what}: {tuple(a_shape)} @ {tuple(b_shape)}: batch dimensions {tuple(batch_a)} and "
                           f"{tuple(batch_b)} don't broadcast") from None


@implements_ufunc(xp.matmul)
def matmul(input, other):
    """Matrix product with batching and broadcasting: (B, H, T, d) @ (B, H, d, T)."""
    _check_matmul(_shape(input), _shape(other), "matmul")
    return MatMul.apply(input, other)
