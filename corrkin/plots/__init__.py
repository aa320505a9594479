"""Figures people read."""
