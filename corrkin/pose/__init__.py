"""Pose stages: choosing and tracking the batter among the people in a frame."""
