"""Issue 2 units: config loading; config.example.toml documents every key."""

from __future__ import annotations

import tomllib
from pathlib import Path

import pytest
from pydantic import BaseModel

from listserv.config import ENV_VAR, Settings, load_settings
from listserv.errors import ConfigError

ROOT = Path(__file__).resolve().parent.parent


def write(tmp_path: Path, text: str) -> Path:
    path = tmp_path / "config.toml"
    path.write_text(text)
    return path


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("[smtp]\nprot = 25\n", "config.toml: unknown key [smtp] prot"),
        ("[smpt]\nport = 25\n", "config.toml: unknown key smpt"),
        (
            '[smtp]\nport = "twenty-five"\n',
            "config.toml: [smtp] port: input should be a valid integer",
        ),
        (
            "[smtp]\nport = 70000\n",
            "config.toml: [smtp] port: input should be less than or equal to 65535",
        ),
        (
            '[delivery]\nmode = "pigeon"\n',
            "config.toml: [delivery] mode: input should be 'smtp' or 'maildir'",
        ),
        ("smtp = 3\n", "config.toml: smtp must be a table"),
        ("[smtp\nport = 1\n", "config.toml: not valid TOML"),
    ],
)
def test_config_errors_are_one_clear_line(tmp_path: Path, text: str, message: str) -> None:
    with pytest.raises(ConfigError) as refused:
        load_settings(write(tmp_path, text))
    error = str(refused.value)
    assert "\n" not in error
    assert error.startswith(str(tmp_path / "config.toml"))
    assert message.split(": ", 1)[1] in error


def test_relative_paths_are_relative_to_the_config_file(tmp_path: Path) -> None:
    settings = load_settings(write(tmp_path, '[database]\nurl = "sqlite:///data/lists.db"\n'))
    assert settings.database_url == f"sqlite:///{tmp_path}/data/lists.db"
    assert settings.secret_key_path == tmp_path / "secret.key"


def test_the_config_file_is_found_through_the_environment(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    path = write(tmp_path, "[smtp]\nport = 2525\n")
    monkeypatch.setenv(ENV_VAR, str(path))
    monkeypatch.chdir(tmp_path.parent)
    assert load_settings().smtp.port == 2525


def test_without_a_file_the_defaults_apply(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv(ENV_VAR, raising=False)
    monkeypatch.chdir(tmp_path)
    assert load_settings() == Settings()


def _keys(model: type[BaseModel], prefix: str = "") -> set[str]:
    keys: set[str] = set()
    for name, field in model.model_fields.items():
        annotation = field.annotation
        if isinstance(annotation, type) and issubclass(annotation, BaseModel):
            keys |= _keys(annotation, f"{prefix}{name}.")
        else:
            keys.add(prefix + name)
    return keys


def _documented(data: dict[str, object], prefix: str = "") -> set[str]:
    keys: set[str] = set()
    for name, value in data.items():
        if isinstance(value, dict):
            keys |= _documented(value, f"{prefix}{name}.")
        else:
            keys.add(prefix + name)
    return keys


def test_config_example_documents_every_setting_and_loads() -> None:
    example = ROOT / "config.example.toml"
    assert _documented(tomllib.loads(example.read_text())) == _keys(Settings)
    assert load_settings(example) == Settings.model_validate(tomllib.loads(example.read_text()))
    # Every key has a comment line explaining it.
    text = example.read_text()
    for key in _keys(Settings):
        name = key.split(".")[-1]
        line = next(line for line in text.splitlines() if line.startswith(f"{name} "))
        assert "#" in line or f"# {name}" in text, f"{key} has no explanation"
