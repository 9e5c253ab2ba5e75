"""The compliance fixtures campaigns tests need (the default lexicon after a flush)."""

from compliance.tests.conftest import default_lexicon  # noqa: F401 - a fixture
