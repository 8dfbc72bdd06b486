"""autograd_core.viz: graph drawings and backward explainer (issue 3)."""
from .draw import draw_graph, save, record, GraphvizNotFoundError
from .text import to_text, print_graph
from .explain import explain_backward, backward_steps
from .checked import checked_backward, GradientCheckError
