"""`ag.autograd`: the names PyTorch keeps under torch.autograd (Function, grad, backward, gradcheck ...)."""
from .anomaly import detect_anomaly, set_detect_anomaly  # noqa: F401
from .function import Function  # noqa: F401
from .gradcheck import gradcheck, gradgradcheck  # noqa: F401
from .graph import backward, grad  # noqa: F401
