"""Segments: saved filters over members, used by contests, campaigns, promotions and reports."""
