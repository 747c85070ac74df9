"""The realtime model: the data scientist's edit surface. Change this file to change the model.

The handler relies on exactly these names, nothing else:

  MODEL_VERSION  str: shown to stakeholders and recorded with every prediction; change it
                 whenever the model changes.
  TITLE, DESCRIPTION  str: what stakeholders read above the form.
  INPUTS         list of `Number` / `Integer` / `Choice` fields: what one record holds. The
                 handler checks every request against them (missing, unknown, wrong type, out
                 of range) before `predict` sees it, and the dashboard builds its form from them.
  OUTPUT         {"name", "label", "kind"}: what the prediction is.
  EXAMPLES       optional list of `Example(label, inputs)`: one click fills the form with them.
  train()        -> a fitted model (any picklable object). Runs once at image build time; locally
                 it runs when no artifact is cached in MODEL_DIR for this MODEL_VERSION and what
                 train() depends on (its code, the helpers and files it uses): an edit of
                 predict() alone reuses the artifact.
  predict(model, record) -> Answer: one record (a dict with every input, already checked and
                 converted) -> label, value, chart and details. Must not do I/O; it runs per request.

Keep imports needed only for training inside `train()`: the Lambda imports this module on every
cold start.
"""

from __future__ import annotations

from typing import Any

from predictor.charts import class_probabilities
from predictor.interface import Answer, Example, Number

MODEL_VERSION = "iris-logreg-2026.11.22"
TITLE = "Iris species"
DESCRIPTION = "Guesses the species of an iris flower from the length and width of its sepals and petals."

INPUTS = [
    Number("sepal_length", "Sepal length (cm)", min=4.0, max=8.0, step=0.1, default=5.8,
           help="The green leaf under the flower, measured from base to tip."),
    Number("sepal_width", "Sepal width (cm)", min=2.0, max=4.5, step=0.1, default=3.0,
           help="The sepal at its widest point."),
    Number("petal_length", "Petal length (cm)", min=1.0, max=7.0, step=0.1, default=4.4,
           help="The coloured petal, from base to tip."),
    Number("petal_width", "Petal width (cm)", min=0.1, max=2.6, step=0.1, default=1.3,
           help="The petal at its widest point."),
]

OUTPUT = {"name": "species", "label": "Species", "kind": "class-probabilities"}

EXAMPLES = [
    Example("A small flower (setosa)",
            {"sepal_length": 5.0, "sepal_width": 3.4, "petal_length": 1.5, "petal_width": 0.2}),
    Example("A medium flower (versicolor)",
            {"sepal_length": 5.9, "sepal_width": 2.8, "petal_length": 4.3, "petal_width": 1.3}),
    Example("A large flower (virginica)",
            {"sepal_length": 6.7, "sepal_width": 3.0, "petal_length": 5.6, "petal_width": 2.1}),
]


def train() -> Any:
    """Fit a scaled logistic regression on scikit-learn's bundled iris data (no download)."""
    from sklearn.datasets import load_iris
    from sklearn.linear_model import LogisticRegression
    from sklearn.pipeline import make_pipeline
    from sklearn.preprocessing import StandardScaler

    data = load_iris()
    species = data.target_names[data.target]  # the classifier's classes are the species names
    model = make_pipeline(StandardScaler(), LogisticRegression(max_iter=1000))
    return model.fit(data.data, species)


def predict(model: Any, record: dict[str, float]) -> Answer:
    """The most likely species, with every species' probability as a bar chart."""
    row = [[record[field.name] for field in INPUTS]]
    probabilities = [float(p) for p in model.predict_proba(row)[0]]
    classes = [str(c) for c in model.classes_]
    best = classes[max(range(len(classes)), key=probabilities.__getitem__)]
    chart = class_probabilities(classes, probabilities, title="How likely is each species?", highlight=best)
    bars = chart["data"][0]  # each probability as a number on its bar, not only on hover
    bars.update(text=[f"{p:.0%}" for p in probabilities], textposition="outside", cliponaxis=False)
    return Answer(
        label=f"Iris {best}",
        value=best,
        chart=chart,
        details={"probabilities": dict(zip(classes, probabilities, strict=True))},
    )
