"""The points engine: rules, ledger, balances, tiers, badges, leaderboards, referrals."""
