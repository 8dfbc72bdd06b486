"""Models from the course: LeNet-5, a VGG builder from a configuration, a small ResNet, and (from nn/gpt.py) GPT.

The layers are looked up in `nn` when a model is built, not when this file is imported (it is
imported at the end of nn/__init__.py), so these models use whatever `nn.Conv2d`, `nn.MaxPool2d`... are.
"""
import nn

__all__ = ["LeNet5", "VGG_CONFIGS", "vgg", "VGG", "BasicBlock", "ResNet", "resnet_small"]


class LeNet5(nn.Module):
    """LeNet-5 (LeCun et al. 1998): two 5x5 convolutions with subsampling, then three full connections.

    Input (N, 1, 28, 28) (MNIST; the first conv pads by 2 to give LeNet's 32x32) or (N, 1, 32, 32)
    with padding=0. The course's figure "Convolutions / Subsampling / Full connection":
    C1 6@28x28 - S2 6@14x14 - C3 16@10x10 - S4 16@5x5 - F5 120 - F6 84 - 10.
    activation="tanh" with average-pool subsampling is the original; activation="relu" uses max-pool,
    the modern variant that trains faster.
    """

    def __init__(self, num_classes=10, in_channels=1, activation="tanh", padding=2):
        super().__init__()
        if activation not in ("tanh", "relu"):
            raise ValueError(f"LeNet5: activation must be 'tanh' or 'relu', got {activation!r}")
        act = nn.Tanh if activation == "tanh" else nn.ReLU
        pool = (lambda: nn.AvgPool2d(2)) if activation == "tanh" else (lambda: nn.MaxPool2d(2))
        self.features = nn.Sequential(
            nn.Conv2d(in_channels, 6, 5, padding=padding), act(), pool(),     # (N, 6, 14, 14)
            nn.Conv2d(6, 16, 5), act(), pool(),                               # (N, 16, 5, 5)
        )
        self.classifier = nn.Sequential(
            nn.Flatten(),
            nn.Linear(16 * 5 * 5, 120), act(),
            nn.Linear(120, 84), act(),
            nn.Linear(84, num_classes),
        )

    def forward(self, x):
        return self.classifier(self.features(x))


# The VGG configurations of Simonyan & Zisserman (2014): numbers are 3x3 conv widths, 'M' a 2x2 max-pool.
VGG_CONFIGS = {
    "vgg11": [64, "M", 128, "M", 256, 256, "M", 512, 512, "M", 512, 512, "M"],
    "vgg13": [64, 64, "M", 128, 128, "M", 256, 256, "M", 512, 512, "M", 512, 512, "M"],
    "vgg16": [64, 64, "M", 128, 128, "M", 256, 256, 256, "M", 512, 512, 512, "M", 512, 512, 512, "M"],
    "vgg19": [64, 64, "M", 128, 128, "M", 256, 256, 256, 256, "M", 512, 512, 512, 512, "M",
              512, 512, 512, 512, "M"],
    # a small VGG-like net for 28x28 MNIST / 32x32 inputs that trains in minutes on a CPU
    "vgg_small": [16, 16, "M", 32, 32, "M", 64, 64, "M"],
}


class VGG(nn.Module):
    """A VGG network: `features` (convs and pools from a configuration), global pooling, `classifier`.

    The classifier sees the last feature maps average-pooled to `pool_size` (7x7 in the original,
    for 224x224 inputs; AdaptiveAvgPool2d makes any input size work).
    """

    def __init__(self, features, out_channels, num_classes=10, classifier_width=4096, pool_size=7, dropout=0.5):
        super().__init__()
        self.features = features
        self.avgpool = nn.AdaptiveAvgPool2d(pool_size)
        flat = out_channels * pool_size * pool_size
        if classifier_width:
            self.classifier = nn.Sequential(
                nn.Flatten(),
                nn.Linear(flat, classifier_width), nn.ReLU(), nn.Dropout(dropout),
                nn.Linear(classifier_width, classifier_width), nn.ReLU(), nn.Dropout(dropout),
                nn.Linear(classifier_width, num_classes),
            )
        else:
            self.classifier = nn.Sequential(nn.Flatten(), nn.Linear(flat, num_classes))

    def forward(self, x):
        return self.classifier(self.avgpool(self.features(x)))


def make_vgg_features(cfg, in_channels=3, batch_norm=False):
    """nn.Sequential of 3x3 convs (stride 1, padding 1) + [BatchNorm2d] + ReLU, and 2x2 max-pools for 'M'."""
    layers, c = [], in_channels
    for v in cfg:
        if v == "M":
            layers.append(nn.MaxPool2d(2, 2))
        elif isinstance(v, int) and v > 0:
            layers.append(nn.Conv2d(c, v, 3, padding=1))
            if batch_norm:
                layers.append(nn.BatchNorm2d(v))
            layers.append(nn.ReLU())
            c = v
        else:
            raise ValueError(f"vgg: a configuration entry must be a positive int or 'M', got {v!r}")
    return nn.Sequential(*layers), c


def vgg(cfg, in_channels=3, num_classes=10, batch_norm=False, classifier_width=4096, pool_size=7, dropout=0.5):
    """Build a VGG from a configuration list ([64, 64, 'M', 128, ...]) or a name in VGG_CONFIGS ('vgg16').

    3x3 convolutions with stride 1 and padding 1, 2x2 max-pools with stride 2 (the course's VGG16
    table), then adaptive average pooling to pool_size x pool_size and a classifier: two hidden
    layers of classifier_width with ReLU and dropout (4096 in the original), or a single Linear
    layer when classifier_width is 0/None. vgg('vgg16', 3, 1000) is the ImageNet VGG16 (138 M parameters).
    """
    if isinstance(cfg, str):
        if cfg not in VGG_CONFIGS:
            raise ValueError(f"vgg: unknown configuration {cfg!r}; known: {sorted(VGG_CONFIGS)}")
        cfg = VGG_CONFIGS[cfg]
    features, c = make_vgg_features(cfg, in_channels, batch_norm)
    return VGG(features, c, num_classes, classifier_width, pool_size, dropout)


class BasicBlock(nn.Module):
    """ResNet's basic block (He et al. 2015): relu(bn(conv3x3(relu(bn(conv3x3(x))))) + shortcut(x)).

    The shortcut is the identity when the shape is kept, else a 1x1 convolution with `stride` and
    BatchNorm (the "projection shortcut", option B). (N, in_planes, H, W) -> (N, planes, H/stride, W/stride).
    """
    expansion = 1

    def __init__(self, in_planes, planes, stride=1):
        super().__init__()
        self.conv1 = nn.Conv2d(in_planes, planes, 3, stride=stride, padding=1, bias=False)
        self.bn1 = nn.BatchNorm2d(planes)
        self.conv2 = nn.Conv2d(planes, planes, 3, stride=1, padding=1, bias=False)
        self.bn2 = nn.BatchNorm2d(planes)
        if stride != 1 or in_planes != planes:
            self.shortcut = nn.Sequential(nn.Conv2d(in_planes, planes, 1, stride=stride, bias=False),
                                          nn.BatchNorm2d(planes))
        else:
            self.shortcut = nn.Identity()

    def forward(self, x):
        out = self.bn1(self.conv1(x)).relu()
        out = self.bn2(self.conv2(out))
        return (out + self.shortcut(x)).relu()


class ResNet(nn.Module):
    """A CIFAR-style ResNet: a 3x3 stem, stages of blocks (each after the first halves H, W and doubles
    the width), global average pooling and one Linear layer."""

    def __init__(self, block, num_blocks, num_classes=10, in_channels=1, width=16):
        super().__init__()
        self.stem = nn.Sequential(nn.Conv2d(in_channels, width, 3, padding=1, bias=False),
                                  nn.BatchNorm2d(width), nn.ReLU())
        stages, c = [], width
        for i, n in enumerate(num_blocks):
            planes = width * 2 ** i
            for j in range(n):
                stride = 2 if (i > 0 and j == 0) else 1
                stages.append(block(c, planes, stride))
                c = planes * block.expansion
        self.layers = nn.Sequential(*stages)
        self.pool = nn.AdaptiveAvgPool2d(1)
        self.fc = nn.Linear(c, num_classes)

    def forward(self, x):
        x = self.pool(self.layers(self.stem(x)))   # (N, C, 1, 1)
        return self.fc(x.flatten(1))


def resnet_small(num_blocks=(2, 2, 2), num_classes=10, in_channels=1, width=16):
    """A small ResNet of BasicBlocks: (2, 2, 2) with width 16 gives widths 16-32-64 (a ResNet-14 for MNIST/CIFAR)."""
    return ResNet(BasicBlock, num_blocks, num_classes, in_channels, width)


# the GPT language model lives in nn/gpt.py; users look for it here, as nn.models.GPT
from .gpt import GPT, GPTConfig  # noqa: E402,F401
