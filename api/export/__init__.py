"""Best configs leaving tuneforge: leaderboard records, JSON lines, and vendorable Python modules."""
