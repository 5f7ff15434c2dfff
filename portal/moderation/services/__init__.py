"""The writers of moderation, one module per concern (audit, flags, queue, trust, words, sanctions, notes)."""
