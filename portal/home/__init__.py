"""The shell's own pages: home, language switch, uploaded media, health check."""
