"""Grading: run a module's checkpoints against a tree, and report the verdicts."""
