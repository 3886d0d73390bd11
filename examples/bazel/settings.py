"""Settings at the top of the workspace (its pycs go to __pycache__/ at the runfiles root)."""
DEFAULT_NAME = "world"
