"""Benchmark 7 in quick mode: `make dev` in this checkout prints the URL and a login that works,
the dashboard answers /health, and Ctrl-C stops every process of the stack."""

from __future__ import annotations

import pytest

from bench import first_run


@pytest.mark.slow
def test_make_dev_comes_up_prints_a_working_login_and_stops_cleanly_on_ctrl_c(tmp_path):
    result = first_run.run(tmp_path, fresh=False, timeout=180)
    output = "\n".join(result.output)
    assert result.url and result.url in output, output
    assert result.login_works, output
    assert "Stopped." in output, output
    assert result.orphans == 0
    assert 0 < result.total_s < 180
