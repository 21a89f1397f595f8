"""Experiments: a YAML grid of datasets x methods x shots x trials run cell by cell, reusing shared work."""
