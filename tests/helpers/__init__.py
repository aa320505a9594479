"""Shared fixtures' building blocks."""
