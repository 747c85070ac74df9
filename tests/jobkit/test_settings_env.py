"""jobkit's StoreSettings writes the environment it reads: the one owner of the job store's variables."""

from __future__ import annotations

from hypothesis import given
from hypothesis import strategies as st
from jobkit import StoreSettings
from jobkit.settings import env_number, merge_env

from tests.envcheck import FALLBACKS, assert_owns_its_environment, names, read_by, seconds

stores = st.builds(
    StoreSettings,
    table=names, bucket=names, region=st.sampled_from(["us-east-1", "eu-west-1", "ap-southeast-2"]),
    lease_seconds=seconds.filter(lambda s: s > 0), max_attempts=st.integers(1, 100),
    retention_days=st.integers(1, 3650), retry_backoff_seconds=seconds, aws_max_attempts=st.integers(1, 20),
)


@given(stores)
def test_store_settings_round_trip_through_their_environment(store: StoreSettings) -> None:
    assert_owns_its_environment(store)


def test_nothing_read_is_left_unwritten() -> None:
    store = StoreSettings(table="t", bucket="b", region="eu-west-1", lease_seconds=12.5, max_attempts=4,
                          retention_days=9, retry_backoff_seconds=0.5, aws_max_attempts=3)
    written = store.to_env()
    assert read_by(StoreSettings.from_env, {"JOBS_TABLE": "t", "JOBS_BUCKET": "b"}) - set(written) <= set(FALLBACKS)
    assert written["JOB_LEASE_SECONDS"] == "12.5" and written["AWS_MAX_ATTEMPTS"] == "3"


def test_numbers_are_written_without_a_needless_fraction() -> None:
    assert [env_number(60.0), env_number(60), env_number(0.25)] == ["60", "60", "0.25"]


def test_merging_refuses_one_name_with_two_values() -> None:
    assert merge_env({"A": "1", "B": "2"}, {"B": "2", "C": "3"}) == {"A": "1", "B": "2", "C": "3"}
    try:
        merge_env({"LOG_LEVEL": "INFO"}, {"LOG_LEVEL": "DEBUG"})
    except ValueError as error:
        assert "LOG_LEVEL" in str(error)
    else:
        raise AssertionError("a conflict was merged silently")
