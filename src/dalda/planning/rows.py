"""The plan's row type and file functions under the names the planning and generation code use.

The type and its file format live in :mod:`dalda.artefacts.plan` (the run directory's typed files).
"""

from dalda.artefacts.plan import PlanRow

read_plan = PlanRow.read_all
write_plan = PlanRow.write_all

__all__ = ["PlanRow", "read_plan", "write_plan"]
