"""Concurrency building blocks of the endpoints: the main-thread executor."""
