"""The example model module honours the documented interface (no server)."""

from __future__ import annotations

import json
import os
import subprocess
import sys

import pytest
from predictor import charts, model
from predictor.artifact import Loaded
from predictor.interface import Answer, Choice, Integer, Number
from predictor.service import Predictor
from predictor.settings import PredictorSettings

from tests.predictor.lambda_support import APPS


def test_the_module_has_every_name_the_handler_relies_on():
    assert isinstance(model.MODEL_VERSION, str) and model.MODEL_VERSION
    assert model.TITLE and model.DESCRIPTION
    assert model.INPUTS and all(isinstance(f, Number | Integer | Choice) for f in model.INPUTS)
    assert len({f.name for f in model.INPUTS}) == len(model.INPUTS)
    assert set(model.OUTPUT) == {"name", "label", "kind"}
    assert callable(model.train) and callable(model.predict)


def test_every_default_is_a_valid_value_of_its_own_field():
    for field in model.INPUTS:
        assert field.parse(field.default) == field.default


def test_the_trained_model_is_accurate_on_the_data_it_ships_with(trained):
    from sklearn.datasets import load_iris

    data = load_iris()
    accuracy = (trained.predict(data.data) == data.target_names[data.target]).mean()
    assert accuracy > 0.9
    assert sorted(trained.classes_) == ["setosa", "versicolor", "virginica"]


def test_predict_one_record_gives_a_label_value_chart_and_probabilities(trained):
    record = {"sepal_length": 6.3, "sepal_width": 3.3, "petal_length": 6.0, "petal_width": 2.5}
    answer = model.predict(trained, record)
    assert isinstance(answer, Answer)
    assert answer.value == "virginica" and "virginica" in answer.label
    probabilities = answer.details["probabilities"]
    assert max(probabilities, key=probabilities.get) == answer.value
    assert sum(probabilities.values()) == pytest.approx(1.0)
    json.dumps(answer.chart)  # plain JSON, no plotly objects
    colors = answer.chart["data"][0]["marker"]["color"]
    assert colors[answer.chart["data"][0]["x"].index("virginica")] == charts.HIGHLIGHT
    assert colors.count(charts.HIGHLIGHT) == 1


def test_the_service_turns_numpy_details_into_plain_json():
    import numpy as np

    class Stub:
        MODEL_VERSION, TITLE, DESCRIPTION = "stub-1", "t", "d"
        INPUTS = [Integer("n", "N", min=0, max=9, default=1), Choice("c", "C", choices=("a", "b"), default="a")]
        OUTPUT = {"name": "x", "label": "X", "kind": "number"}

        @staticmethod
        def predict(_model, record):
            return Answer(label="n", value=np.int64(record["n"]), details={"scores": np.array([0.5, 0.25])})

    predictor = Predictor(Stub, Loaded(model=None, path=None, trained=False), PredictorSettings())
    response = predictor.handle({"action": "predict", "inputs": {"n": 3.0, "c": "b"}})
    text = json.dumps(response)  # would raise on numpy types
    assert json.loads(text)["prediction"] == {"label": "n", "value": 3, "scores": [0.5, 0.25]}
    assert predictor.describe()["inputs"][1] == {
        "name": "c", "label": "C", "type": "choice", "choices": ["a", "b"], "default": "a", "help": "",
    }


def test_serving_the_example_imports_nothing_only_training_needs(example_model_dir):
    code = ("import sys, predictor.handler as h; h.handler({'action': 'describe'}, None); "
            "print('sklearn.datasets' in sys.modules)")
    env = {"PATH": os.environ.get("PATH", ""), "PYTHONPATH": str(APPS), "MODEL_DIR": str(example_model_dir)}
    result = subprocess.run([sys.executable, "-c", code], env=env, capture_output=True, text=True, timeout=120)
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == "False"  # load_iris is imported inside train() only
