"""The example's browser tour uses the framework's browser fixtures: the local stack on the shipped
apps/ and a headless chromium (tests/e2e/conftest.py)."""

from tests.e2e.conftest import browser, pytest_runtest_makereport, stack

__all__ = ["browser", "pytest_runtest_makereport", "stack"]
