"""docs/model.md stays in step with the code: generated tables, sources and citations."""

from __future__ import annotations

import importlib
import pkgutil
import re
from pathlib import Path

import numpy as np
import pytest

import lepton_env.mechanisms
from lepton_env import model_card
from lepton_env.model_card import (
    ModelCardError,
    compact,
    main,
    parameter_table,
    render_blocks,
)
from lepton_env.params import FIELDS

MODEL_CARD = Path(__file__).resolve().parents[2] / "docs" / "model.md"


def test_model_card_holds_the_current_generated_tables() -> None:
    text = MODEL_CARD.read_text(encoding="utf-8")
    assert render_blocks(text) == text, (
        "docs/model.md is stale: run `python -m lepton_env.model_card --write docs/model.md`"
    )


def test_every_parameter_has_a_row_with_its_unit_in_the_model_card() -> None:
    text = MODEL_CARD.read_text(encoding="utf-8")
    for name, spec in FIELDS.items():
        row = next((line for line in text.splitlines() if line.startswith(f"| `{name}` |")), None)
        assert row is not None, f"no row for parameter {name}"
        assert f"| {spec.metadata['unit']} |" in row


def test_a_parameter_without_a_stated_source_is_an_error(monkeypatch: pytest.MonkeyPatch) -> None:
    title, fields = model_card.SECTIONS[0]
    without_horizon = {k: v for k, v in fields.items() if k != "horizon"}
    monkeypatch.setattr(
        model_card, "SECTIONS", ((title, without_horizon), *model_card.SECTIONS[1:])
    )
    with pytest.raises(ModelCardError, match=r"without a source \['horizon'\]"):
        parameter_table()


def test_a_source_for_a_field_that_does_not_exist_is_an_error(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    title, fields = model_card.SECTIONS[0]
    monkeypatch.setattr(
        model_card, "SECTIONS", ((title, {**fields, "horizn": "typo"}), *model_card.SECTIONS[1:])
    )
    with pytest.raises(ModelCardError, match=r"not a field \['horizn'\]"):
        parameter_table()


@pytest.mark.parametrize(
    ("value", "shown"),
    [
        (40, "40"),
        (0.035, "0.035"),
        (np.array([0.0, 2.0, 5.0, 20.0, 30.0]), "[0, 2, 5, 20, 30]"),
        (np.full(11, 0.008), "all 0.008"),
        (np.array([[0.6, 0.85], [0.7, 0.8], [0.65, 0.75]]), "0.6–0.85"),
        (("home", "near", "far"), "home, near, far"),
        (("a", "b", "c", "d", "e"), "a, b, c, … (5)"),
    ],
)
def test_compact_shows_scalars_short_lists_constants_and_ranges(value: object, shown: str) -> None:
    assert compact(value) == shown


def test_render_blocks_replaces_only_the_text_between_markers() -> None:
    stale = "intro\n<!-- params:start -->\nold table\n<!-- params:end -->\noutro\n"
    stale += "<!-- features:start -->\n<!-- features:end -->\n"
    stale += "<!-- actions:start -->\nx\n<!-- actions:end -->\n"
    stale += "<!-- regions:start -->\n<!-- regions:end -->\n"
    fresh = render_blocks(stale)
    assert fresh.startswith("intro\n<!-- params:start -->\n#### Episode")
    assert "old table" not in fresh
    assert "\n<!-- params:end -->\noutro\n" in fresh
    assert render_blocks(fresh) == fresh


def test_render_blocks_names_a_missing_marker() -> None:
    with pytest.raises(ModelCardError, match="params:start"):
        render_blocks("no markers here\n")


def test_cli_check_fails_on_a_stale_copy_and_write_refreshes_it(tmp_path: Path) -> None:
    stale = tmp_path / "model.md"
    text = MODEL_CARD.read_text(encoding="utf-8")
    stale.write_text(text.replace("| `horizon` |", "| `horizon_old` |"), encoding="utf-8")
    assert main(["--check", str(stale)]) == 1
    assert main(["--write", str(stale)]) == 0
    assert stale.read_text(encoding="utf-8") == text
    assert main(["--check", str(stale)]) == 0


def _reference_bullets() -> list[str]:
    text = MODEL_CARD.read_text(encoding="utf-8")
    references = text.split("\n## References\n", 1)[1]
    return [" ".join(bullet.split()) for bullet in references.split("\n* ")]


def test_every_source_cited_in_a_mechanism_docstring_is_in_the_references() -> None:
    modules = [
        importlib.import_module(f"lepton_env.mechanisms.{info.name}")
        for info in pkgutil.iter_modules(lepton_env.mechanisms.__path__)
    ]
    modules.append(importlib.import_module("lepton_env.rng"))
    citation = re.compile(r"\b([A-Z][A-Za-z]+)(?: & [A-Z][A-Za-z]+)?,? \(?((?:19|20)\d\d)\b")
    cited = {
        (name, year, module.__name__)
        for module in modules
        for name, year in citation.findall(" ".join((module.__doc__ or "").split()))
    }
    assert len(cited) >= 10
    bullets = _reference_bullets()
    for name, year, module_name in sorted(cited):
        assert any(name in bullet and year in bullet for bullet in bullets), (
            f"{name} ({year}), cited in {module_name}, is missing from the model card's references"
        )
