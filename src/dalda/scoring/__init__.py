"""The score stage: each real training image's alignment score (paper Sec. 3.1), by the configured scorer."""
