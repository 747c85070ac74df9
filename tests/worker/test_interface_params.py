"""The batch parameter kinds and samples an algorithm declares (worker/interface.py), on fixtures."""

from __future__ import annotations

import types

import pytest
from worker.interface import (
    SAMPLE_MAX_BYTES,
    Choice,
    ColumnChoice,
    Integer,
    InvalidInput,
    Number,
    load_algorithm,
    parse_params,
    read_samples,
)

from tests.fixtures.algorithms import every_param
from tests.fixtures.apps import EVERY_PARAM_MODULE


def test_the_fixture_declares_every_param_kind_and_a_sample():
    kinds = {type(spec) for spec in every_param.PARAMS}
    assert kinds == {Integer, Number, Choice, ColumnChoice}
    assert any(isinstance(spec, Choice) and all(isinstance(o, int) for o in spec.choices)
               for spec in every_param.PARAMS)  # a numeric choice too
    description = load_algorithm(EVERY_PARAM_MODULE).description
    assert [sample["name"] for sample in description["samples"]] == ["fixture-scores.csv"]
    assert description["samples"][0]["csv"].startswith("item,weight,height,price")
    [column] = [p for p in description["params"] if p["type"] == "column"]
    assert column == {"name": "rank_by", "label": "Rank by column", "type": "column", "column_type": "number",
                      "required": False, "default": None, "help": column["help"]}


@pytest.mark.parametrize(("given", "clean"), [(2, 2), ("4", 4), (4.0, 4), (" 2 ", 2)])
def test_a_numeric_choice_takes_its_number_or_the_forms_text_of_it(given, clean):
    bands = Choice("bands", "Bands", choices=(2, 4), default=2)
    assert parse_params([bands], {"bands": given}) == {"bands": clean}
    assert type(parse_params([bands], {"bands": given})["bands"]) is int


@pytest.mark.parametrize("given", [3, "three", True, [2]])
def test_a_value_outside_the_choices_is_refused_with_the_choices(given):
    with pytest.raises(InvalidInput, match=r"'Bands' must be one of: 2, 4 \(got"):
        parse_params([Choice("bands", "Bands", choices=(2, 4), default=2)], {"bands": given})


def test_a_column_must_be_one_of_the_files_columns_and_a_required_one_must_be_picked():
    target = ColumnChoice("target", "Target column")
    assert parse_params([target], {"target": "price"}, columns=["id", "price"]) == {"target": "price"}
    with pytest.raises(InvalidInput, match=r"'Target column' must be one of the file's columns \('id', 'price'\), "
                                           r"got 'cost'"):
        parse_params([target], {"target": "cost"}, columns=["id", "price"])
    with pytest.raises(InvalidInput, match="none was chosen"):
        parse_params([target], {})
    optional = ColumnChoice("by", "By", required=False)
    assert parse_params([optional], {}) == {"by": None}


@pytest.mark.parametrize(("spec", "value", "message"), [
    (Number("scale", "Scale", 0.5, 10.0, 1.0, step=0.5), 0.75,
     "'Scale' must be a multiple of 0.5 from 0.5 (got 0.75)."),
    (Integer("evens", "Evens", 0, 10, 2, step=2), 3, "'Evens' must be a multiple of 2 from 0 (got 3)."),
])
def test_a_number_off_its_step_is_refused_naming_the_step(spec, value, message):
    with pytest.raises(InvalidInput) as raised:
        parse_params([spec], {spec.name: value})
    assert str(raised.value) == message
    assert parse_params([spec], {spec.name: spec.default}) == {spec.name: spec.default}


def algorithm_in(folder, samples):
    module = types.ModuleType("some_algorithm")
    module.__file__ = str(folder / "algorithm.py")
    module.SAMPLES = samples
    return module


def test_samples_over_the_size_limits_are_refused_with_a_clear_message(tmp_path):
    (tmp_path / "samples").mkdir()
    (tmp_path / "samples" / "big.csv").write_bytes(b"a\n" + b"1\n" * (SAMPLE_MAX_BYTES // 2))
    with pytest.raises(ValueError, match=r"Sample 'samples/big.csv' is 65,538 bytes; a sample may be at most 65,536"):
        read_samples(algorithm_in(tmp_path, ["samples/big.csv"]))
    for n in range(5):
        (tmp_path / "samples" / f"s{n}.csv").write_bytes(b"a\n" + b"1\n" * 30_000)
    with pytest.raises(ValueError, match="The samples add up to more than 262,144 bytes"):
        read_samples(algorithm_in(tmp_path, [f"samples/s{n}.csv" for n in range(5)]))
    with pytest.raises(ValueError, match="is not a file next to the algorithm"):
        read_samples(algorithm_in(tmp_path, ["samples/missing.csv"]))
    assert read_samples(algorithm_in(tmp_path, [])) == []
