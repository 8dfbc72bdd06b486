"""Convolution layers: Conv1d, Conv2d, ConvTranspose2d (PyTorch's arguments, parameter layouts and init)."""
import math

import autograd_core as ag
from autograd_core.dtypes import check_device

from . import functional as F
from . import init
from .module import Module, Parameter

_PADDING_MODES = ("zeros", "reflect", "replicate", "circular")


def _ntuple(value, n, layer, what):
    if isinstance(value, (tuple, list)):
        if len(value) != n:
            raise ValueError(f"{layer}: {what} must be an int or a tuple of {n} ints, got {value!r}")
        return tuple(value)
    return (value,) * n


class _ConvNd(Module):
    """Shared constructor, init and repr of the convolution layers (weight (out, in/groups, *k); transposed
    weight (in, out/groups, *k)); default init kaiming_uniform_(a=sqrt(5)), bias U(+-1/sqrt(fan_in)), as PyTorch."""

    _nd = 2
    _transposed = False

    def __init__(self, in_channels, out_channels, kernel_size, stride=1, padding=0, dilation=1, groups=1,
                 bias=True, padding_mode="zeros", device=None, dtype=None, output_padding=0):
        super().__init__()
        name, n = type(self).__name__, self._nd
        check_device(device, name)
        if not isinstance(groups, int) or groups <= 0:
            raise ValueError(f"{name}: groups must be a positive integer, got {groups!r}")
        if in_channels % groups:
            raise ValueError(f"{name}: in_channels ({in_channels}) must be divisible by groups ({groups})")
        if out_channels % groups:
            raise ValueError(f"{name}: out_channels ({out_channels}) must be divisible by groups ({groups})")
        if padding_mode not in _PADDING_MODES:
            raise ValueError(f"{name}: padding_mode must be one of {_PADDING_MODES}, got {padding_mode!r}")
        if padding_mode != "zeros":
            raise NotImplementedError(f"{name}: padding_mode={padding_mode!r} is not implemented; only 'zeros' is")
        self.in_channels = in_channels
        self.out_channels = out_channels
        self.kernel_size = _ntuple(kernel_size, n, name, "kernel_size")
        self.stride = _ntuple(stride, n, name, "stride")
        if isinstance(padding, str):
            if self._transposed or padding not in ("same", "valid"):
                allowed = "an int or a tuple" + ("" if self._transposed else ", 'same' or 'valid'")
                raise ValueError(f"{name}: padding must be {allowed}, got {padding!r}")
            if padding == "same" and any(s != 1 for s in self.stride):
                raise ValueError(f"{name}: padding='same' is not supported for strided convolutions")
            self.padding = padding
        else:
            self.padding = _ntuple(padding, n, name, "padding")
        self.dilation = _ntuple(dilation, n, name, "dilation")
        self.output_padding = _ntuple(output_padding, n, name, "output_padding")
        self.groups = groups
        self.padding_mode = padding_mode
        self.transposed = self._transposed
        dt = ag.get_default_dtype() if dtype is None else dtype
        shape = ((in_channels, out_channels // groups) if self._transposed
                 else (out_channels, in_channels // groups)) + self.kernel_size
        self.weight = Parameter(ag.empty(*shape, dtype=dt))
        if bias:
            self.bias = Parameter(ag.empty(out_channels, dtype=dt))
        else:
            self.register_parameter("bias", None)
        self.reset_parameters()

    def reset_parameters(self):
        """Re-draw weight and bias with PyTorch's default initialisation."""
        init.kaiming_uniform_(self.weight, a=math.sqrt(5))
        if self.bias is not None:
            fan_in, _ = init._calculate_fan_in_and_fan_out(self.weight)
            if fan_in != 0:
                bound = 1 / math.sqrt(fan_in)
                init.uniform_(self.bias, -bound, bound)

    def _check_input(self, input):
        """Rank and channel count, with the layer named in the error."""
        n = self._nd
        shape = tuple(getattr(input, "shape", ()))
        head = f"{type(self).__name__}({self.in_channels}, {self.out_channels}, kernel_size={self.kernel_size})"
        if len(shape) not in (n + 1, n + 2):
            raise ValueError(f"{head}: expected {n + 1}-D (unbatched) or {n + 2}-D (batched) input, got shape {shape}")
        c = shape[0] if len(shape) == n + 1 else shape[1]
        if c != self.in_channels:
            raise ValueError(f"{head}: expected input with {self.in_channels} channels, got {c} (input shape {shape})")

    def extra_repr(self):
        s = f"{self.in_channels}, {self.out_channels}, kernel_size={self.kernel_size}, stride={self.stride}"
        if self.padding != (0,) * self._nd:
            s += f", padding={self.padding if not isinstance(self.padding, str) else repr(self.padding)[1:-1]}"
        if self.dilation != (1,) * self._nd:
            s += f", dilation={self.dilation}"
        if self.output_padding != (0,) * self._nd:
            s += f", output_padding={self.output_padding}"
        if self.groups != 1:
            s += f", groups={self.groups}"
        if self.bias is None:
            s += ", bias=False"
        if self.padding_mode != "zeros":
            s += f", padding_mode={self.padding_mode}"
        return s


class Conv1d(_ConvNd):
    """1-D convolution: input (N, C_in, L) or (C_in, L) -> (N, C_out, L_out); weight (C_out, C_in/groups, k)."""

    _nd = 1

    def __init__(self, in_channels, out_channels, kernel_size, stride=1, padding=0, dilation=1, groups=1,
                 bias=True, padding_mode="zeros", device=None, dtype=None):
        super().__init__(in_channels, out_channels, kernel_size, stride, padding, dilation, groups, bias,
                         padding_mode, device, dtype)

    def forward(self, input):
        self._check_input(input)
        return F.conv1d(input, self.weight, self.bias, self.stride, self.padding, self.dilation, self.groups)


class Conv2d(_ConvNd):
    """2-D convolution: input (N, C_in, H, W) or (C_in, H, W) -> (N, C_out, H_out, W_out).

    weight (C_out, C_in/groups, kH, kW), bias (C_out,); padding an int, a pair, 'same' or 'valid'.
    """

    def __init__(self, in_channels, out_channels, kernel_size, stride=1, padding=0, dilation=1, groups=1,
                 bias=True, padding_mode="zeros", device=None, dtype=None):
        super().__init__(in_channels, out_channels, kernel_size, stride, padding, dilation, groups, bias,
                         padding_mode, device, dtype)

    def forward(self, input):
        self._check_input(input)
        return F.conv2d(input, self.weight, self.bias, self.stride, self.padding, self.dilation, self.groups)


class ConvTranspose2d(_ConvNd):
    """Transposed 2-D convolution (conv2d's input gradient as a layer, e.g. for upsampling in decoders).

    weight (C_in, C_out/groups, kH, kW), bias (C_out,). forward(input, output_size=None): output_size
    (H, W) or (N, C, H, W) picks output_padding, as in PyTorch.
    """

    _transposed = True

    def __init__(self, in_channels, out_channels, kernel_size, stride=1, padding=0, output_padding=0, groups=1,
                 bias=True, dilation=1, padding_mode="zeros", device=None, dtype=None):
        super().__init__(in_channels, out_channels, kernel_size, stride, padding, dilation, groups, bias,
                         padding_mode, device, dtype, output_padding=output_padding)

    def _output_padding(self, input, output_size):
        if output_size is None:
            return self.output_padding
        size = tuple(output_size)[-2:]
        out = []
        for d in range(2):
            n = input.shape[input.ndim - 2 + d]
            smallest = ((n - 1) * self.stride[d] - 2 * self.padding[d]
                        + self.dilation[d] * (self.kernel_size[d] - 1) + 1)
            largest = smallest + max(self.stride[d], self.dilation[d]) - 1
            if not smallest <= size[d] <= largest:
                raise ValueError(f"ConvTranspose2d: requested output size {tuple(size)} is not reachable: dim {d} "
                                 f"must be between {smallest} and {largest} for input shape {tuple(input.shape)}")
            out.append(size[d] - smallest)
        return tuple(out)

    def forward(self, input, output_size=None):
        self._check_input(input)
        return F.conv_transpose2d(input, self.weight, self.bias, self.stride, self.padding,
                                  self._output_padding(input, output_size), self.groups, self.dilation)
