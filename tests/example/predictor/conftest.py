"""The predictor's fixtures (the trained live model) for the example's own tests."""

from tests.predictor.conftest import model_dir, trained  # noqa: F401
