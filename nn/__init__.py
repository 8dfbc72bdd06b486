"""nn: the Module system, layers, activations, losses, initialisations and data loading (PyTorch's torch.nn)."""
# Each section is owned by one part of the package; add import lines only inside your own section.

# ---- module system, containers, linear/embedding/dropout layers (nn/module.py, containers.py, linear.py ...) ----
from .module import Module, Parameter
from .containers import Sequential, ModuleList, ModuleDict
from .linear import Identity, Flatten, Unflatten, Linear, Bilinear
from .sparse import Embedding
from .dropout import Dropout, Dropout1d, Dropout2d
from . import init, utils

# ---- activations, losses, normalisation layers (nn/activation.py, loss.py, normalization.py) ----
from . import functional
from .activation import (ReLU, LeakyReLU, ELU, SELU, CELU, GELU, SiLU, Mish, Sigmoid, Tanh, Softplus, Softsign,
                         Hardtanh, ReLU6, LogSigmoid, Softmax, Softmin, LogSoftmax, Step)
from .loss import (MSELoss, L1Loss, SmoothL1Loss, HuberLoss, CrossEntropyLoss, NLLLoss, BCELoss, BCEWithLogitsLoss,
                   KLDivLoss, CosineEmbeddingLoss)
from .normalization import BatchNorm1d, BatchNorm2d, LayerNorm, GroupNorm

# ---- subpackages ----
from . import data
from . import training

# ---- models and explainability (nn/models.py, nn/explain.py) ----
from . import models
from . import explain
from .pooling import (MaxPool1d, MaxPool2d, AvgPool1d, AvgPool2d, LPPool2d, AdaptiveAvgPool2d, AdaptiveMaxPool2d,
                      Upsample)
from .conv import Conv1d, Conv2d, ConvTranspose2d

# ---- recurrent layers (nn/rnn.py, issue 7) ----
from .rnn import RNNBase, RNN, LSTM, GRU, RNNCellBase, RNNCell, LSTMCell, GRUCell

# ---- attention, transformers and positional encodings (nn/transformer.py, issue 8) ----
from .transformer import (MultiheadAttention, TransformerEncoderLayer, TransformerDecoderLayer, TransformerEncoder,
                          TransformerDecoder, Transformer, SinusoidalPositionalEncoding, LearnedPositionalEncoding)
from . import gpt
