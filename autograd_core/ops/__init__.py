"""Differentiable primitives, grouped by kind: one Function subclass per op."""
