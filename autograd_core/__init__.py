"""autograd_core: a Tensor that records operations on a tape, and a reverse pass that differentiates them.

Use it as you would `torch`:

    import autograd_core as ag
    x = ag.tensor([1.0, 2.0], requires_grad=True)
    (x * x).sum().backward()
    x.grad  # tensor([2., 4.])
"""
from .tensor import Tensor  # noqa: I001  (binds Tensor into every op module first)
from .function import Function, AccumulateGrad
from .grad_mode import no_grad, enable_grad, set_grad_enabled, is_grad_enabled, inference_mode
from .graph import backward, grad
from .anomaly import detect_anomaly, set_detect_anomaly, is_anomaly_enabled
from .gradcheck import gradcheck, gradgradcheck, GradcheckError
from .dtypes import (float32, float64, float16, int64, int32, int16, int8, uint8, bool, complex64,  # noqa: A004
                     float, double, half, long, int, short, set_default_dtype, get_default_dtype,
                     device, cuda)
from .creation import (tensor, as_tensor, from_numpy, zeros, ones, empty, full, zeros_like, ones_like,
                       empty_like, full_like, rand_like, randn_like, arange, linspace, logspace, eye,
                       Generator, default_generator, manual_seed, seed, initial_seed, get_rng_state,
                       set_rng_state, rand, randn, randint, randperm, normal, bernoulli, multinomial)
from .ops.elementwise import (add, sub, mul, div, floor_divide, neg, pow, exp, log, log1p, expm1, sqrt,
                              rsqrt, reciprocal, square, sin, cos, tan, tanh, sigmoid, relu, abs, sign,
                              floor, ceil, round, erf, clamp, clip, maximum, minimum, where, eq, ne, lt,
                              le, gt, ge, logical_and, logical_or, logical_xor, logical_not, isnan, isinf,
                              isfinite)
from .ops.reduce import (sum, mean, prod, var, std, max, min, amax, amin, logsumexp, norm, argmax, argmin,  # noqa: A004
                         cumsum, all, any)
from .ops.movement import (reshape, permute, transpose, swapaxes, swapdims, expand, broadcast_to, flatten,
                           unflatten, squeeze, unsqueeze, movedim, moveaxis, tile, flip, roll, cat,
                           concatenate, concat, stack, split, chunk, unbind, narrow, tril, triu)
from .ops.indexing import gather, scatter_add, index_select, masked_fill, topk, sort, argsort, unique, nonzero
from .ops.linalg import matmul, mm, bmm, einsum, outer, ger, dot
from . import autograd
from .serialization import save, load
from . import viz
from .viz import checked_backward

subtract, multiply, divide, negative, absolute, true_divide = sub, mul, div, neg, abs, div
__version__ = "0.1.0"
