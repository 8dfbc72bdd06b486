"""Linear layers and shape helpers: Identity, Flatten, Unflatten, Linear, Bilinear."""
import math

import autograd_core as ag
from autograd_core.dtypes import check_device

from . import functional as F
from . import init
from .module import Module, Parameter


class Identity(Module):
    """Returns its input unchanged (any constructor arguments are ignored, as in PyTorch)."""

    def __init__(self, *args, **kwargs):
        super().__init__()

    def forward(self, input):
        return input


class Flatten(Module):
    """Flatten dims start_dim..end_dim into one: (N, C, H, W) -> (N, C*H*W) with the defaults."""

    def __init__(self, start_dim=1, end_dim=-1):
        super().__init__()
        self.start_dim = start_dim
        self.end_dim = end_dim

    def forward(self, input):
        return input.flatten(self.start_dim, self.end_dim)

    def extra_repr(self):
        return f"start_dim={self.start_dim}, end_dim={self.end_dim}"


class Unflatten(Module):
    """Split dimension dim into unflattened_size: Unflatten(1, (C, H, W)) turns (N, C*H*W) into (N, C, H, W)."""

    def __init__(self, dim, unflattened_size):
        super().__init__()
        if isinstance(dim, str):
            raise TypeError("Unflatten: named dimensions are not supported; pass an int dim")
        if not isinstance(unflattened_size, (tuple, list)):
            raise TypeError(f"Unflatten: unflattened_size must be a tuple of ints, got "
                            f"{type(unflattened_size).__name__}")
        self.dim = dim
        self.unflattened_size = tuple(unflattened_size)

    def forward(self, input):
        return input.unflatten(self.dim, self.unflattened_size)

    def extra_repr(self):
        return f"dim={self.dim}, unflattened_size={self.unflattened_size}"


def _float_dtype(dtype):
    return ag.get_default_dtype() if dtype is None else dtype


class Linear(Module):
    """y = x @ weight.T + bias, for input (*, in_features) -> (*, out_features).

    weight: (out_features, in_features), bias: (out_features,). PyTorch's default init:
    kaiming_uniform_(weight, a=sqrt(5)), i.e. U(-1/sqrt(in_features), 1/sqrt(in_features)), and the
    bias from the same U(-1/sqrt(fan_in), 1/sqrt(fan_in)).
    """

    def __init__(self, in_features, out_features, bias=True, device=None, dtype=None):
        super().__init__()
        check_device(device, "Linear")
        self.in_features = in_features
        self.out_features = out_features
        self.weight = Parameter(ag.empty(out_features, in_features, dtype=_float_dtype(dtype)))
        if bias:
            self.bias = Parameter(ag.empty(out_features, dtype=_float_dtype(dtype)))
        else:
            self.register_parameter("bias", None)
        self.reset_parameters()

    def reset_parameters(self):
        """Re-draw weight and bias with PyTorch's default initialisation."""
        init.kaiming_uniform_(self.weight, a=math.sqrt(5))
        if self.bias is not None:
            fan_in, _ = init._calculate_fan_in_and_fan_out(self.weight)
            bound = 1 / math.sqrt(fan_in) if fan_in > 0 else 0
            init.uniform_(self.bias, -bound, bound)

    def forward(self, input):
        shape = getattr(input, "shape", None)
        if shape is None or len(shape) == 0 or shape[-1] != self.in_features:
            raise ValueError(f"Linear(in_features={self.in_features}, out_features={self.out_features}): expected "
                             f"input with last dimension {self.in_features}, got shape {tuple(shape or ())}")
        return F.linear(input, self.weight, self.bias)

    def extra_repr(self):
        return f"in_features={self.in_features}, out_features={self.out_features}, bias={self.bias is not None}"


class Bilinear(Module):
    """y = x1^T A x2 + b for inputs (*, in1_features) and (*, in2_features) -> (*, out_features).

    weight: (out_features, in1_features, in2_features); weight and bias start as
    U(-1/sqrt(in1_features), 1/sqrt(in1_features)), as in PyTorch.
    """

    def __init__(self, in1_features, in2_features, out_features, bias=True, device=None, dtype=None):
        super().__init__()
        check_device(device, "Bilinear")
        self.in1_features = in1_features
        self.in2_features = in2_features
        self.out_features = out_features
        self.weight = Parameter(ag.empty(out_features, in1_features, in2_features, dtype=_float_dtype(dtype)))
        if bias:
            self.bias = Parameter(ag.empty(out_features, dtype=_float_dtype(dtype)))
        else:
            self.register_parameter("bias", None)
        self.reset_parameters()

    def reset_parameters(self):
        """Re-draw weight and bias from U(-1/sqrt(in1_features), 1/sqrt(in1_features))."""
        bound = 1 / math.sqrt(self.weight.shape[1])
        init.uniform_(self.weight, -bound, bound)
        if self.bias is not None:
            init.uniform_(self.bias, -bound, bound)

    def forward(self, input1, input2):
        if input1.shape[-1] != self.in1_features or input2.shape[-1] != self.in2_features:
            raise ValueError(f"Bilinear(in1_features={self.in1_features}, in2_features={self.in2_features}, "
                             f"out_features={self.out_features}): expected inputs with last dimensions "
                             f"{self.in1_features} and {self.in2_features}, got shapes {tuple(input1.shape)} "
                             f"and {tuple(input2.shape)}")
        # (*, 1, 1, in1) @ (out, in1, in2) -> (*, out, 1, in2)
        t = input1.unsqueeze(-2).unsqueeze(-2) @ self.weight
        out = (t.squeeze(-2) * input2.unsqueeze(-2)).sum(-1)  # (*, out)
        if self.bias is not None:
            out = out + self.bias
        return out

    def extra_repr(self):
        return (f"in1_features={self.in1_features}, in2_features={self.in2_features}, "
                f"out_features={self.out_features}, bias={self.bias is not None}")
