"""Bag-of-words baselines on the test split of search_spaces/sentiment.yaml (the same rows).

    .venv/bin/python benchmarks/text_baselines.py

Loads the space's partition through automl (the same seeded split its exported model is scored
on), fits scikit-learn logistic regressions on the development rows (C chosen by 5-fold
cross-validation) and prints their test accuracy: unigram counts (the words alone) and (1,2)-gram
TF-IDF (word pairs such as "not good"). What the tuned text model should beat.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
from sklearn.feature_extraction.text import CountVectorizer, TfidfVectorizer
from sklearn.linear_model import LogisticRegression
from sklearn.model_selection import GridSearchCV
from sklearn.pipeline import make_pipeline

from automl.data import load_partition
from automl.spec import open_space

SPACE = Path(__file__).resolve().parents[1] / "search_spaces" / "sentiment.yaml"


def main() -> None:
    spec, catalog = open_space(SPACE)
    partition = load_partition(spec, catalog)
    x_dev, y_dev = partition.x[:, 0].astype(str), partition.y
    x_test, y_test = partition.test.x_test[:, 0].astype(str), partition.test.y_test
    print(f"{len(x_dev)} development rows, {len(x_test)} test rows (the space's own split)")
    for name, vectorizer in (
        ("unigram counts", CountVectorizer()),
        ("(1,2)-gram TF-IDF", TfidfVectorizer(ngram_range=(1, 2))),
    ):
        model = GridSearchCV(
            make_pipeline(vectorizer, LogisticRegression(max_iter=2000)),
            {"logisticregression__C": [0.1, 1.0, 10.0, 100.0]},
            cv=5,
        ).fit(x_dev, y_dev)
        accuracy = float(np.mean(model.predict(x_test) == y_test))
        print(f"logistic regression, {name}: test accuracy {accuracy:.4f}")


if __name__ == "__main__":
    main()
