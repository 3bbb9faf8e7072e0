"""The plugin author guide documents every hook with its signature, and the README links to it."""

from __future__ import annotations

import inspect
import re
from pathlib import Path

import pytest

from automl import hookspecs
from automl.hookspecs import hook_names

REPO = Path(__file__).resolve().parents[1]
GUIDE = REPO / "docs" / "plugins.md"


@pytest.fixture(scope="module")
def guide() -> str:
    return GUIDE.read_text()


@pytest.mark.parametrize("name", hook_names())
def test_every_hook_is_documented_with_its_signature(guide: str, name: str) -> None:
    assert f"### `{name}`" in guide, f"docs/plugins.md has no section for the hook {name}"
    args = ", ".join(inspect.signature(getattr(hookspecs, name)).parameters)
    assert f"def {name}({args})" in guide, f"docs/plugins.md does not show `def {name}({args})`"
    section = guide.split(f"### `{name}`", 1)[1].split("\n### ", 1)[0]
    assert "@hookimpl" in section, f"the section of {name} has no example"


def test_no_documented_hook_is_missing_from_hookspecs(guide: str) -> None:
    documented = set(re.findall(r"^### `(\w+)`", guide, flags=re.MULTILINE))
    assert documented == set(hook_names())


def test_guide_covers_parameters_testing_and_switches(guide: str) -> None:
    for needle in (
        "[project.entry-points.automl]",
        "int_param(",
        "low",
        "bounds",
        "automl.testing",
        "check_component",
        "AUTOML_DISABLE_PLUGINS",
        "AUTOML_NO_ENTRY_POINTS",
        "register_keras_serializable",
        "--plugin",
    ):
        assert needle in guide, needle


def test_readme_links_the_guide() -> None:
    assert "docs/plugins.md" in (REPO / "README.md").read_text()
