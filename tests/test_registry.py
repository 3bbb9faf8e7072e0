"""Registry: register, get with "did you mean", list, duplicates and wrong kinds."""

from __future__ import annotations

import pytest

from automl.components import TASKS, BaseLoss, BaseMetric
from automl.errors import PluginError, UnknownComponentError
from automl.registry import Registry, closest, did_you_mean, unknown_message


class _Loss(BaseLoss):
    def __init__(self, name: str, default_for: tuple[str, ...] = ()) -> None:
        self.name = name  # type: ignore[misc]
        self.default_for = default_for  # type: ignore[misc]

    def build(self, task: str, n_classes: int, **params: object) -> str:
        return "mse"


class _Metric(BaseMetric):
    name = "m"

    def score(self, y_true: object, y_pred: object) -> float:
        return 0.0


def test_register_get_names_and_owner() -> None:
    reg: Registry[BaseLoss] = Registry("loss")
    reg.register(_Loss("mse"), "core")
    reg.register(_Loss("huber"), "extra")
    assert reg.names() == ["huber", "mse"]
    assert reg.get("mse").name == "mse"
    assert reg.owner("huber") == "extra"
    assert "mse" in reg and "mae" not in reg
    assert [c.name for c in reg] == ["huber", "mse"]
    assert len(reg) == 2


def test_unknown_name_suggests_the_closest() -> None:
    reg: Registry[BaseLoss] = Registry("loss")
    reg.register(_Loss("crossentropy"), "core")
    with pytest.raises(
        UnknownComponentError,
        match=r"unknown loss 'crosentropy'; did you mean 'crossentropy'\? Available: crossentropy",
    ):
        reg.get("crosentropy")
    assert closest("zzz", ["crossentropy"]) is None
    assert (
        unknown_message("model_family", "x", [])
        == "unknown model family 'x'. Available: (none registered)"
    )


def test_duplicate_names_both_plugins() -> None:
    reg: Registry[BaseLoss] = Registry("loss")
    reg.register(_Loss("poly1"), "first_plugin")
    with pytest.raises(
        PluginError,
        match=r"duplicate loss 'poly1': registered by plugin 'first_plugin' "
        r"and by plugin 'second_plugin'",
    ):
        reg.register(_Loss("poly1"), "second_plugin")


def test_wrong_kind_and_missing_name_are_plugin_errors() -> None:
    reg: Registry[BaseLoss] = Registry("loss")
    with pytest.raises(
        PluginError,
        match=r"plugin 'p' registered .* as a loss, but it is not an instance of BaseLoss",
    ):
        reg.register(_Metric(), "p")  # type: ignore[arg-type]
    with pytest.raises(PluginError, match="plugin 'p' registered a loss without a name"):
        reg.register(_Loss(""), "p")


def test_default_by_task() -> None:
    reg: Registry[BaseLoss] = Registry("loss")
    reg.register(_Loss("ce", default_for=("binary", "multiclass")), "core")
    reg.register(_Loss("mse", default_for=("regression",)), "core")
    reg.register(_Loss("focal"), "core")
    assert reg.default("binary").name == "ce"
    assert reg.default("regression").name == "mse"
    assert reg.default(None) is None  # no loss is the default for every task


def test_default_for_every_task_answers_an_unknown_task() -> None:
    reg: Registry[BaseLoss] = Registry("loss")
    reg.register(_Loss("any", default_for=TASKS), "core")
    assert reg.default(None).name == "any"


def test_two_defaults_for_one_task_name_both_plugins() -> None:
    reg: Registry[BaseLoss] = Registry("loss")
    reg.register(_Loss("ce", default_for=("binary",)), "core")
    with pytest.raises(
        PluginError,
        match=r"'ce' \(plugin 'core'\) and 'bce' \(plugin 'other'\) both claim to be the "
        r"default loss for binary tasks",
    ):
        reg.register(_Loss("bce", default_for=("binary",)), "other")


def test_abstract_base_cannot_be_instantiated_without_its_build() -> None:
    class Incomplete(BaseLoss):
        name = "incomplete"

    with pytest.raises(TypeError, match="abstract"):
        Incomplete()  # type: ignore[abstract]


def test_did_you_mean_is_worded_once() -> None:
    assert did_you_mean("trails", ["trials", "timeout"]) == "; did you mean 'trials'?"
    assert did_you_mean("zzz", ["trials"]) == "."
