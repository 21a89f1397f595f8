"""The filter stage (`dalda filter`): decide which synthetic images training may use; see ``stage``."""
