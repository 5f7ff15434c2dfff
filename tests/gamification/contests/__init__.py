"""Tests of photo contests."""
