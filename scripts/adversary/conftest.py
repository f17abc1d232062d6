"""The attack suite borrows the test suite's throwaway PostgreSQL fixture."""

from tests.conftest import postgres_server  # noqa: F401 - a fixture, used by name
