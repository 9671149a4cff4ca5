"""Observation-only probe agents that pursue goals nobody declared (see `navigator`)."""
