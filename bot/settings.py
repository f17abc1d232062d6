"""Typed settings, read once from the environment (and a `.env` file).

Every variable is documented in the README's configuration table. A bad value stops
start-up with one line that names the variable; the bot token is a `SecretStr` and is
never logged or printed.
"""

from __future__ import annotations

import logging
import re
from pathlib import Path
from typing import Annotated
from urllib.parse import urlsplit

from pydantic import Field, SecretStr, ValidationError, field_validator, model_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

# The one place languages are named in Python. The reference language is the one every
# other locale is checked against (`nudgebot i18n check`) and the last fallback; the
# CLDR regions say in whose conventions a bare language is written (day-first dates
# and 24-hour times for English).
REFERENCE_LANGUAGE = "en"
CLDR_REGIONS: dict[str, str] = {"en": "en_GB"}

# A token from @BotFather: the bot's numeric id, a colon, then 35 characters of base64url.
# Telegram does not document the length; real tokens have had 35, so accept 30 or more.
_TOKEN_RE = re.compile(r"^\d{5,20}:[A-Za-z0-9_-]{30,64}$")

# Telegram allows 1-256 of these characters; fewer than 16 would be guessable.
_WEBHOOK_SECRET_RE = re.compile(r"^[A-Za-z0-9_-]{16,256}$")

DEFAULT_API_BASE_URL = "https://api.telegram.org/bot"
REPO_ROOT = Path(__file__).resolve().parent.parent
DEFAULT_TEMPLATES_DIR = REPO_ROOT / "templates" / "messages"

Seconds = Annotated[float, Field(gt=0, le=86_400)]


class SettingsError(Exception):
    """A setting is missing or malformed; the message names the variable."""


class Settings(BaseSettings):
    """Everything the bot reads from its environment."""

    model_config = SettingsConfigDict(
        env_file=".env",
        env_file_encoding="utf-8",
        extra="ignore",
        case_sensitive=False,
    )

    telegram_bot_token: SecretStr | None = None
    database_url: str = "sqlite:///nudgebot.db"
    telegram_api_base_url: str = DEFAULT_API_BASE_URL
    log_level: str = "INFO"
    templates_dir: Path = DEFAULT_TEMPLATES_DIR
    concurrent_updates: Annotated[int, Field(ge=1, le=1024)] = 64
    default_language: str = REFERENCE_LANGUAGE

    # Long polling: how long one getUpdates call may wait on Telegram's side.
    poll_timeout_seconds: Annotated[int, Field(ge=0, le=50)] = 30

    # The dispatcher's clock and batch size (scheduler/).
    dispatch_interval_seconds: Seconds = 1.0
    dispatch_batch_size: Annotated[int, Field(ge=1, le=10_000)] = 500

    # Telegram's documented limits: about 30 messages a second overall, 1 a second per chat.
    rate_limit_per_second: Annotated[float, Field(ge=0, le=1000)] = 30.0
    rate_limit_per_chat_per_second: Annotated[float, Field(ge=0, le=100)] = 1.0
    paid_broadcast: bool = False

    # How late a missed nudge may still go out, per kind.
    grace_nightly_appreciation_seconds: Seconds = 3600
    grace_weekly_checkin_seconds: Seconds = 3 * 3600
    grace_timing_tip_seconds: Seconds = 6 * 3600
    grace_path_for_one_seconds: Seconds = 6 * 3600

    # The therapist dashboard, served by `nudgebot run` from the same process.
    dashboard_enabled: bool = True
    dashboard_host: str = "127.0.0.1"
    dashboard_port: Annotated[int, Field(ge=0, le=65535)] = 8080
    dashboard_public_url: str = "http://127.0.0.1:8080"

    # The ops endpoint (/healthz, /readyz, /metrics; bot/ops.py): off unless a port is set.
    # 0 picks a free port (it is logged). Never public: keep it on loopback or a private net.
    ops_host: str = "127.0.0.1"
    ops_port: Annotated[int, Field(ge=0, le=65535)] | None = None

    # After "not now", no new invitation through the bot for this many days.
    invite_cooldown_days: Annotated[int, Field(ge=1, le=365)] = 30

    # Delivery rows older than this are deleted; their weekly counts are kept.
    delivery_retention_days: Annotated[int, Field(ge=1, le=3650)] = 90

    # Webhook mode instead of long polling: Telegram posts updates to this https URL, and
    # the operator's reverse proxy forwards its path to WEBHOOK_HOST:WEBHOOK_PORT of any
    # process. Telegram sends the secret in a header with every update.
    telegram_webhook_url: str | None = None
    telegram_webhook_secret: SecretStr | None = None
    webhook_host: str = "127.0.0.1"
    webhook_port: Annotated[int, Field(ge=0, le=65535)] = 8443

    @field_validator("telegram_bot_token")
    @classmethod
    def _token_shape(cls, value: SecretStr | None) -> SecretStr | None:
        if value is None:
            return None
        raw = value.get_secret_value().strip()
        if not raw:
            return None
        if not _TOKEN_RE.fullmatch(raw):
            # Never echo the value: it may be a real token with a typo.
            raise ValueError("does not look like a bot token (digits, a colon, then letters)")
        return SecretStr(raw)

    @field_validator("log_level")
    @classmethod
    def _known_level(cls, value: str) -> str:
        level = value.strip().upper()
        if level not in {"DEBUG", "INFO", "WARNING", "ERROR", "CRITICAL"}:
            raise ValueError("must be one of DEBUG, INFO, WARNING, ERROR, CRITICAL")
        return level

    @field_validator("database_url")
    @classmethod
    def _known_database(cls, value: str) -> str:
        value = value.strip()
        if not (value.startswith("sqlite") or value.startswith("postgresql")):
            raise ValueError("must start with sqlite:/// or postgresql+psycopg://")
        return value

    @field_validator("telegram_api_base_url")
    @classmethod
    def _http_url(cls, value: str) -> str:
        value = value.strip()
        if not (value.startswith("https://") or value.startswith("http://")):
            raise ValueError("must be an http(s) URL such as https://api.telegram.org/bot")
        return value

    @field_validator("telegram_webhook_url")
    @classmethod
    def _https_webhook(cls, value: str | None) -> str | None:
        if value is None or not value.strip():
            return None
        value = value.strip()
        if not value.startswith("https://") or len(value) > 2048:
            raise ValueError("must be an https:// URL (Telegram posts updates only over TLS)")
        return value

    @field_validator("telegram_webhook_secret")
    @classmethod
    def _secret_shape(cls, value: SecretStr | None) -> SecretStr | None:
        if value is None or not value.get_secret_value().strip():
            return None
        raw = value.get_secret_value().strip()
        if not _WEBHOOK_SECRET_RE.fullmatch(raw):
            # Never echo it.
            raise ValueError("must be 16 to 256 characters of A-Z, a-z, 0-9, _ and -")
        return SecretStr(raw)

    @model_validator(mode="after")
    def _webhook_has_secret(self) -> Settings:
        if self.telegram_webhook_url and self.telegram_webhook_secret is None:
            raise ValueError(
                "TELEGRAM_WEBHOOK_SECRET must be set with TELEGRAM_WEBHOOK_URL, e.g. "
                'python3 -c "import secrets; print(secrets.token_urlsafe(32))"'
            )
        return self

    @property
    def webhook_path(self) -> str:
        """The path of the webhook URL: what the reverse proxy forwards."""
        return urlsplit(self.telegram_webhook_url or "").path or "/"

    @property
    def token(self) -> str:
        """The bot token; raises SettingsError with guidance when it is not set."""
        if self.telegram_bot_token is None:
            raise SettingsError(
                "TELEGRAM_BOT_TOKEN is not set. Create a bot with @BotFather in Telegram "
                "(/newbot), then put its token in TELEGRAM_BOT_TOKEN or in a .env file."
            )
        return self.telegram_bot_token.get_secret_value()

    @property
    def log_level_number(self) -> int:
        return logging.getLevelNamesMapping()[self.log_level]

    def grace_seconds(self, kind: str) -> float:
        """How late a nudge of this kind may still be delivered."""
        value = getattr(self, f"grace_{kind}_seconds", None)
        return float(value) if value is not None else 3600.0


def load_settings() -> Settings:
    """Read the settings, turning validation errors into one line per bad variable."""
    try:
        return Settings()
    except ValidationError as exc:
        lines = []
        for error in exc.errors():
            message = error["msg"].removeprefix("Value error, ")
            if not error["loc"]:  # a rule about several variables names them itself
                lines.append(f"{message}.")
                continue
            name = str(error["loc"][0]).upper()
            if name == "TELEGRAM_BOT_TOKEN":
                message += "; get one from @BotFather in Telegram (/newbot)"
            lines.append(f"{name} {message}.")
        raise SettingsError(" ".join(lines)) from None
