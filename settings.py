"""Deployment settings, from `GOV_SHARE_*` environment variables with embedded defaults.

Database URLs and secrets live here only, never in catalog or rule files. In demo
mode the secrets are derived from the seed so the README's keys work; outside demo
mode the server refuses to start without real ones.

The command lines (`python -m audit`, `auth`, `policies`) read the settings the server
ran with: a server started in demo mode leaves `demo.json` (its seed) in its data
directory, and one started outside demo mode removes it, so a tool's secrets are the
demo's exactly when the server's were (`tool_settings`).
"""

from __future__ import annotations

import datetime
import hashlib
import ipaddress
import json
import os
import re
from pathlib import Path
from typing import Any

from pydantic import BaseModel, Field, SecretStr, ValidationError, field_validator
from pydantic_settings import BaseSettings, SettingsConfigDict, SettingsError

from errors import ConfigurationError
from throttle import parse_overrides, parse_rate

ROOT = Path(__file__).resolve().parent
_ORIGIN = re.compile(r"https?://[^/\s*?#@]+", re.IGNORECASE)
_REDIS_URL = re.compile(r"(rediss?|unix)://", re.IGNORECASE)
_PEER = re.compile(r"[0-9A-Z]{18}/[a-z0-9-]+")
_ACTED_FOR = re.compile(r"[0-9A-Z]{18}|\*")
ENV_PREFIX = "GOV_SHARE_"
DEFAULT_FIRST = 20
DEMO_MARKER = "demo.json"
DEMO_DROP_SOURCES = frozenset({"human_resources"})
"""The demo's file-drop departments: the human resources bureau delivers its insurance
contributions as a CSV file (made from the demo seed, loaded at start), so a newcomer
sees a source that is not a database. Named in GOV_SHARE_SOURCES, it is what that says."""
# What the server needs outside demo mode and cannot make up: `python -m platform_setup
# keys` prints fresh values for all of them.
SECRETS = (
    "GOV_SHARE_AUDIT_KEY_ID",
    "GOV_SHARE_AUDIT_KEYS",
    "GOV_SHARE_AUDIT_SIGNING_KEY",
    "GOV_SHARE_CURSOR_KEY",
)


class WebhookTarget(BaseModel):
    """Where a department system hears of its applications, and the key it checks them by."""

    url: str = Field(pattern=r"^https?://[^\s]+$")
    secret: SecretStr = Field(min_length=16)


class Settings(BaseSettings):
    model_config = SettingsConfigDict(env_prefix=ENV_PREFIX, env_nested_delimiter="__")

    demo: bool = False
    seed: int = 20201
    data_dir: Path = ROOT / "var"
    catalog_dir: Path = ROOT / "catalog" / "departments"
    policy_dir: Path = ROOT / "policies"
    # The city's working-day calendar overrides (workdays/overrides.py): one holiday-cn
    # JSON file per year, for local adjustments and the years `chinese-calendar` lacks.
    calendar_dir: Path = ROOT / "workdays" / "overrides"
    platform_store_url: str | None = None
    # Source name -> its URL, or an object of options with a `url` (connectors/kinds.py):
    # checked against its kind's options at start-up.
    sources: dict[str, str | dict[str, Any]] = Field(default_factory=dict)

    audit_key_id: str | None = None
    audit_keys: dict[str, SecretStr] = Field(default_factory=dict)
    # The auditor's X25519 public key (64 hex digits): when set, each record's subjects
    # are also kept SM4-sealed to it, for the auditor alone to list (audit/sealing.py).
    audit_sealing_key: str | None = None
    cursor_key: SecretStr | None = None
    # Ed25519 private key signing audit checkpoints: 64 hex digits (the 32-byte seed) or
    # PKCS#8 PEM. Derived from the seed in demo mode; required outside it.
    audit_signing_key: SecretStr | None = None
    # Append-only JSONL of signed checkpoints; default `data_dir / "audit-checkpoints.jsonl"`.
    audit_checkpoint_path: Path | None = None
    audit_checkpoint_interval_seconds: float = Field(default=60.0, gt=0)
    audit_batch_size: int = Field(default=256, gt=0)
    # About six months; the store refuses to remove records younger than 180 days anyway.
    audit_retention_days: int = Field(default=183, ge=180)
    # PostgreSQL roles made by the migrations: <prefix>_owner, _writer, _retention, _auditor.
    audit_role_prefix: str = Field(default="gov_share_audit", pattern=r"^[a-z_][a-z0-9_]{0,40}$")

    # Misuse signals for auditors (audit/signals.py, Art. 11): what makes a pattern worth
    # a look. A caller's records a day at least `factor` times its own daily mean over
    # the `baseline_days` before the period, and at least `floor` a day.
    signal_volume_factor: float = Field(default=5.0, gt=1)
    signal_volume_floor: float = Field(default=20.0, ge=0)
    signal_baseline_days: int = Field(default=28, gt=0)
    # A person's requests outside working hours (Asia/Shanghai, on China's working days):
    # this many in the period.
    signal_work_starts: datetime.time = datetime.time(8, 30)
    signal_work_ends: datetime.time = datetime.time(18, 0)
    signal_off_hours_requests: int = Field(default=3, gt=0)
    # One purpose reference used for this many distinct data subjects.
    signal_reference_subjects: int = Field(default=20, gt=1)
    # A caller's refused or forbidden requests, or ones with fields denied, in the period.
    signal_denied_attempts: int = Field(default=5, gt=0)
    # Reads through a grant in its last hours: this many.
    signal_grant_end_hours: float = Field(default=24.0, gt=0)
    signal_grant_end_reads: int = Field(default=10, gt=0)
    # Distinct data subjects one caller checked through verification in the period.
    signal_verification_subjects: int = Field(default=50, gt=1)
    # The records listed behind one signal, newest first (its count says how many in all).
    signal_records: int = Field(default=20, gt=0, le=500)

    # The longest a running server goes without checking the grant store's change sequence
    # and the rule and catalog files: what a file watcher or a Redis message missed
    # arrives within it (bounded staleness).
    policy_refresh_seconds: float = Field(default=5.0, gt=0)
    # How often the sources are asked, in the background, when each resource was last
    # updated (Art. 10): never per request.
    freshness_check_seconds: float = Field(default=300.0, gt=0)
    # A source neither read nor updated for this long is listed as a candidate for
    # retirement by `python -m inventory` (Art. 16).
    inventory_idle_days: int = Field(default=90, gt=0)
    # Redis, for the instances of one platform to tell each other at once that the grants
    # changed (a message on `redis_channel`). None: each instance finds out by polling.
    redis_url: str | None = None
    redis_channel: str = Field(default="gov-share:grants", min_length=1, max_length=200)
    # How long a server trusts an API key it checked: a key revoked in the store stops
    # working within this time. 0: every request looks its key up.
    auth_cache_seconds: float = Field(default=5.0, ge=0)
    # People signed in through the city's single sign-on (auth/tokens.py): the issuer its
    # tokens name, the audience they must be for, and its public keys, as a JWKS file path
    # or an https URL. No issuer: bearer tokens that look like JWTs are refused, but for
    # the demo sign-on's in demo mode (auth/demo_sign_on.py).
    sso_issuer: str | None = None
    sso_audience: str | None = None
    sso_jwks: str | None = None
    # How far the platform's clock and the sign-on's may disagree on expiry and not-before.
    sso_leeway_seconds: float = Field(default=60.0, ge=0, le=300)
    # The least time between two fetches of the JWKS URL: a token naming a key nobody
    # knows fetches it again, but never more often than this.
    sso_jwks_refresh_seconds: float = Field(default=60.0, gt=0)
    # Which claim holds what: the department code, the person id, the roles, the system
    # (the front-end application the person signed in to: OpenID Connect's `azp`).
    sso_claims: dict[str, str] = Field(
        default_factory=lambda: {
            "department": "department",
            "person": "sub",
            "roles": "roles",
            "system": "azp",
        }
    )
    # Addresses or networks of the reverse proxies in front of the server, as a JSON list:
    # '["10.0.0.0/8"]'. The client address on record is then the first one, walking back
    # through X-Forwarded-For, that is not one of them; any other peer's header is ignored.
    trusted_proxies: list[str] = Field(default_factory=list)
    # Verification checks (数据校核) each caller system may make per Asia/Shanghai day.
    verification_quota_per_day: int = Field(default=10_000, gt=0)
    # Requests each department system may make, and each department with all its systems
    # together, in any moving window of that length: '600/minute', '20/second'. Counted in
    # Redis with `redis_url`, so every server spends from one budget (throttle/).
    rate_limit_system: str = "1200/minute"
    rate_limit_department: str = "3000/minute"
    # Rates of named departments and systems, as a JSON object keyed by department code
    # or `<department code>/<system id>`: '{"11410581005000006G/marriage-registry":
    # "60/minute"}'. A system's override does not lift its department's rate.
    rate_limit_overrides: dict[str, str] = Field(default_factory=dict)
    # Failed authentications (a wrong key or token) each client address may make; past
    # it, every credential from that address is refused unchecked until the window moves
    # on, so keys cannot be guessed at speed. Set `trusted_proxies` behind a proxy: the
    # address is then the real client's, not the proxy's shared by all.
    rate_limit_auth_failures: str = "10/minute"
    # Requests the public (no credential) may make from each client address: open data
    # is free to read (Art. 20), not free to scrape at any speed.
    rate_limit_public: str = "600/minute"
    # What the counts' Redis keys start with: two platforms sharing one Redis count apart.
    rate_limit_prefix: str = Field(default="gov-share:rates", min_length=1, max_length=200)

    # Other sharing platforms (the province's, another city's gov-share) that may act
    # here for their own callers (web/acting.py): each peer's system as its API key names
    # it, `<department code>/<system>`, and the departments it may act for ("*": any).
    peer_platforms: dict[str, list[str]] = Field(default_factory=dict)

    # The systems that may register a document by sending its SHA-256 with its text
    # (Apollo's automatic persisted queries), as a JSON list of system ids. None: every
    # department system may; '[]': none may (a hash with its text is still run). A
    # system set persisted-only (`python -m documents mode`) never does, whatever this says.
    apq_registering_systems: list[str] | None = None

    # Documents whose plan the compiled executor can shape (resolvers/compiled.py) are
    # answered by it; false: graphql-core executes every document, as the reference.
    compiled: bool = True
    max_first: int = Field(default=1000, gt=0)
    batch_bound: int = Field(default=1000, gt=0)
    statement_timeout_seconds: float = Field(default=5.0, gt=0)
    max_depth: int = Field(default=12, gt=0)
    max_aliases: int = Field(default=30, gt=0)
    max_tokens: int = Field(default=5000, gt=0)

    # Department systems told of their applications (Art. 8: new, answered, escalated, due
    # soon, a grant ending soon) by signed webhooks, as a JSON object keyed by department
    # code, or `coordination_office` for the office: '{"11410581005000005D": {"url":
    # "https://…/hooks", "secret": "…"}}' (notifications/). The secret signs each body.
    application_webhooks: dict[str, WebhookTarget] = Field(default_factory=dict)
    # A failed delivery is tried again after this, doubled at each attempt, up to
    # `webhook_attempts` attempts; then it is dead-lettered (`python -m notifications`).
    webhook_retry_seconds: float = Field(default=30.0, gt=0)
    webhook_attempts: int = Field(default=6, gt=0, le=20)
    # How long before an answer's deadline, and before a grant's end, a reminder goes out.
    reminder_hours: float = Field(default=2.0, gt=0)
    # How often the notifier looks for new steps, reminders and deliveries due.
    notify_seconds: float = Field(default=5.0, gt=0)

    # GraphiQL at GET /graphql for browsers, from the project's own files. None: on in demo
    # mode only.
    graphiql: bool | None = None
    # Origins whose web pages may call /graphql from a browser, as a JSON list:
    # '["https://portal.linzhou.gov.cn"]'. Empty: no CORS headers at all.
    cors_origins: list[str] = Field(default_factory=list)

    @field_validator("cors_origins")
    @classmethod
    def origins_as_browsers_send_them(cls, origins: list[str]) -> list[str]:
        """As browsers send them in `Origin`: scheme, host and port, lowercase, no path."""
        for origin in origins:
            if not _ORIGIN.fullmatch(origin):
                raise ValueError(f"{origin!r} is not an origin such as https://portal.example.cn")
        return [origin.lower() for origin in origins]

    @field_validator("audit_sealing_key")
    @classmethod
    def sealing_key_is_a_public_key(cls, key: str | None) -> str | None:
        """Checked at start-up: a bad key would fail every request's audit record."""
        if key is not None and not re.fullmatch(r"[0-9a-fA-F]{64}", key):
            raise ValueError(
                "the auditor's X25519 public key, 64 hex digits (python -m audit sealing-key)"
            )
        return key.lower() if key is not None else None

    @field_validator("trusted_proxies")
    @classmethod
    def proxy_addresses(cls, proxies: list[str]) -> list[str]:
        """Checked here: uvicorn would take a typo for a host name and trust nothing."""
        for proxy in proxies:
            try:
                ipaddress.ip_network(proxy, strict=False)
            except ValueError:
                raise ValueError(f"{proxy!r} is not an IP address or network") from None
        return proxies

    @field_validator("peer_platforms")
    @classmethod
    def peers_named(cls, peers: dict[str, list[str]]) -> dict[str, list[str]]:
        for peer, departments in peers.items():
            if not _PEER.fullmatch(peer):
                raise ValueError("each peer is `<department code>/<system>`, as its key names it")
            if not departments or not all(_ACTED_FOR.fullmatch(code) for code in departments):
                raise ValueError(f'{peer}: a list of department codes, or ["*"]')
        return peers

    @field_validator("sso_claims")
    @classmethod
    def every_claim_named(cls, claims: dict[str, str]) -> dict[str, str]:
        missing = {"department", "person", "roles", "system"} - claims.keys()
        if missing:
            raise ValueError(f"must name the claim for each of: {', '.join(sorted(missing))}")
        return claims

    @field_validator(
        "rate_limit_system",
        "rate_limit_department",
        "rate_limit_auth_failures",
        "rate_limit_public",
    )
    @classmethod
    def a_rate(cls, rate: str) -> str:
        parse_rate(rate)
        return rate

    @field_validator("rate_limit_overrides")
    @classmethod
    def rates_of_callers(cls, overrides: dict[str, str]) -> dict[str, str]:
        parse_overrides(overrides)
        return overrides

    @field_validator("redis_url")
    @classmethod
    def a_redis_url(cls, url: str | None) -> str | None:
        """Checked at start-up: a URL the client cannot use would only be found when a
        server first subscribes."""
        if url is not None and not _REDIS_URL.match(url):
            raise ValueError("not a Redis URL: redis://host:port/db, rediss://… or unix://…")
        return url

    def default_first(self) -> int:
        """`first` when a list does not give it: 20, or `max_first` if that is less."""
        return min(DEFAULT_FIRST, self.max_first)

    def registers_automatically(self, system: str) -> bool:
        """The system's documents sent with their hash are stored, to be called by id."""
        allowed = self.apq_registering_systems
        return allowed is None or system in allowed

    def graphiql_served(self) -> bool:
        return self.demo if self.graphiql is None else self.graphiql

    def store_url(self) -> str:
        return self.platform_store_url or f"sqlite+aiosqlite:///{self.data_dir / 'platform.db'}"

    def demo_source_path(self, source: str) -> Path:
        return self.data_dir / "sources" / f"{source}.db"

    def staging_path(self, source: str) -> Path:
        """Where a file-drop source's files are loaded to, unless it names a staging_url."""
        return self.data_dir / "staging" / f"{source}.db"

    def demo_delivered(self, source: str) -> bool:
        """Whether the demo serves `source` as a file-drop department (DEMO_DROP_SOURCES)."""
        return self.demo and source in DEMO_DROP_SOURCES and source not in self.sources

    def demo_drop_folder(self, source: str) -> Path:
        """Absolute, as a `file://` URL needs, whatever the data directory is relative to."""
        return (self.data_dir / "drops" / source).resolve()

    def source_setting(self, source: str) -> str | dict[str, Any]:
        """Sources are opened read-only by default: the platform never writes to them.
        A file-drop source (`file://`) is loaded into its own staging database."""
        if self.demo_delivered(source):
            setting: str | dict[str, Any] = {"url": f"file://{self.demo_drop_folder(source)}"}
        elif source not in self.sources:
            return f"sqlite+aiosqlite:///file:{self.demo_source_path(source)}?mode=ro&uri=true"
        else:
            setting = self.sources[source]
        options = {"url": setting} if isinstance(setting, str) else setting
        if str(options.get("url", "")).startswith("file://") and "staging_url" not in options:
            staging = f"sqlite+aiosqlite:///{self.staging_path(source)}"
            return {**options, "staging_url": staging}
        return setting

    def audit_key(self) -> tuple[str, bytes]:
        if self.audit_key_id and self.audit_key_id in self.audit_keys:
            return self.audit_key_id, self.audit_keys[self.audit_key_id].get_secret_value().encode()
        if self.audit_key_id:
            raise ConfigurationError(
                "settings",
                "GOV_SHARE_AUDIT_KEY_ID",
                f"names the key {self.audit_key_id!r}, which GOV_SHARE_AUDIT_KEYS does not hold",
            )
        if self.demo:
            return f"demo-{self.seed}", _derive(self.seed, "audit-hmac")
        raise ConfigurationError(
            "settings",
            "GOV_SHARE_AUDIT_KEY_ID, GOV_SHARE_AUDIT_KEYS",
            "missing: the audit HMAC key, which hashes record keys and data subjects in the "
            "audit log (its id, and a JSON object of id -> key), is required outside demo mode",
        )

    def cursor_secret(self) -> bytes:
        if self.cursor_key is not None:
            try:
                key = bytes.fromhex(self.cursor_key.get_secret_value())
            except ValueError:
                key = b""
            if len(key) != 16:
                raise ConfigurationError(
                    "settings", "GOV_SHARE_CURSOR_KEY", "must be 32 hex digits (an SM4 key)"
                )
            return key
        if self.demo:
            return _derive(self.seed, "cursor")[:16]
        raise ConfigurationError(
            "settings",
            "GOV_SHARE_CURSOR_KEY",
            "missing: the SM4 key that encrypts cursors (32 hex digits) is required outside "
            "demo mode",
        )


def read_settings(**values: Any) -> Settings:
    """The settings from the environment (`values` win over it). A value that does not
    validate is a ConfigurationError naming its environment variable, never the value
    (it may be a secret); all of them at once, as an ExceptionGroup."""
    try:
        return Settings(**values)
    except ValidationError as invalid:
        problems = [
            ConfigurationError("settings", variable(str(error["loc"][0])), error["msg"])
            for error in invalid.errors()
        ]
    except SettingsError as unreadable:  # a JSON setting that is not JSON
        field = re.search(r'field "(\w+)"', str(unreadable))
        name = variable(field[1]) if field else f"{ENV_PREFIX}*"
        problems = [ConfigurationError("settings", name, "not valid JSON")]
    raise ExceptionGroup("the settings do not validate", problems)


def variable(field: str) -> str:
    """The environment variable that sets a field."""
    return f"{ENV_PREFIX}{field.upper()}"


def tool_settings() -> Settings:
    """The settings the server ran with on this data directory: those of the environment,
    in demo mode (with the server's seed) when the server last started in demo mode.

    GOV_SHARE_DEMO set in the environment wins, as it would for the server."""
    settings = read_settings()
    if settings.demo or any(name.upper() == variable("demo") for name in os.environ):
        return settings
    seed = _demo_seed(settings.data_dir / DEMO_MARKER)
    return settings if seed is None else read_settings(demo=True, seed=seed)


def record_run_mode(settings: Settings) -> None:
    """Leave the demo marker in the data directory for the tools, or remove it: a data
    directory served outside demo mode must never be read with the demo's secrets."""
    marker = settings.data_dir / DEMO_MARKER
    try:
        if settings.demo:
            settings.data_dir.mkdir(parents=True, exist_ok=True)
            written = marker.with_name(f".{DEMO_MARKER}.partial")
            written.write_text(json.dumps({"seed": settings.seed}) + "\n", encoding="utf-8")
            written.replace(marker)
        else:
            marker.unlink(missing_ok=True)
    except OSError as error:
        done = "written" if settings.demo else "removed"
        raise ConfigurationError(
            str(marker), "", f"the demo marker cannot be {done}: {error.strerror}"
        ) from None


def _demo_seed(marker: Path) -> int | None:
    try:
        text = marker.read_text(encoding="utf-8")
    except FileNotFoundError:
        return None
    try:
        seed = json.loads(text)["seed"]
    except (ValueError, KeyError, TypeError):
        seed = None
    if not isinstance(seed, int) or isinstance(seed, bool):
        raise ConfigurationError(
            str(marker),
            "",
            'not a demo marker: expected {"seed": <integer>}, as `python server.py --demo` '
            "writes it; remove the file if this data directory is not a demo's",
        )
    return seed


def _derive(seed: int, purpose: str) -> bytes:
    return hashlib.new("sm3", f"gov-share-demo:{seed}:{purpose}".encode()).digest()
