"""One `Registry` per component kind: register, get (with "did you mean"), list."""

from __future__ import annotations

import difflib
from collections.abc import Iterator
from typing import Generic, TypeVar

from automl.components import KINDS, Component
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


def closest(name: str, candidates: list[str]) -> str | None:
    """The candidate closest to `name`, if any is close enough to suggest."""
    match = difflib.get_close_matches(name, candidates, n=1, cutoff=0.6)
    return match[0] if match else None


def unknown_message(kind: str, name: str, available: list[str]) -> str:
    """`unknown model family 'mpl'; did you mean 'mlp'? Available: cnn, mlp`."""
    title = KIND_TITLES.get(kind, kind)
    hint = closest(name, available)
    did_you_mean = f"; did you mean {hint!r}?" if hint else "."
    listing = ", ".join(sorted(available)) or "(none registered)"
    return f"unknown {title} {name!r}{did_you_mean} Available: {listing}"


class Registry(Generic[C]):
    """The components of one kind, by name, with the plugin that supplied each."""

    def __init__(self, kind: str) -> None:
        self.kind = kind
        self._items: dict[str, C] = {}
        self._owners: dict[str, str] = {}

    def register(self, component: C, owner: str) -> None:
        """Add `component`; a second component with the same name is an error naming both owners."""
        base = KINDS[self.kind]
        if not isinstance(component, base):
            raise PluginError(
                f"plugin {owner!r} registered {component!r} as a {KIND_TITLES[self.kind]}, "
                f"but it is not an instance of {base.__name__}"
            )
        name = component.name
        if not name or not isinstance(name, str):
            raise PluginError(f"plugin {owner!r} registered a {self.kind} without a name")
        if name in self._items:
            raise PluginError(
                f"duplicate {KIND_TITLES[self.kind]} {name!r}: registered by plugin "
                f"{self._owners[name]!r} and by plugin {owner!r}. Disable one of them "
                f"(AUTOML_DISABLE_PLUGINS=name) or rename the component."
            )
        self._items[name] = component
        self._owners[name] = owner

    def get(self, name: str) -> C:
        """The component called `name`; an unknown name lists the others and suggests one."""
        try:
            return self._items[name]
        except KeyError:
            raise UnknownComponentError(unknown_message(self.kind, name, self.names())) from None

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
