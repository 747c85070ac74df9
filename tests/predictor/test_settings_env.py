"""The predictor's settings write the environment they read (the Lambda's variables, and the laptop's)."""

from __future__ import annotations

from pathlib import Path

from hypothesis import given
from hypothesis import strategies as st
from predictor.settings import DEFAULT_MODEL_DIR, PredictorSettings

from tests.envcheck import FALLBACKS, assert_owns_its_environment, folders, levels, read_by

predictors = st.builds(PredictorSettings, model_dir=st.one_of(st.just(DEFAULT_MODEL_DIR), folders.map(Path)),
                       log_level=levels)


@given(predictors)
def test_predictor_settings_round_trip_through_their_environment(predictor: PredictorSettings) -> None:
    default_folder = predictor.model_dir == DEFAULT_MODEL_DIR
    assert_owns_its_environment(predictor, unwritten={"MODEL_DIR"} if default_folder else set())


def test_every_variable_the_predictor_reads_is_written() -> None:
    assert_owns_its_environment(PredictorSettings(model_dir=Path("/tmp/model"), log_level="DEBUG"))
    assert read_by(PredictorSettings.from_env, {}) - set(PredictorSettings(Path("/tmp/m")).to_env()) <= set(FALLBACKS)


def test_the_code_folder_is_not_written_as_a_path_of_the_deploying_machine() -> None:
    assert PredictorSettings().to_env() == {"LOG_LEVEL": "INFO"}
