"""Members, roles, organisations, sign-up, login, verification, password reset and profiles."""
