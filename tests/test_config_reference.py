"""docs/config-reference.md is generated from the schema: every field has a description and the file is fresh."""

from pathlib import Path

from typer.testing import CliRunner

from dalda.cli import app
from dalda.configure import CHOICES
from dalda.reference import builtin_names, central_rows, entry_rows, render, undocumented

ROOT = Path(__file__).resolve().parents[1]


def test_every_field_central_and_every_entrys_has_a_description():
    assert undocumented() == []


def test_reference_names_every_central_field_and_every_entrys_settings():
    text = render()
    paths = [row.path for row in central_rows()] + [row.path for _, _, row in entry_rows()]
    assert paths and all(f"`{path}`" in text for path in paths)
    for choice in CHOICES:
        assert builtin_names(choice.registry)
        for entry in builtin_names(choice.registry):
            if choice.registry.settings_model(entry).model_fields:
                assert f"settings of `{entry}`" in text


def test_committed_reference_equals_a_fresh_generation():
    committed = (ROOT / "docs" / "config-reference.md").read_text()
    assert committed == render(), "regenerate it: dalda config-reference > docs/config-reference.md"


def test_cli_prints_the_reference():
    result = CliRunner().invoke(app, ["config-reference"])
    assert result.exit_code == 0 and result.stdout == render()


def test_a_registered_plugin_entry_does_not_change_the_committed_reference():
    from pydantic import Field

    from dalda.guidance import GUIDANCE
    from dalda.settings import EntrySettings

    class PluginSettings(EntrySettings):
        knob: int = Field(1, description="A plugin's own setting.")

    class PluginSampler:  # an entry defined outside dalda, as an installed plugin's is
        settings_model = PluginSettings

    PluginSampler.__module__ = "someone_elses_package"
    GUIDANCE.register("plugin-sampler", PluginSampler())
    try:
        assert "plugin-sampler" not in builtin_names(GUIDANCE)
        assert render() == (ROOT / "docs" / "config-reference.md").read_text()
    finally:
        GUIDANCE.unregister("plugin-sampler")
