"""Fused primitives for neural-network hot paths (softmax, cross-entropy, conv, attention ...), added with their issues."""
