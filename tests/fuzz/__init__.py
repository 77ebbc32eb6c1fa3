"""Fuzzing the .inr decoder: a shared harness, an atheris target and its seed corpus."""
