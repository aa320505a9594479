"""The bat-tip detector."""
