"""nn: Module system, layers, losses (issue 4)."""
