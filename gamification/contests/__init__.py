"""Photo contests: themed submissions, fair voting, winners computed when voting closes."""
