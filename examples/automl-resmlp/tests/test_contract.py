"""The automl contract checks over this package's components, as every plugin package should run."""

from __future__ import annotations

import automl_resmlp.plugin as plugin

from automl.testing import check_component, check_plugin_hooks, parametrize_components


def test_hooks_are_known_to_automl() -> None:
    assert check_plugin_hooks(plugin) == [
        "register_losses",
        "register_metrics",
        "register_model_families",
    ]


@parametrize_components(plugin)
def test_contract(component) -> None:  # type: ignore[no-untyped-def]
    check_component(component)


def test_g_mean_matches_its_formula() -> None:
    import numpy as np

    y = np.array([0, 0, 1, 1, 2, 2])
    pred = np.eye(3)[[0, 1, 1, 1, 2, 0]]  # recalls 1/2, 1, 1/2
    assert plugin.GMean().score(y, pred) == (0.5 * 1.0 * 0.5) ** (1 / 3)


def test_poly1_with_epsilon_zero_is_cross_entropy() -> None:
    import keras
    import numpy as np
    from automl_resmlp.keras_objects import Poly1CrossEntropy

    y = np.array([0, 2, 1])
    p = np.array([[0.7, 0.2, 0.1], [0.1, 0.1, 0.8], [0.3, 0.4, 0.3]], "float32")
    ce = keras.losses.SparseCategoricalCrossentropy()(y, p)
    poly = Poly1CrossEntropy(epsilon=0.0)(y, p)
    np.testing.assert_allclose(float(poly), float(ce), rtol=1e-5)
    expected = float(ce) + 2.0 * np.mean(1 - np.array([0.7, 0.8, 0.4]))
    np.testing.assert_allclose(float(Poly1CrossEntropy(epsilon=2.0)(y, p)), expected, rtol=1e-5)
