"""A small package for the example."""
from greeting.hello import greet  # noqa: F401
