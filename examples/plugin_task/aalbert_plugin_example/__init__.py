"""Example aalbert plugin package."""
