"""Quizzes: question banks, timed attempts scored on the server, results and leaderboards."""
