"""The gamification and loyalty side: the points engine, loyalty, photo contests and quizzes."""
