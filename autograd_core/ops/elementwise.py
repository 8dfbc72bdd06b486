"""Elementwise primitives: arithmetic with broadcasting, unary math, activations, comparisons.

Forward receives arrays (or Python scalars) and returns an array; backward is written with
operators and `xp.*` so it runs on arrays normally and on Tensors under create_graph.
The backward returns gradients at the broadcast output shape; graph.py sums them back.
"""
import math

from ..backend import xp
from ..dispatch import implements, implements_ufunc
from ..function import Function

Tensor = None  # bound by tensor.py


def _bind_tensor(cls):
    global Tensor
    Tensor = cls


def _data(x):
    """The array behind a Tensor, or x itself (scalar, list, array)."""
    return x._data if isinstance(x, Tensor) else x


_F64 = xp.dtype("float64")
# why: `y > 0` with a Python 0 runs NumPy's slower mixed-type comparison: ~30% of a ReLU backward
_ZERO = xp.zeros((), dtype=xp.float32)
_ZERO.flags.writeable = False


def _promote(result, a, b=None):
    """PyTorch's promotion for a float64 NumPy result: 0-d operands and Python numbers don't widen arrays.

    NumPy turns int_array * 1.5, int_array / int_array and f32_array * f64_0d into float64; PyTorch keeps
    the dimensioned operand's float dtype (or the default float dtype for ints). Called only when the
    result is float64, so the float32 path costs nothing.
    """
    arrays = [x for x in (a, b) if isinstance(x, (xp.ndarray, xp.generic))]
    dimensioned = [x for x in arrays if x.ndim > 0]
    ref = dimensioned or arrays
    # why: `is`, since NumPy compares dtype('float64') == None as True
    if any(x.dtype is _F64 for x in ref):
        return result
    floats = [x.dtype for x in ref if x.dtype.kind == "f"]
    if floats:
        return result.astype(floats[0])
    from ..dtypes import get_default_dtype
    return result.astype(get_default_dtype())


# ---- arithmetic ----------------------------------------------------------------------------

class Add(Function):
    formula = "grad_a = grad; grad_b = grad"
    _array_forward = True
    _elementwise = True
    _number_operands = True

    @staticmethod
    def forward(ctx, a, b):
        y = a + b
        return _promote(y, a, b) if y.dtype is _F64 else y

    @staticmethod
    def backward(ctx, grad):
        return grad, grad


class Sub(Function):
    formula = "grad_a = grad; grad_b = -grad"
    _array_forward = True
    _elementwise = True
    _number_operands = True

    @staticmethod
    def forward(ctx, a, b):
        y = a - b
        return _promote(y, a, b) if y.dtype is _F64 else y

    @staticmethod
    def backward(ctx, grad):
        return grad, (-grad if ctx.needs_input_grad[1] else None)


class Mul(Function):
    formula = "grad_a = grad * b; grad_b = grad * a"
    _array_forward = True
    _elementwise = True
    _number_operands = True

    @staticmethod
    def forward(ctx, a, b):
        # why: save only what the needed gradients use, so in-place writes elsewhere stay legal
        need_a, need_b = ctx.needs_input_grad
        ctx.save_for_backward(b if need_a else None, a if need_b else None)
        y = a * b
        return _promote(y, a, b) if y.dtype is _F64 else y

    @staticmethod
    def backward(ctx, grad):
        b, a = ctx.saved_tensors
        need_a, need_b = ctx.needs_input_grad
        return (grad * b if need_a else None), (grad * a if need_b else None)


class Div(Function):
    formula = "grad_a = grad / b; grad_b = -grad * a / b²"
    _array_forward = True
    _elementwise = True
    _number_operands = True

    @staticmethod
    def forward(ctx, a, b):
        need_a, need_b = ctx.needs_input_grad
        ctx.save_for_backward(a if need_b else None, b)
        with xp.errstate(all="ignore"):
            y = xp.true_divide(a, b)
        return _promote(y, a, b) if y.dtype is _F64 else y

    @staticmethod
    def backward(ctx, grad):
        a, b = ctx.saved_tensors
        need_a, need_b = ctx.needs_input_grad
        grad_a = grad / b if need_a else None
        grad_b = -grad * a / (b * b) if need_b else None
        return grad_a, grad_b


class Neg(Function):
    formula = "grad_x = -grad"
    _array_forward = True
    _elementwise = True

    @staticmethod
    def forward(ctx, a):
        return -a

    @staticmethod
    def backward(ctx, grad):
        return -grad


class Pow(Function):
    formula = "grad_a = grad * b * a^(b-1); grad_b = grad * y * log(a)"
    _array_forward = True
    _number_operands = True

    @staticmethod
    def forward(ctx, a, b):
        with xp.errstate(all="ignore"):
            y = xp.power(a, b)
        if getattr(y, "dtype", None) is _F64:
            y = _promote(y, a, b)
        ctx.save_for_backward(a, b, y if ctx.needs_input_grad[1] else None)
        return y

    @staticmethod
    def backward(ctx, grad):
        a, b, y = ctx.saved_tensors
        need_a, need_b = ctx.needs_input_grad
        grad_a = grad_b = None
        if need_a:
            # why: d/da a**b at b == 0 is 0 (PyTorch), not 0 * a**-1 = nan at a == 0
            grad_a = grad * xp.where(b == 0, 0.0, b * a ** (b - 1))
        if need_b:
            # why: PyTorch defines d/db 0**b = 0 for b >= 0 instead of 0 * log(0) = nan
            grad_b = grad * xp.where((a == 0) & (b >= 0), 0.0, y * xp.log(a))
        return grad_a, grad_b


class FloorDivide(Function):
    """a // b (floor division); piecewise constant, so its gradient is zero."""
    formula = "grad_a = 0; grad_b = 0"
    _array_forward = True
    _number_operands = True

    @staticmethod
    def forward(ctx, a, b):
        with xp.errstate(all="ignore"):
            return xp.floor_divide(a, b)

    @staticmethod
    def backward(ctx, grad):
        return grad * 0, grad * 0


# ---- unary math ------------------------------------------------------------------------------

class Exp(Function):
    formula = "grad_x = grad * y"
    _array_forward = True
    _elementwise = True

    @staticmethod
    def forward(ctx, x):
        with xp.errstate(over="ignore"):
            y = xp.exp(x)
        ctx.save_for_backward(y)
        return y

    @staticmethod
    def backward(ctx, grad):
        y, = ctx.saved_tensors
        return grad * y


class Log(Function):
    formula = "grad_x = grad / x"
    _array_forward = True
    _elementwise = True

    @staticmethod
    def forward(ctx, x):
        ctx.save_for_backward(x)
        with xp.errstate(all="ignore"):
            return xp.log(x)

    @staticmethod
    def backward(ctx, grad):
        x, = ctx.saved_tensors
        return grad / x


class Log1p(Function):
    formula = "grad_x = grad / (1 + x)"
    _array_forward = True
    _elementwise = True

    @staticmethod
    def forward(ctx, x):
        ctx.save_for_backward(x)
        with xp.errstate(all="ignore"):
            return xp.log1p(x)

    @staticmethod
    def backward(ctx, grad):
        x, = ctx.saved_tensors
        return grad / (x + 1)


class Expm1(Function):
    formula = "grad_x = grad * (y + 1)"
    _array_forward = True
    _elementwise = True

    @staticmethod
    def forward(ctx, x):
        with xp.errstate(over="ignore"):
            y = xp.expm1(x)
        ctx.save_for_backward(y)
        return y

    @staticmethod
    def backward(ctx, grad):
        y, = ctx.saved_tensors
        return grad * (y + 1)


class Sqrt(Function):
    formula = "grad_x = grad / (2 * y)"
    _array_forward = True
    _elementwise = True

    @staticmethod
    def forward(ctx, x):
        with xp.errstate(invalid="ignore"):
            y = xp.sqrt(x)
        ctx.save_for_backward(y)
        return y

    @staticmethod
    def backward(ctx, grad):
        y, = ctx.saved_tensors
        return grad / (y * 2)


class Rsqrt(Function):
    formula = "grad_x = -0.5 * grad * y³"
    _array_forward = True
    _elementwise = True

    @staticmethod
    def forward(ctx, x):
        with xp.errstate(all="ignore"):
            y = 1 / xp.sqrt(x)
        ctx.save_for_backward(y)
        return y

    @staticmethod
    def backward(ctx, grad):
        y, = ctx.saved_tensors
        return grad * (y * y * y) * -0.5


class Reciprocal(Function):
    formula = "grad_x = -grad * y²"
    _array_forward = True
    _elementwise = True

    @staticmethod
    def forward(ctx, x):
        with xp.errstate(all="ignore"):
            y = xp.reciprocal(x)
        ctx.save_for_backward(y)
        return y

    @staticmethod
    def backward(ctx, grad):
        y, = ctx.saved_tensors
        return -grad * (y * y)


class Square(Function):
    formula = "grad_x = grad * 2 * x"
    _array_forward = True
    _elementwise = True

    @staticmethod
    def forward(ctx, x):
        ctx.save_for_backward(x)
        return x * x

    @staticmethod
    def backward(ctx, grad):
        x, = ctx.saved_tensors
        return grad * (x * 2)


class Sin(Function):
    formula = "grad_x = grad * cos(x)"
    _array_forward = True
    _elementwise = True

    @staticmethod
    def forward(ctx, x):
        ctx.save_for_backward(x)
        return xp.sin(x)

    @staticmethod
    def backward(ctx, grad):
        x, = ctx.saved_tensors
        return grad * xp.cos(x)


class Cos(Function):
    formula = "grad_x = -grad * sin(x)"
    _array_forward = True
    _elementwise = True

    @staticmethod
    def forward(ctx, x):
        ctx.save_for_backward(x)
        return xp.cos(x)

    @staticmethod
    def backward(ctx, grad):
        x, = ctx.saved_tensors
        return -grad * xp.sin(x)


class Tan(Function):
    formula = "grad_x = grad * (1 + y²)"
    _array_forward = True
    _elementwise = True

    @staticmethod
    def forward(ctx, x):
        y = xp.tan(x)
        ctx.save_for_backward(y)
        return y

    @staticmethod
    def backward(ctx, grad):
        y, = ctx.saved_tensors
        return grad * (y * y + 1)


class Tanh(Function):
    formula = "grad_x = grad * (1 - y²)"
    _array_forward = True
    _elementwise = True

    @staticmethod
    def forward(ctx, x):
        y = xp.tanh(x)
        ctx.save_for_backward(y)
        return y

    @staticmethod
    def backward(ctx, grad):
        y, = ctx.saved_tensors
        # why: grad - grad*y*y is grad * (1 - y^2) with array-only ops (no slow Python-scalar op)
        gy = grad * y
        return grad - gy * y


class Sigmoid(Function):
    formula = "grad_x = grad * y * (1 - y)"
    _array_forward = True
    _elementwise = True

    @staticmethod
    def forward(ctx, x):
        # why: exp(-x) overflows to inf for x << 0, and 1/(1+inf) = 0 is the right answer
        with xp.errstate(over="ignore"):
            y = 1 / (1 + xp.exp(-x))
        ctx.save_for_backward(y)
        return y

    @staticmethod
    def backward(ctx, grad):
        y, = ctx.saved_tensors
        gy = grad * y  # grad * y * (1 - y), with array-only ops
        return gy - gy * y


class Relu(Function):
    formula = "grad_x = grad * (y > 0)"
    _array_forward = True
    _elementwise = True

    @staticmethod
    def forward(ctx, x):
        y = _with_scalar(xp.maximum, x, 0)
        ctx.save_for_backward(y)
        return y

    @staticmethod
    def backward(ctx, grad):
        y, = ctx.saved_tensors
        return grad * (y > _ZERO)


_SCALAR_BLOCK = 4096


def _with_scalar(ufunc, x, s):
    """ufunc(x, s) for maximum / minimum of an array and a number, NaN kept (ReLU's and clamp's forward).

    why: NumPy's maximum and minimum against a broadcast scalar miss their vector loops (0.40 vs
    0.24 ms on the 800K floats of the MNIST CNN's first activation), so a contiguous float array is
    compared row by row against a small block filled with s, and only a last partial block against s.
    A 0-d array s counts when it has x's dtype (the result's dtype is then the same either way).
    """
    n = x.size
    same = isinstance(s, (int, float)) or (isinstance(s, xp.ndarray) and s.ndim == 0 and s.dtype == x.dtype)
    if not same or x.dtype.kind != "f" or not x.flags.c_contiguous or n < _SCALAR_BLOCK:
        return ufunc(x, s)
    y = xp.empty(x.shape, dtype=x.dtype)
    xf, yf = x.reshape(-1), y.reshape(-1)
    bulk = n - n % _SCALAR_BLOCK
    ufunc(xf[:bulk].reshape(-1, _SCALAR_BLOCK), xp.full(_SCALAR_BLOCK, s, dtype=x.dtype),
          out=yf[:bulk].reshape(-1, _SCALAR_BLOCK))
    ufunc(xf[bulk:], s, out=yf[bulk:])
    return y


class Abs(Function):
    formula = "grad_x = grad * sign(x)"
    _array_forward = True
    _elementwise = True

    @staticmethod
    def forward(ctx, x):
        ctx.save_for_backward(x)
        return xp.abs(x)

    @staticmethod
    def backward(ctx, grad):
        x, = ctx.saved_tensors
        return grad * xp.sign(x)


class Sign(Function):
    """sign(x); piecewise constant, so its gradient is zero (as PyTorch)."""
    formula = "grad_x = 0"
    _array_forward = True

    @staticmethod
    def forward(ctx, x):
        return xp.sign(x)

    @staticmethod
    def backward(ctx, grad):
        return grad * 0


class Floor(Function):
    """floor(x); zero gradient."""
    formula = "grad_x = 0"
    _array_forward = True

    @staticmethod
    def forward(ctx, x):
        return xp.floor(x)

    @staticmethod
    def backward(ctx, grad):
        return grad * 0


class Ceil(Function):
    """ceil(x); zero gradient."""
    formula = "grad_x = 0"
    _array_forward = True

    @staticmethod
    def forward(ctx, x):
        return xp.ceil(x)

    @staticmethod
    def backward(ctx, grad):
        return grad * 0


class Round(Function):
    """Round half to even, as torch.round; zero gradient."""
    formula = "grad_x = 0"
    _array_forward = True

    @staticmethod
    def forward(ctx, x, decimals):
        return xp.round(x, decimals)

    @staticmethod
    def backward(ctx, grad):
        return grad * 0, None


def _erf_array(x):
    """erf on an array, accurate to double precision (NumPy has no erf and SciPy is not a dependency)."""
    x = xp.asarray(x)
    out = xp.empty_like(x, dtype=xp.result_type(x.dtype, xp.float32))
    ax = xp.abs(x)
    small = ax <= 2.5
    big = (~small) & (ax < 6.5)
    # why: for |x| <= 2.5 this series has only positive terms, so it loses no precision
    # erf(x) = 2/sqrt(pi) * exp(-x^2) * sum_n x (2x^2)^n / (1*3*...*(2n+1))
    xs = x[small].astype(xp.float64)
    if xs.size:
        two_x2 = 2 * xs * xs
        term = xs.copy()
        total = xs.copy()
        for n in range(1, 80):
            term = term * two_x2 / (2 * n + 1)
            total += term
            if xp.all(xp.abs(term) <= 1e-17 * xp.abs(total)):
                break
        out[small] = (2 / math.sqrt(math.pi)) * xp.exp(-xs * xs) * total
    # why: for large |x| the continued fraction of erfc converges fast (evaluated bottom-up)
    xb = ax[big].astype(xp.float64)
    if xb.size:
        frac = xp.zeros_like(xb)
        for k in range(60, 0, -1):
            frac = (k / 2) / (xb + frac)
        erfc = xp.exp(-xb * xb) / math.sqrt(math.pi) / (xb + frac)
        out[big] = xp.sign(x[big]) * (1 - erfc)
    rest = ~(small | big)
    out[rest] = xp.sign(x[rest])
    return out


class Erf(Function):
    formula = "grad_x = grad * 2/√π * exp(-x²)"
    _array_forward = True
    _elementwise = True

    @staticmethod
    def forward(ctx, x):
        ctx.save_for_backward(x)
        return _erf_array(x).astype(xp.asarray(x).dtype, copy=False)

    @staticmethod
    def backward(ctx, grad):
        x, = ctx.saved_tensors
        return grad * (2 / math.sqrt(math.pi)) * xp.exp(-(x * x))


# ---- selection between two values -----------------------------------------------------------

class Clamp(Function):
    formula = "grad_x = grad * (lo <= x <= hi); grad_lo = grad * (x < lo); grad_hi = grad * (x > hi)"
    _array_forward = True

    @staticmethod
    def forward(ctx, x, lo, hi):
        ctx.save_for_backward(x, lo, hi)
        y = x
        if lo is not None:
            y = _with_scalar(xp.maximum, y, lo)
        if hi is not None:
            y = _with_scalar(xp.minimum, y, hi)
        return y

    @staticmethod
    def backward(ctx, grad):
        x, lo, hi = ctx.saved_tensors
        need_x, need_lo, need_hi = ctx.needs_input_grad
        inside = True
        if lo is not None:
            inside = inside & (x >= lo)
        if hi is not None:
            inside = inside & (x <= hi)
        grad_x = grad * inside if need_x else None
        grad_lo = grad * (x < lo) if need_lo else None
        grad_hi = grad * (x > hi) if need_hi else None
        return grad_x, grad_lo, grad_hi


class Maximum(Function):
    formula = "grad_a = grad * (a > b, ties 1/2); grad_b = grad - grad_a"
    _array_forward = True
    _elementwise = True
    _number_operands = True

    @staticmethod
    def forward(ctx, a, b):
        ctx.save_for_backward(a, b)
        return xp.maximum(a, b)

    @staticmethod
    def backward(ctx, grad):
        a, b = ctx.saved_tensors
        # why: PyTorch splits the gradient evenly between tied inputs; grad * mask keeps grad's dtype
        # (a mask * 0.5 would be float64)
        grad_a = grad * (a > b) + (grad * 0.5) * (a == b)
        return grad_a, grad - grad_a


class Minimum(Function):
    formula = "grad_a = grad * (a < b, ties 1/2); grad_b = grad - grad_a"
    _array_forward = True
    _elementwise = True
    _number_operands = True

    @staticmethod
    def forward(ctx, a, b):
        ctx.save_for_backward(a, b)
        return xp.minimum(a, b)

    @staticmethod
    def backward(ctx, grad):
        a, b = ctx.saved_tensors
        grad_a = grad * (a < b) + (grad * 0.5) * (a == b)  # ties split evenly, in grad's dtype (see Maximum)
        return grad_a, grad - grad_a


class Where(Function):
    formula = "grad_a = where(cond, grad, 0); grad_b = where(cond, 0, grad)"
    _array_forward = True

    @staticmethod
    def forward(ctx, cond, a, b):
        cond = xp.asarray(cond, dtype=bool)
        ctx.save_for_backward(cond)
        return xp.where(cond, a, b)

    @staticmethod
    def backward(ctx, grad):
        cond, = ctx.saved_tensors
        _, need_a, need_b = ctx.needs_input_grad
        zero = grad * 0
        return None, (xp.where(cond, grad, zero) if need_a else None), (xp.where(cond, zero, grad) if need_b else None)


# ---- functions exposed as ag.NAME (Tensor methods call the classes directly) -------------------

@implements_ufunc(xp.add)
def add(input, other, *, alpha=1):
    """input + alpha * other, with broadcasting."""
    if alpha != 1:
        other = mul(other, alpha)
    return Add._apply2(input, other)


@implements_ufunc(xp.subtract)
def sub(input, other, *, alpha=1):
    """input - alpha * other, with broadcasting."""
    if alpha != 1:
        other = mul(other, alpha)
    return Sub._apply2(input, other)


@implements_ufunc(xp.multiply)
def mul(input, other):
    """input * other, with broadcasting."""
    return Mul._apply2(input, other)


@implements_ufunc(xp.true_divide)
def div(input, other, *, rounding_mode=None):
    """input / other; rounding_mode 'floor' or 'trunc' as in PyTorch."""
    if rounding_mode is None:
        return Div._apply2(input, other)
    if rounding_mode == "floor":
        return FloorDivide._apply2(input, other)
    if rounding_mode == "trunc":
        q = Div._apply2(input, other)
        return Sign._apply1(q) * Floor.apply(Abs._apply1(q))
    raise ValueError(f"div: rounding_mode must be None, 'floor' or 'trunc', got {rounding_mode!r}")


@implements_ufunc(xp.floor_divide)
def floor_divide(input, other):
    """input // other (zero gradient)."""
    return FloorDivide._apply2(input, other)


@implements_ufunc(xp.negative)
def neg(input):
    """-input."""
    return Neg._apply1(input)


@implements_ufunc(xp.power)
def pow(input, exponent):
    """input ** exponent, either may be a tensor."""
    return Pow._apply2(input, exponent)


@implements_ufunc(xp.exp)
def exp(input):
    """e ** input."""
    return Exp._apply1(input)


@implements_ufunc(xp.log)
def log(input):
    """Natural logarithm (log(0) = -inf, log(<0) = nan, quietly)."""
    return Log._apply1(input)


@implements_ufunc(xp.log1p)
def log1p(input):
    """log(1 + input), accurate near 0."""
    return Log1p._apply1(input)


@implements_ufunc(xp.expm1)
def expm1(input):
    """exp(input) - 1, accurate near 0."""
    return Expm1._apply1(input)


@implements_ufunc(xp.sqrt)
def sqrt(input):
    """Square root."""
    return Sqrt._apply1(input)


def rsqrt(input):
    """1 / sqrt(input)."""
    return Rsqrt._apply1(input)


@implements_ufunc(xp.reciprocal)
def reciprocal(input):
    """1 / input."""
    return Reciprocal._apply1(input)


@implements_ufunc(xp.square)
def square(input):
    """input ** 2."""
    return Square._apply1(input)


@implements_ufunc(xp.sin)
def sin(input):
    """Sine."""
    return Sin._apply1(input)


@implements_ufunc(xp.cos)
def cos(input):
    """Cosine."""
    return Cos._apply1(input)


@implements_ufunc(xp.tan)
def tan(input):
    """Tangent."""
    return Tan._apply1(input)


@implements_ufunc(xp.tanh)
def tanh(input):
    """Hyperbolic tangent."""
    return Tanh._apply1(input)


def sigmoid(input):
    """1 / (1 + exp(-input))."""
    return Sigmoid._apply1(input)


def relu(input):
    """max(input, 0)."""
    return Relu._apply1(input)


@implements_ufunc(xp.absolute)
def abs(input):
    """|input| (gradient sign(input), 0 at 0)."""
    return Abs._apply1(input)


@implements_ufunc(xp.sign)
def sign(input):
    """-1, 0 or 1 (zero gradient)."""
    return Sign._apply1(input)


@implements_ufunc(xp.floor)
def floor(input):
    """Round down (zero gradient)."""
    return Floor._apply1(input)


@implements_ufunc(xp.ceil)
def ceil(input):
    """Round up (zero gradient)."""
    return Ceil._apply1(input)


def round(input, decimals=0):
    """Round half to even (zero gradient)."""
    return Round._apply2(input, decimals)


def erf(input):
    """The error function 2/sqrt(pi) * integral_0^x exp(-t^2) dt."""
    return Erf._apply1(input)


def clamp(input, min=None, max=None):
    """Limit input to [min, max]; min/max may be numbers or tensors. Gradient passes inside the range."""
    if min is None and max is None:
        raise ValueError("clamp: at least one of min and max must be given")
    return Clamp.apply(input, min, max)


clip = clamp


@implements_ufunc(xp.maximum)
def maximum(input, other):
    """Elementwise maximum (ties share the gradient)."""
    return Maximum._apply2(input, other)


@implements_ufunc(xp.minimum)
def minimum(input, other):
    """Elementwise minimum (ties share the gradient)."""
    return Minimum._apply2(input, other)


@implements(xp.where)
def where(condition, input=None, other=None):
    """input where condition else other; with only a condition, the indices where it holds."""
    if input is None and other is None:
        return tuple(Tensor._make(i) for i in xp.nonzero(_data(condition)))
    return Where.apply(condition, input, other)


@implements(xp.clip)
def _np_clip(a, a_min=None, a_max=None, **kwargs):
    return Clamp.apply(a, a_min, a_max)


# ---- comparisons and tests: bool results, no gradient ------------------------------------------

def _compare(ufunc, name, a, b):
    try:
        return Tensor._make(xp.asarray(ufunc(_data(a), _data(b))))
    except ValueError as e:
        if "broadcast" in str(e):
            from ..function import broadcast_message
            raise ValueError(broadcast_message(name, [xp.shape(_data(a)), xp.shape(_data(b))])) from None
        raise


@implements_ufunc(xp.equal)
def eq(input, other):
    """input == other (bool tensor)."""
    return _compare(xp.equal, "eq", input, other)


@implements_ufunc(xp.not_equal)
def ne(input, other):
    """input != other (bool tensor)."""
    return _compare(xp.not_equal, "ne", input, other)


@implements_ufunc(xp.less)
def lt(input, other):
    """input < other (bool tensor)."""
    return _compare(xp.less, "lt", input, other)


@implements_ufunc(xp.less_equal)
def le(input, other):
    """input <= other (bool tensor)."""
    return _compare(xp.less_equal, "le", input, other)


@implements_ufunc(xp.greater)
def gt(input, other):
    """input > other (bool tensor)."""
    return _compare(xp.greater, "gt", input, other)


@implements_ufunc(xp.greater_equal)
def ge(input, other):
    """input >= other (bool tensor)."""
    return _compare(xp.greater_equal, "ge", input, other)


@implements_ufunc(xp.logical_and)
def logical_and(input, other):
    """Elementwise and (bool tensor)."""
    return _compare(xp.logical_and, "logical_and", input, other)


@implements_ufunc(xp.logical_or)
def logical_or(input, other):
    """Elementwise or (bool tensor)."""
    return _compare(xp.logical_or, "logical_or", input, other)


@implements_ufunc(xp.logical_xor)
def logical_xor(input, other):
    """Elementwise exclusive or (bool tensor)."""
    return _compare(xp.logical_xor, "logical_xor", input, other)


@implements_ufunc(xp.logical_not)
def logical_not(input):
    """Elementwise not (bool tensor)."""
    return Tensor._make(xp.asarray(xp.logical_not(_data(input))))


@implements_ufunc(xp.isnan)
def isnan(input):
    """True where input is NaN."""
    return Tensor._make(xp.asarray(xp.isnan(_data(input))))


@implements_ufunc(xp.isinf)
def isinf(input):
    """True where input is +-inf."""
    return Tensor._make(xp.asarray(xp.isinf(_data(input))))


@implements_ufunc(xp.isfinite)
def isfinite(input):
    """True where input is neither NaN nor inf."""
    return Tensor._make(xp.asarray(xp.isfinite(_data(input))))


@implements_ufunc(xp.bitwise_and)
def _bitwise_and(a, b):
    return _compare(xp.bitwise_and, "and", a, b)


@implements_ufunc(xp.bitwise_or)
def _bitwise_or(a, b):
    return _compare(xp.bitwise_or, "or", a, b)


@implements_ufunc(xp.invert)
def _invert(a):
    return Tensor._make(xp.asarray(xp.invert(_data(a))))
