"""The pre-submit check's row limits at their edges: exactly min_rows and exactly max_rows pass."""

from __future__ import annotations

import pytest
from dashboard.batch_input import check_against
from dashboard.uploads import UploadRejected

DESCRIPTION = {"title": "Fixture job", "input": {"min_rows": 10, "max_rows": 20, "min_numeric_columns": 2}}


def table(rows: int) -> bytes:
    return ("x,y\n" + "".join(f"{n},{n * 2}\n" for n in range(rows))).encode()


def test_exactly_min_rows_passes_and_one_fewer_is_refused_with_the_count():
    check_against(DESCRIPTION, "data.csv", table(10))
    with pytest.raises(UploadRejected, match=r"^data\.csv has 9 data rows; Fixture job needs at least 10\.$"):
        check_against(DESCRIPTION, "data.csv", table(9))


def test_blank_lines_do_not_count_as_rows():
    with pytest.raises(UploadRejected, match="has 9 data rows"):
        check_against(DESCRIPTION, "data.csv", table(9) + b"\n\n,\n")


def test_exactly_max_rows_passes_and_one_more_is_refused_with_the_limit():
    check_against(DESCRIPTION, "data.csv", table(20))
    with pytest.raises(UploadRejected, match="takes at most 20"):
        check_against(DESCRIPTION, "data.csv", table(21))
