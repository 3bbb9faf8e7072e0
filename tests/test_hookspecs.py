"""The hook contract: names and signatures are pinned, so a change to them is a deliberate one."""

from __future__ import annotations

import inspect

import pluggy
import pytest

from automl import hookspecs
from automl.hookspecs import hook_names

PINNED: dict[str, tuple[str, ...]] = {
    "register_data_sources": ("register",),
    "register_preprocessors": ("register",),
    "register_model_families": ("register",),
    "register_activations": ("register",),
    "register_losses": ("register",),
    "register_regularizers": ("register",),
    "register_optimizers": ("register",),
    "register_metrics": ("register",),
    "on_study_start": ("study", "spec"),
    "on_trial_start": ("trial", "config"),
    "on_epoch_end": ("trial", "epoch", "logs"),
    "on_trial_end": ("trial",),
    "on_study_end": ("study",),
}


def test_hook_names_are_pinned() -> None:
    assert hook_names() == list(PINNED)


@pytest.mark.parametrize("name", list(PINNED))
def test_hook_signature_is_pinned(name: str) -> None:
    spec = getattr(hookspecs, name)
    assert tuple(inspect.signature(spec).parameters) == PINNED[name]
    assert spec.__doc__ and "Example" in spec.__doc__, f"{name} needs a docstring with an example"


def test_every_registration_hook_maps_to_a_component_kind() -> None:
    from automl.components import KINDS

    assert set(hookspecs.REGISTRATION_HOOKS) == {n for n in PINNED if n.startswith("register_")}
    assert set(hookspecs.REGISTRATION_HOOKS.values()) == set(KINDS)


def test_hooks_are_plain_calls_not_firstresult() -> None:
    pm = pluggy.PluginManager(hookspecs.PROJECT)
    pm.add_hookspecs(hookspecs)
    for name in PINNED:
        caller = getattr(pm.hook, name)
        assert caller.spec is not None
        assert not caller.spec.opts.get("firstresult"), name
        assert not caller.spec.opts.get("historic"), name
