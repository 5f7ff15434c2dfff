"""Tests of portal.moderation."""
