"""Club administration: members and roles, organisations (dashboard, reports, segments and imports follow)."""
