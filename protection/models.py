"""Capital protection's records (exit legs, loss limits, halts' actions)."""
