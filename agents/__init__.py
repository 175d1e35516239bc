"""Agents: heuristic baselines, the exact oracle, the SB3 factory and the agent protocol."""
