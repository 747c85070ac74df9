"""Benchmark 9 in quick mode: the GPU fixture runs at both sizes and names the device it used."""

from __future__ import annotations

from bench import gpu_example


def test_gpu_example_times_both_sizes_on_the_device_it_found():
    section = gpu_example.section(None, quick=True)
    assert [row["rows"] for row in section.rows] == list(gpu_example.ROWS)
    assert all(row["device"] and 0 < row["median_ms"] <= row["max_ms"] for row in section.rows)
    assert "| rows | device | median ms | max ms |" in section.markdown()
