"""autograd_core.viz: graph drawings and backward explainer (issue 3)."""
