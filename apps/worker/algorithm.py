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
from worker.resources import Resources
from worker.tabular import read_table, write_csv

__all__ = ["DESCRIPTION", "INPUT", "MODEL_VERSION", "PARAMS", "SAMPLES", "TITLE", "InvalidInput", "Result", "run"]

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
SAMPLES = ["samples/customer-segments.csv", "samples/store-sites.csv"]  # the batch page offers these
RESOURCES = Resources(vcpu=1, memory_gb=2, gpus=0)  # what one job needs; the worker's size defaults from it
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
    profile = np.array([features[segments == s].mean(axis=0) for s in range(1, best + 1)])
    names = segment_names(table.numeric_names, profile)
    shown = float(pca.explained_variance_ratio_.sum())
    metrics = {
        "segments found": best,
        "separation": round(scores[best], 2),
        "columns used": ", ".join(table.numeric_names),
        "columns kept, not used": ", ".join(table.other_names) or "none",
        "the map shows": f"{shown:.0%} of the differences",
    }
    explanations = {
        "segments found": f"Tried {k_min} to {k_max} segments and kept the number that splits the rows most clearly.",
        "separation": f"{_separation_words(scores[best])}: 1 means every row clearly belongs to its segment, "
                      "0 means the segments overlap.",
        "columns used": "The numeric columns the segments are based on, each weighted equally.",
        "columns kept, not used": "Text columns (names, ids) are copied to the result but play no part.",
        "the map shows": "The scatter squeezes every column into two directions; this is how much of the "
                         "differences between rows those two directions keep.",
    }
    summary = {
        "model_version": MODEL_VERSION,
        "rows": len(table.rows),
        "metrics": metrics,
        "explanations": explanations,
        "segments": [{"number": n, "name": name, "rows": int((segments == n).sum())}
                     for n, name in enumerate(names, start=1)],
        "charts": _charts(table.numeric_names, names, segments, xy, profile, scores, best),
    }
    header = [*table.header, *_new_column_names(table.header)]
    output = write_csv(header, [[*row, int(s), names[s - 1]] for row, s in zip(table.rows, segments, strict=True)])
    return Result(csv=output, summary=summary)


def _separation_words(score: float) -> str:
    if score >= 0.7:
        return "Very clear"
    if score >= 0.5:
        return "Clear"
    if score >= 0.25:
        return "Some overlap"
    return "Weak: the segments overlap a lot"


def _plain_name(column: str) -> str:
    return column.replace("_", " ").strip()


def segment_names(columns: list[str], profile: np.ndarray, *, stand_out: float = 0.5, most: int = 2) -> list[str]:
    """A name per segment from what sets it apart: its columns furthest from the average ("High
    annual spend, low visits per month"), at most `most` of them, each at least `stand_out`
    standard deviations away; "Close to average" when none is. Names are made unique."""
    names = []
    for row in profile:
        order = sorted(range(len(columns)), key=lambda i: -abs(row[i]))
        parts = [f"{'high' if row[i] > 0 else 'low'} {_plain_name(columns[i])}"
                 for i in order[:most] if abs(row[i]) >= stand_out]
        name = ", ".join(parts) or "close to average"
        names.append(name[0].upper() + name[1:])
    return [f"{name} ({n})" if names.count(name) > 1 else name for n, name in enumerate(names, start=1)]
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


def _new_column_names(header: list[str]) -> tuple[str, str]:
    """`segment` and `segment_name`, or numbered variants when the input already has those names."""
    n, suffix = 1, ""
    while f"segment{suffix}" in header or f"segment{suffix}_name" in header:
        n += 1
        suffix = f"_{n}"
    return f"segment{suffix}", f"segment{suffix}_name"


def _charts(
    columns: list[str],
    names: list[str],
    segments: np.ndarray,
    xy: np.ndarray,
    profile: np.ndarray,
    scores: dict[int, float],
    best: int,
) -> list[charts.Chart]:
    shown = np.arange(len(segments))
    if len(shown) > CHART_POINTS:
        shown = np.sort(np.random.default_rng(SEED).choice(shown, CHART_POINTS, replace=False))
    groups = {
        name: (
            [round(float(v), 4) for v in xy[shown][segments[shown] == s, 0]],
            [round(float(v), 4) for v in xy[shown][segments[shown] == s, 1]],
        )
        for s, name in enumerate(names, start=1)
    }
    sizes = np.bincount(segments, minlength=best + 1)[1:]
    return [
        charts.explained(
            charts.scatter_groups(groups, title="A map of the rows, coloured by segment",
                                  x_title="main difference between rows", y_title="second difference"),
            "Each dot is a row; rows close together are alike. Well-separated colours mean clear segments.",
        ),
        charts.explained(
            charts.bars(names, [int(n) for n in sizes], title="Rows in each segment", x_title="rows", y_title="",
                        horizontal=True),
            "How many rows fell into each segment, largest first.",
        ),
        charts.explained(
            charts.line_with_pick(
                list(scores),
                [round(v, 4) for v in scores.values()],
                best,
                title="How clearly the rows split, by number of segments",
                x_title="number of segments",
                y_title="separation (0 to 1)",
            ),
            f"Higher is clearer; the star marks the {best} segments chosen.",
        ),
        charts.explained(
            charts.heatmap(
                [[round(float(v), 3) for v in row] for row in profile],
                [_plain_name(c) for c in columns],
                names,
                title="What sets each segment apart",
                colorbar="vs. the average row",
            ),
            "Red: this segment is above the average row in this column; blue: below; white: typical.",
        ),
    ]
