"""Built-in data sources: scikit-learn's bundled data sets."""

from __future__ import annotations

from typing import Any

import numpy as np

from automl import hookimpl
from automl.components import BaseDataSource, bool_param, str_param
from automl.data import Dataset

SKLEARN_SETS = {
    "digits": "multiclass",
    "iris": "multiclass",
    "wine": "multiclass",
    "breast_cancer": "binary",
    "diabetes": "regression",
}


class SklearnSource(BaseDataSource):
    """scikit-learn's bundled data sets (no download needed)."""

    name = "sklearn"
    help = "A data set bundled with scikit-learn (digits, iris, wine, breast_cancer, diabetes)."
    params = (
        str_param("name", "digits", "Which bundled data set.", allowed=tuple(SKLEARN_SETS)),
        bool_param("images", True, "digits only: give 8x8x1 images (for CNNs) instead of 64 columns."),
    )

    def task(self, **params: Any) -> str | None:
        return SKLEARN_SETS.get(params.get("name", "digits"))

    def load(self, **params: Any) -> Dataset:
        from sklearn import datasets

        name = params.get("name", "digits")
        bunch = getattr(datasets, f"load_{name}")()
        x = np.asarray(bunch.data, dtype="float32")
        if name == "digits" and params.get("images", True):
            x = x.reshape(-1, 8, 8, 1)
        target_names = getattr(bunch, "target_names", None)
        class_names = [str(t) for t in target_names] if target_names is not None and name != "diabetes" else None
        return Dataset(
            x=x,
            y=np.asarray(bunch.target),
            task=SKLEARN_SETS[name],
            name=f"sklearn:{name}",
            feature_names=list(getattr(bunch, "feature_names", []) or []) or None,
            class_names=class_names,
        )


@hookimpl
def register_data_sources(register: Any) -> None:
    register(SklearnSource())
