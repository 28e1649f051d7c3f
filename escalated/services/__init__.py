"""The write path. Every change, from any door, goes through a function in this package."""
