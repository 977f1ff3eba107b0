"""Settings: loaded once from TOML at the edge and passed down.

Where the file comes from: `--config FILE`, else `$LISTSERV_CONFIG`, else
`./config.toml` when it exists, else the built-in defaults. Relative paths in a
file (the SQLite database, the secret key, the outbox) are taken relative to
that file's folder, so a config works wherever the server is started from.
`config.example.toml` documents every key; a test keeps the two in step.
"""

from __future__ import annotations

import os
import tomllib
from pathlib import Path
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, PrivateAttr, ValidationError

from listserv.errors import ConfigError

ENV_VAR = "LISTSERV_CONFIG"
DEFAULT_FILE = Path("config.toml")


class _Section(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class DatabaseSettings(_Section):
    url: str = "sqlite:///listserv.db"


class SmtpSettings(_Section):
    host: str = "127.0.0.1"
    port: int = Field(8025, ge=0, le=65535)
    max_message_size: int = Field(10 * 1024 * 1024, gt=0)
    hostname: str = "localhost"  # the name in our SMTP greeting


class DeliverySettings(_Section):
    mode: Literal["smtp", "maildir"] = "smtp"
    relay_host: str = "127.0.0.1"
    relay_port: int = Field(25, ge=1, le=65535)
    max_recipients_per_transaction: int = Field(100, ge=1, le=10_000)
    max_connections: int = Field(2, ge=1, le=64)
    retry_initial_seconds: float = Field(30, gt=0)
    give_up_after_hours: float = Field(120, gt=0)
    outbox_dir: str = "outbox"
    # Delivery failures (5xx, or giving up) a member may collect before their
    # delivery is switched off; 0 never switches it off.
    bounce_score_threshold: int = Field(5, ge=0)


class WebSettings(_Section):
    host: str = "127.0.0.1"
    port: int = Field(8000, ge=0, le=65535)
    base_url: str = "http://127.0.0.1:8000"
    enabled: bool = True


class DkimSettings(_Section):
    domain: str = ""  # sign distribution copies as this domain; "" signs nothing
    selector: str = "listserv"
    private_key_file: str = "dkim.key"


class SecuritySettings(_Section):
    secret_key_file: str = "secret.key"


class Settings(_Section):
    database: DatabaseSettings = DatabaseSettings()
    smtp: SmtpSettings = SmtpSettings()
    delivery: DeliverySettings = DeliverySettings()
    web: WebSettings = WebSettings()
    security: SecuritySettings = SecuritySettings()
    dkim: DkimSettings = DkimSettings()
    # The folder relative paths are resolved against; not a TOML key.
    _base_dir: Path = PrivateAttr(default_factory=Path.cwd)

    @property
    def base_dir(self) -> Path:
        return self._base_dir

    def path(self, value: str) -> Path:
        candidate = Path(value).expanduser()
        return candidate if candidate.is_absolute() else self._base_dir / candidate

    @property
    def secret_key_path(self) -> Path:
        return self.path(self.security.secret_key_file)

    @property
    def outbox_path(self) -> Path:
        return self.path(self.delivery.outbox_dir)

    @property
    def database_url(self) -> str:
        """The configured URL with a relative SQLite path made absolute."""
        url = self.database.url
        for prefix in ("sqlite:///", "sqlite+aiosqlite:///"):
            if url.startswith(prefix):
                rest = url[len(prefix) :]
                if rest and rest != ":memory:" and not rest.startswith("/"):
                    return prefix + str(self.path(rest))
        return url


def find_config_file(explicit: Path | None) -> Path | None:
    if explicit is not None:
        return explicit
    from_env = os.environ.get(ENV_VAR)
    if from_env:
        return Path(from_env)
    return DEFAULT_FILE if DEFAULT_FILE.exists() else None


def load_settings(explicit: Path | None = None) -> Settings:
    """Read the settings, or raise ConfigError with one line saying what is wrong."""
    path = find_config_file(explicit)
    if path is None:
        return Settings()
    try:
        with path.open("rb") as file:
            data = tomllib.load(file)
    except FileNotFoundError:
        raise ConfigError(f"{path}: no such config file") from None
    except tomllib.TOMLDecodeError as error:
        raise ConfigError(f"{path}: not valid TOML ({error})") from None
    return settings_from_dict(data, source=str(path), base_dir=path.resolve().parent)


def settings_from_dict(data: dict[str, object], *, source: str, base_dir: Path) -> Settings:
    try:
        settings = Settings.model_validate(data)
    except ValidationError as error:
        raise ConfigError(f"{source}: {_first_problem(error)}") from None
    settings._base_dir = base_dir
    return settings


def _first_problem(error: ValidationError) -> str:
    problem = error.errors()[0]
    location = [str(part) for part in problem["loc"]]
    key = f"[{location[0]}] {'.'.join(location[1:])}" if len(location) > 1 else location[0]
    if problem["type"] == "extra_forbidden":
        return f"unknown key {key}"
    if problem["type"] == "model_type":
        return f"{key} must be a table"
    return f"{key}: {problem['msg'].lower()} (got {problem.get('input')!r})"
