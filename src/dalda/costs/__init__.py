"""What a run costs before it runs: GPU-hours from counted FLOPs and a GPU's throughput, and disk for its images."""

from dalda.costs.estimate import Estimate, estimate, format_estimate

__all__ = ["Estimate", "estimate", "format_estimate"]
