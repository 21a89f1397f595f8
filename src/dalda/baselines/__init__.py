"""Baseline generators the paper compares against: Real Guidance and DA-Fusion (SD img2img)."""
