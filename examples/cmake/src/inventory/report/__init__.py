"""Reports on a stock."""
