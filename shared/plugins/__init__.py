"""Plugin families of the agent framework."""
