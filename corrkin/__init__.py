"""corrkin."""
