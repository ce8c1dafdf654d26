"""Long-running loops: the engine's decider and timers, and the user-facing worker SDK."""
