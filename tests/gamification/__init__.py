"""Tests of the gamification packages."""
