"""One `Registry` per component kind: register, get (with "did you mean"), defaults by task."""

from __future__ import annotations

import difflib
from collections.abc import Iterable, Iterator
from typing import Generic, TypeVar

from automl.components import KINDS, TASKS, Component
from automl.errors import PluginError, UnknownComponentError

C = TypeVar("C", bound=Component)

KIND_TITLES = {
    "data_source": "data source",
    "preprocessor": "preprocessor",
    "model_family": "model family",
    "activation": "activation",
    "loss": "loss",
    "regularizer": "regularizer",
    "optimizer": "optimizer",
    "metric": "metric",
}


def closest(name: str, candidates: Iterable[str]) -> str | None:
    """The candidate closest to `name`, if any is close enough to suggest."""
    match = difflib.get_close_matches(str(name), list(candidates), n=1, cutoff=0.6)
    return match[0] if match else None


def did_you_mean(name: str, candidates: Iterable[str]) -> str:
    """`"; did you mean 'mlp'?"` when a candidate is close to `name`, else `"."`.

    The one place "did you mean" is worded: `f"unknown key {key!r}{did_you_mean(key, keys)} ..."`.
    """
    hint = closest(name, candidates)
    return f"; did you mean {hint!r}?" if hint else "."


def unknown_message(kind: str, name: str, available: Iterable[str]) -> str:
    """`unknown model family 'mpl'; did you mean 'mlp'? Available: cnn, mlp`."""
    names = sorted(available)
    listing = ", ".join(names) or "(none registered)"
    title = KIND_TITLES.get(kind, kind)
    return f"unknown {title} {name!r}{did_you_mean(name, names)} Available: {listing}"


class Registry(Generic[C]):
    """The components of one kind, by name, with the plugin that supplied each."""

    def __init__(self, kind: str) -> None:
        self.kind = kind
        self.title = KIND_TITLES[kind]
        self._items: dict[str, C] = {}
        self._owners: dict[str, str] = {}

    def register(self, component: C, owner: str) -> None:
        """Add `component`; a name, or a task default, claimed twice names both plugins."""
        base = KINDS[self.kind]
        if not isinstance(component, base):
            raise PluginError(
                f"plugin {owner!r} registered {component!r} as a {self.title}, "
                f"but it is not an instance of {base.__name__}"
            )
        name = component.name
        if not name or not isinstance(name, str):
            raise PluginError(f"plugin {owner!r} registered a {self.title} without a name")
        if name in self._items:
            raise PluginError(
                f"duplicate {self.title} {name!r}: registered by plugin "
                f"{self._owners[name]!r} and by plugin {owner!r}. Disable one of them "
                f"(AUTOML_DISABLE_PLUGINS=name) or rename the component."
            )
        for task in component.default_for:
            other = self._default_for(task)
            if other is not None:
                raise PluginError(
                    f"{other.name!r} (plugin {self._owners[other.name]!r}) and {name!r} (plugin "
                    f"{owner!r}) both claim to be the default {self.title} for {task} tasks. "
                    "Disable one of the plugins (AUTOML_DISABLE_PLUGINS=name)."
                )
        self._items[name] = component
        self._owners[name] = owner

    def get(self, name: str) -> C:
        """The component called `name`; an unknown name lists the others and suggests one."""
        try:
            return self._items[name]
        except KeyError:
            raise UnknownComponentError(unknown_message(self.kind, name, self.names())) from None

    def _default_for(self, task: str) -> C | None:
        return next((c for c in self._items.values() if task in c.default_for), None)

    def default(self, task: str | None) -> C | None:
        """The component declared the default for `task`, or None.

        With `task=None` (not known before the data is loaded) only a component that is the default
        for every task qualifies (an activation or an optimizer; not a loss or a metric).
        """
        if task is not None:
            return self._default_for(task)
        return next((c for c in self._items.values() if set(TASKS) <= set(c.default_for)), None)

    def owner(self, name: str) -> str:
        """The plugin that registered `name`."""
        return self._owners[name]

    def names(self) -> list[str]:
        """Every registered name, sorted."""
        return sorted(self._items)

    def __contains__(self, name: object) -> bool:
        return name in self._items

    def __iter__(self) -> Iterator[C]:
        return iter(self._items[n] for n in self.names())

    def __len__(self) -> int:
        return len(self._items)
