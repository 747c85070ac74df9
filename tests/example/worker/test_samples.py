"""The example's own samples: declared beside its algorithm (`SAMPLES`), published with its
description, and each one a table the algorithm accepts and segments."""

from __future__ import annotations

import csv
import io
from pathlib import Path

import pytest
from worker import algorithm
from worker.interface import SAMPLE_MAX_BYTES, SAMPLES_MAX_BYTES, load_algorithm

FOLDER = Path(algorithm.__file__).resolve().parent
EXPECTED = {"customer-segments.csv": ("customer_id", 200), "store-sites.csv": ("store_id", 150)}


def test_the_example_declares_its_two_samples_beside_it_and_publishes_them_in_order():
    assert algorithm.SAMPLES == ["samples/customer-segments.csv", "samples/store-sites.csv"]
    published = load_algorithm("worker.algorithm").description["samples"]
    assert [sample["name"] for sample in published] == list(EXPECTED)
    for sample, relative in zip(published, algorithm.SAMPLES, strict=True):
        assert sample["csv"].encode() == (FOLDER / relative).read_bytes()


def test_the_samples_fit_the_description_limits():
    sizes = [(FOLDER / relative).stat().st_size for relative in algorithm.SAMPLES]
    assert all(size <= SAMPLE_MAX_BYTES for size in sizes) and sum(sizes) <= SAMPLES_MAX_BYTES


@pytest.mark.parametrize("relative", ["samples/customer-segments.csv", "samples/store-sites.csv"])
def test_each_sample_is_segmented_with_the_default_params(relative):
    data = (FOLDER / relative).read_bytes()
    first_column, rows = EXPECTED[Path(relative).name]
    result = algorithm.run(data, {}, lambda fraction, message: None)
    out = list(csv.DictReader(io.StringIO(result.csv.decode())))
    assert len(out) == rows and next(iter(out[0])) == first_column
    segments = {row["segment"] for row in out}
    assert 2 <= len(segments) <= 8  # the default k range
