"""The batch algorithm: customer-style segmentation of any numeric table. Edit this module freely.

Interface (docs/contracts.md): `run(input_csv, params, progress) -> Result`, `MODEL_VERSION`,
and `InvalidInput` for problems with the stakeholder's data; `TITLE`, `DESCRIPTION`, `INPUT` and
`PARAMS` describe the job to stakeholders (the dashboard's batch form is built from them). Here: standardise the numeric
columns, try k-means for each k in [k_min, k_max] and keep the k with the best silhouette score,
then project to 2-D with PCA for a scatter. Output: the input rows plus a `segment` column
(1 = the largest segment), and charts of the scatter, segment sizes, silhouette per k, and what
sets each segment apart. Params: `k_min`, `k_max` (whole numbers, 2 <= k_min <= k_max <= 12).
"""

from __future__ import annotations

from typing import Any

import numpy as np
from sklearn.cluster import KMeans
from sklearn.decomposition import PCA
from sklearn.metrics import silhouette_score
from sklearn.preprocessing import StandardScaler

from worker import charts
from worker.interface import Integer, InvalidInput, Progress, Result, TableInput, parse_params
from worker.tabular import read_table, write_csv

__all__ = ["DESCRIPTION", "INPUT", "MODEL_VERSION", "PARAMS", "TITLE", "InvalidInput", "Result", "run"]

MODEL_VERSION = "segments-kmeans-2026.11.22"

K_LIMIT = 12
MIN_ROWS = 10
MAX_ROWS = 100_000
MAX_COLUMNS = 100

TITLE = "Customer segments"
DESCRIPTION = ("Splits the rows of your table into a few groups of similar rows (customers, stores...) "
               "and says what sets each group apart.")
INPUT = TableInput(
    min_rows=MIN_ROWS,
    max_rows=MAX_ROWS,
    max_columns=MAX_COLUMNS,
    min_numeric_columns=2,
    help="A header row, then one row per customer (or store...). Every numeric column is used; "
         "text columns such as names or ids are kept in the result but not used.",
)
PARAMS = [
    Integer("k_min", "Fewest segments", 2, K_LIMIT, 2, help="The smallest number of segments to try."),
    Integer("k_max", "Most segments", 2, K_LIMIT, 8, help="The largest number to try; the clearest split wins."),
]
SILHOUETTE_SAMPLE = 3000  # silhouette is O(n^2); a fixed random sample keeps big files fast
CHART_POINTS = 3000  # the scatter shows at most this many rows
SEED = 0


def run(input_csv: bytes, params: dict[str, Any], progress: Progress) -> Result:
    k_min, k_max = _k_range(params)
    progress(0.0, "Reading the file")
    table = read_table(input_csv, min_rows=INPUT.min_rows, max_rows=INPUT.max_rows, max_columns=INPUT.max_columns,
                       min_numeric=INPUT.min_numeric_columns)
    features = StandardScaler().fit_transform(np.asarray(table.values, dtype=float))
    distinct = len(np.unique(features, axis=0))
    k_max = min(k_max, distinct - 1)
    if k_max < k_min:
        raise InvalidInput(f"The rows are too alike to find {k_min} segments: only {distinct} rows differ.")

    scores: dict[int, float] = {}
    labelings: dict[int, np.ndarray] = {}
    candidates = range(k_min, k_max + 1)
    for done, k in enumerate(candidates):
        progress(0.05 + 0.8 * done / len(candidates), f"Trying {k} segments ({done + 1} of {len(candidates)})")
        labels = KMeans(n_clusters=k, n_init=4, random_state=SEED).fit_predict(features)
        sample = min(len(features), SILHOUETTE_SAMPLE)
        scores[k] = float(silhouette_score(features, labels, sample_size=sample, random_state=SEED))
        labelings[k] = labels
    best = max(scores, key=lambda k: scores[k])
    segments = _by_size(labelings[best])

    progress(0.9, f"Found {best} segments; drawing the charts")
    pca = PCA(n_components=2, random_state=SEED)
    xy = pca.fit_transform(features)
    summary = {
        "model_version": MODEL_VERSION,
        "rows": len(table.rows),
        "metrics": {
            "segments": best,
            "silhouette": round(scores[best], 4),
            "columns used": ", ".join(table.numeric_names),
            "columns ignored": ", ".join(table.other_names) or "none",
            "variance shown in the scatter": round(float(pca.explained_variance_ratio_.sum()), 4),
        },
        "charts": _charts(table.numeric_names, features, segments, xy, pca, scores, best),
    }
    column = _new_column_name(table.header)
    output = write_csv([*table.header, column], [[*row, int(s)] for row, s in zip(table.rows, segments, strict=True)])
    return Result(csv=output, summary=summary)


def _k_range(params: dict[str, Any]) -> tuple[int, int]:
    clean = parse_params(PARAMS, params)
    k_min = clean["k_min"]
    k_max = clean["k_max"] if params.get("k_max") not in (None, "") else max(clean["k_max"], k_min)
    if k_min > k_max:
        raise InvalidInput(f"'Fewest segments' ({k_min}) must not be more than 'Most segments' ({k_max}).")
    return k_min, k_max


def _by_size(labels: np.ndarray) -> np.ndarray:
    """Renumber clusters 1..k from the largest to the smallest, so results read the same way."""
    order = np.argsort(-np.bincount(labels), kind="stable")
    rank = np.empty_like(order)
    rank[order] = np.arange(1, len(order) + 1)
    return rank[labels]


def _new_column_name(header: list[str]) -> str:
    name, n = "segment", 1
    while name in header:
        n += 1
        name = f"segment_{n}"
    return name


def _charts(
    names: list[str],
    features: np.ndarray,
    segments: np.ndarray,
    xy: np.ndarray,
    pca: PCA,
    scores: dict[int, float],
    best: int,
) -> list[charts.Chart]:
    k = int(segments.max())
    shown = np.arange(len(segments))
    if len(shown) > CHART_POINTS:
        shown = np.sort(np.random.default_rng(SEED).choice(shown, CHART_POINTS, replace=False))
    pc1, pc2 = (f"PC{i + 1} ({ratio:.0%} of variance)" for i, ratio in enumerate(pca.explained_variance_ratio_))
    groups = {
        f"Segment {s}": (
            [round(float(v), 4) for v in xy[shown][segments[shown] == s, 0]],
            [round(float(v), 4) for v in xy[shown][segments[shown] == s, 1]],
        )
        for s in range(1, k + 1)
    }
    sizes = np.bincount(segments, minlength=k + 1)[1:]
    profile = [[round(float(v), 3) for v in features[segments == s].mean(axis=0)] for s in range(1, k + 1)]
    return [
        charts.scatter_groups(groups, title="Rows by segment (2-D projection)", x_title=pc1, y_title=pc2),
        charts.bars(
            [f"Segment {s}" for s in range(1, k + 1)],
            [int(n) for n in sizes],
            title="Rows per segment",
            x_title="",
            y_title="rows",
        ),
        charts.line_with_pick(
            list(scores),
            [round(v, 4) for v in scores.values()],
            best,
            title="How clearly the data splits into k segments",
            x_title="number of segments (k)",
            y_title="silhouette score",
        ),
        charts.heatmap(
            profile,
            names,
            [f"Segment {s}" for s in range(1, k + 1)],
            title="What sets each segment apart (mean, in standard deviations)",
            colorbar="std. dev. from average",
        ),
    ]
