"""Fixtures for the movies domain against the real local stack (defined in landing.py, shared with the
dashboard's page test)."""
from tests.integration.movies.landing import movies_landed  # noqa: F401  (a fixture)
