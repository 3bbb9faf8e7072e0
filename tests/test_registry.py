"""Registry: register, get with "did you mean", list, duplicates and wrong kinds."""

from __future__ import annotations

import pytest

from automl.components import BaseLoss, BaseMetric
from automl.errors import PluginError, UnknownComponentError
from automl.registry import Registry, closest, unknown_message


class _Loss(BaseLoss):
    def __init__(self, name: str) -> None:
        self.name = name  # type: ignore[misc]


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
        reg.register(BaseMetric(), "p")  # type: ignore[arg-type]
    with pytest.raises(PluginError, match="plugin 'p' registered a loss without a name"):
        reg.register(_Loss(""), "p")
