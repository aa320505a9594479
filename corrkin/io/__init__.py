"""Files in and out: keypoint formats, results."""
