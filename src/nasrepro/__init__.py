"""Reproduction suite for 'Stronger NAS with Weaker Predictors' (WeakNAS, NeurIPS 2021)."""

__version__ = "0.1.0"
