"""Property-based tests of the CSV reader: whatever a stakeholder uploads, the answer is a usable
table or an InvalidInput naming the problem. (The example algorithm's own fuzz test is in
tests/example/worker/.)"""

from __future__ import annotations

import math

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from worker.interface import InvalidInput
from worker.tabular import read_table

cells = st.one_of(
    st.floats(allow_nan=True, allow_infinity=True).map(repr),
    st.integers(-10**6, 10**6).map(str),
    st.text(alphabet=st.characters(blacklist_categories=("Cs",)), max_size=12),
    st.sampled_from(["", "NA", "1,5", "1e309", "-", '"', "\u00a0", "nan"]),
)
tables = st.lists(st.lists(cells, min_size=1, max_size=5), min_size=0, max_size=30).map(
    lambda rows: "\n".join(",".join(row) for row in rows).encode("utf-8")
)
raw_bytes = st.binary(max_size=400)


def _read(data: bytes):
    try:
        table = read_table(data)
    except InvalidInput as error:
        assert str(error).strip(), "an InvalidInput must say what is wrong"
        return None
    return table


@settings(max_examples=400, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.one_of(tables, raw_bytes))
def test_any_upload_reads_as_a_table_or_a_clear_message(data):
    table = _read(data)
    if table is not None:
        assert table.header and len(table.values) == len(table.rows)
        assert all(len(row) == len(table.numeric) for row in table.values)
        assert all(math.isfinite(value) for row in table.values for value in row)
