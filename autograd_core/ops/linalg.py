"""Linear algebra primitives: matmul with batching and broadcasting, einsum, and their spellings."""
import string

from ..backend import xp
from ..dispatch import implements, implements_ufunc
from ..function import Function

Tensor = None  # bound by tensor.py


def _bind_tensor(cls):
    global Tensor
    Tensor = cls


def _shape(x):
    return x._data.shape if isinstance(x, Tensor) else xp.shape(x)


class MatMul(Function):
    """a @ b with NumPy's matmul rules (1-D promotion, broadcast batch dims)."""
    formula = "grad_a = grad @ b.T; grad_b = a.T @ grad"
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


def mm(input, mat2):
    """Matrix product of two 2-D tensors: (n, k) @ (k, m) -> (n, m)."""
    a, b = _shape(input), _shape(mat2)
    if len(a) != 2 or len(b) != 2:
        raise RuntimeError(f"mm: expected two 2-D tensors, got shapes {tuple(a)} and {tuple(b)} "
                           f"(use matmul for batched or vector products)")
    _check_matmul(a, b, "mm")
    return MatMul.apply(input, mat2)


def bmm(input, mat2):
    """Batched matrix product of two 3-D tensors: (B, n, k) @ (B, k, m) -> (B, n, m)."""
    a, b = _shape(input), _shape(mat2)
    if len(a) != 3 or len(b) != 3:
        raise RuntimeError(f"bmm: expected two 3-D tensors, got shapes {tuple(a)} and {tuple(b)}")
    if a[0] != b[0]:
        raise RuntimeError(f"bmm: {tuple(a)} @ {tuple(b)}: batch sizes {a[0]} and {b[0]} differ")
    _check_matmul(a, b, "bmm")
    return MatMul.apply(input, mat2)


def dot(input, other):
    """Dot product of two 1-D tensors of the same length (a 0-d result)."""
    a, b = _shape(input), _shape(other)
    if len(a) != 1 or len(b) != 1:
        raise RuntimeError(f"dot: expected two 1-D tensors, got shapes {tuple(a)} and {tuple(b)}")
    if a[0] != b[0]:
        raise RuntimeError(f"dot: 1-D tensors of different lengths: {tuple(a)} and {tuple(b)}")
    return MatMul.apply(input, other)


def outer(input, vec2):
    """Outer product of two 1-D tensors: (n,) and (m,) -> (n, m)."""
    a, b = _shape(input), _shape(vec2)
    if len(a) != 1 or len(b) != 1:
        raise RuntimeError(f"outer: expected two 1-D tensors, got shapes {tuple(a)} and {tuple(b)}")
    return Einsum.apply((("i", "j"), "ij"), input, vec2)


ger = outer


# ---- einsum ---------------------------------------------------------------------------------

def _parse_einsum(equation, shapes):
    """Subscripts with '...' spelled out as fresh letters: (input terms, output term), checked against shapes."""
    if not isinstance(equation, str):
        raise TypeError(f"einsum: the equation must be a string, got {type(equation).__name__}")
    eq = equation.replace(" ", "")
    if eq.count("->") > 1:
        raise ValueError(f"einsum: equation {equation!r} has more than one '->'")
    lhs, arrow, out = eq.partition("->")
    terms = lhs.split(",")
    if len(terms) != len(shapes):
        raise ValueError(f"einsum: equation {equation!r} has {len(terms)} operand subscript(s) but "
                         f"{len(shapes)} operand(s) were given (shapes {[tuple(s) for s in shapes]})")
    for t in terms + [out]:
        if t.replace("...", "", 1).strip(string.ascii_letters):
            raise ValueError(f"einsum: equation {equation!r}: subscripts must be letters, with at most one "
                             f"'...' per operand")
    n_ell = 0
    for t, s in zip(terms, shapes):
        named = len(t) - 3 if "..." in t else len(t)
        if len(s) < named or ("..." not in t and len(s) != named):
            raise ValueError(f"einsum: equation {equation!r}: operand subscripts {t!r} name {named} dimension(s) "
                             f"but the operand has shape {tuple(s)}")
        if "..." in t:
            n_ell = max(n_ell, len(s) - named)
    free = [c for c in string.ascii_letters if c not in eq]
    if n_ell > len(free):
        raise ValueError(f"einsum: equation {equation!r}: too many dimensions under '...'")
    ell = "".join(free[:n_ell])
    ins = []
    for t, s in zip(terms, shapes):
        if "..." in t:
            k = len(s) - (len(t) - 3)
            t = t.replace("...", ell[n_ell - k:])
        ins.append(t)
    sizes = {}
    for t, s in zip(ins, shapes):
        for c, n in zip(t, s):
            if n != 1 and sizes.get(c, 1) not in (1, n):
                raise ValueError(f"einsum: equation {equation!r}: subscript {c!r} has size {sizes[c]} in one "
                                 f"operand and {n} in another (shapes {[tuple(s) for s in shapes]})")
            sizes[c] = max(sizes.get(c, 1), n)
    letters = "".join(ins)
    if arrow:
        # why: as in PyTorch, dims under '...' that the output leaves out are summed over
        out = out.replace("...", ell)
        for c in out:
            if c not in letters:
                raise ValueError(f"einsum: equation {equation!r}: output subscript {c!r} does not appear in "
                                 f"the operands")
            if out.count(c) > 1:
                raise ValueError(f"einsum: equation {equation!r}: output subscript {c!r} appears more than once")
    else:
        out = ell + "".join(sorted(c for c in set(letters) if letters.count(c) == 1 and c not in ell))
    return tuple(ins), out


def _einsum_grad(grad, out, others, sub, sizes):
    """The gradient for one operand with subscripts sub: an einsum of grad with the other operands."""
    present = set(out).union(*[s for s, _ in others])
    uniq = list(dict.fromkeys(sub))
    avail = "".join(c for c in uniq if c in present)
    g = xp.einsum(",".join([out] + [s for s, _ in others]) + "->" + avail, grad, *[o for _, o in others])
    full = tuple(sizes[c] for c in sub)
    # why: g's size is 1 where only this operand had the letter (broadcast in the others, or summed
    # inside this operand alone); broadcasting brings those back
    got = dict(zip(avail, g.shape))
    if len(uniq) == len(sub):
        return xp.broadcast_to(g.reshape(tuple(got.get(c, 1) for c in sub)), full)
    # why: a repeated letter (a diagonal, 'ii->i') puts the gradient on the diagonal: place it at the
    # letter's first position and mask the other positions with an identity
    first = {c: sub.index(c) for c in uniq}
    g = g.reshape(tuple(got.get(c, 1) if p == first[c] else 1 for p, c in enumerate(sub)))
    mask = xp.ones((1,) * len(sub), dtype=bool)
    for p, c in enumerate(sub):
        if p != first[c]:
            shape = [1] * len(sub)
            shape[first[c]] = shape[p] = sizes[c]
            mask = mask & xp.eye(sizes[c], dtype=bool).reshape(shape)
    return xp.broadcast_to(g * mask, full)


class Einsum(Function):
    """Einstein summation; the gradient of each operand is an einsum of grad with the other operands."""
    formula = "grad_k = einsum of grad with the other operands, into operand k's subscripts"
    _array_forward = True

    @staticmethod
    def forward(ctx, spec, *operands):
        ins, out = spec
        needs = ctx.needs_input_grad[1:]
        n = len(operands)
        # why: an operand is needed only for the other operands' gradients
        ctx.save_for_backward(*[o if any(needs[j] for j in range(n) if j != i) else None
                                for i, o in enumerate(operands)])
        ctx.spec = spec
        ctx.sizes = {}
        for t, o in zip(ins, operands):
            for c, s in zip(t, xp.shape(o)):
                ctx.sizes[c] = max(ctx.sizes.get(c, 1), s)
        return xp.asarray(xp.einsum(",".join(ins) + "->" + out, *operands))

    @staticmethod
    def backward(ctx, grad):
        ins, out = ctx.spec
        ops = ctx.saved_tensors
        grads = [None]
        for k, need in enumerate(ctx.needs_input_grad[1:]):
            if not need:
                grads.append(None)
                continue
            others = [(ins[j], ops[j]) for j in range(len(ins)) if j != k]
            grads.append(_einsum_grad(grad, out, others, ins[k], ctx.sizes))
        return tuple(grads)


@implements(xp.einsum)
def einsum(equation, *operands, **kwargs):
    """Einstein summation, e.g. einsum('bhqd,bhkd->bhqk', q, k); '...' and implicit outputs as NumPy."""
    if len(operands) == 1 and isinstance(operands[0], (list, tuple)):
        operands = tuple(operands[0])
    spec = _parse_einsum(equation, [_shape(o) for o in operands])
    return Einsum.apply(spec, *operands)
