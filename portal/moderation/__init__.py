"""Moderation: the registry of moderatable content, flags, review queue, trust, word filter, sanctions, audit log."""
