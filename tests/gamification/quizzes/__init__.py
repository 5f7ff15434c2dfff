"""Tests of quizzes."""
