"""optim: optimizers and schedules (issue 5)."""
