"""Benchmarks (not tests): seed a throw-away database at scale and time the application."""
