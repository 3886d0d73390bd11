"""Output formats for chime."""
