"""All configuration in one typed object, read from ONEDOOR_* environment variables (and .env)."""

import json
from datetime import timedelta
from functools import cached_property
from pathlib import Path
from typing import Annotated, Literal

import limits
from pydantic import AliasChoices, BaseModel, Field, IPvAnyAddress, SecretStr, field_validator, model_validator
from pydantic_settings import BaseSettings, NoDecode, SettingsConfigDict

from onedoor.domain.policy import ClockPolicy, DeliveryPolicy, GradingPolicy, HouseholdPolicy, LadderPolicy, NoticePolicy, Policy


def merged(default: dict, given: dict) -> dict:
    """`given` laid over `default`, nested dicts key by key: what the environment names wins, the rest stays."""
    out = dict(default)
    for key, value in given.items():
        out[key] = merged(out[key], value) if isinstance(value, dict) and isinstance(out.get(key), dict) else value
    return out


class Settings(BaseSettings):
    # extra="ignore": the one .env of a checkout also holds docker compose's variables (POSTGRES_PASSWORD, .env.example).
    model_config = SettingsConfigDict(env_prefix="ONEDOOR_", env_file=".env", env_nested_delimiter="__", extra="ignore")

    data_dir: Path = Field(Path("var"), description="embedded stack's files: Temporal's SQLite, the register")
    database_url: str | None = Field(
        None,
        validation_alias=AliasChoices("DATABASE_URL", "ONEDOOR_DATABASE_URL"),
        description="register database; SQLite under data_dir when unset",
    )
    temporal_address: str = "127.0.0.1:7233"
    temporal_namespace: str = "default"
    temporal_ui_port: int = 8233
    history_retention: timedelta = Field(timedelta(days=90), description="how long Temporal keeps a closed case's history; the register keeps it for years")
    task_queue: str = "onedoor-cases"
    api_host: str = "127.0.0.1"
    api_port: int = 8000
    api_url: str | None = Field(None, description="where units and the simulator reach the API; http://api_host:api_port when unset")
    http_keep_alive: int = Field(
        75, ge=1, description="seconds the API and the simulator keep an idle connection open: longer than any client's pool (httpx 5 s) or proxy in "
        "front (nginx 60 s) keeps it, so a request is never sent on a connection the server is closing (the client would see a reset)",
    )
    decision_wait: timedelta = Field(
        timedelta(seconds=10), description="how long a decision's answer waits for the case to act on it (a refusal moves it to referral, a visit settles "
        "it); longer, the answer is 202 with where to read the case, and the decision stands",
    )
    simulator_host: str = "127.0.0.1"
    simulator_port: int = 8100
    simulator_url: str = "http://127.0.0.1:8100"
    county_code: str = Field("139001", pattern=r"^\d{6}$", description="行政区划代码 of the county, prefixes case numbers")
    clocks: ClockPolicy = Field(default_factory=ClockPolicy, description="per grade and step; e.g. ONEDOOR_CLOCKS__YELLOW__RESPONSE__LENGTH=30")
    grading: GradingPolicy = Field(default_factory=GradingPolicy)
    ladder: LadderPolicy = Field(default_factory=LadderPolicy, description="分层递进: whether a breach lifts the case a level; e.g. ONEDOOR_LADDER__BREACH_ESCALATES=false")
    household: HouseholdPolicy = Field(default_factory=HouseholdPolicy, description="家庭和谐服务档案: visits by risk, calm period; e.g. ONEDOOR_HOUSEHOLD__CALM_PERIOD=P60D")
    delivery: DeliveryPolicy = Field(default_factory=DeliveryPolicy, description="units' systems: retries and the outage window before the inbox fallback; e.g. ONEDOOR_DELIVERY__OUTAGE_WINDOW=PT1H")
    notices: NoticePolicy = Field(default_factory=NoticePolicy, description="免打扰: quiet hours for notices to parties and leaders (not on red cases); e.g. ONEDOOR_NOTICES__QUIET_UNTIL=07:30")
    incident_link_window: timedelta = Field(
        timedelta(days=30), description="警情流转: a further incident about the same parties this soon after an open case was received joins it; e.g. ONEDOOR_INCIDENT_LINK_WINDOW=P30D"
    )
    party_mark_key: SecretStr | None = Field(
        None, description="keys the party marks (HMAC-SHA256 of ID number, or name and phone) that find the open case about the same parties; derived from the payload key when unset"
    )
    weekly_report_cron: str = Field("0 9 * * 1", description="研判会: when each township's and county's report of the past week runs; cron in Beijing time (Asia/Shanghai), applied at the next start or `onedoor setup`")
    cjk_font: Path | None = Field(
        None, description="font file the weekly report's charts write Chinese in (a .ttc/.otf/.ttf); unset: Debian's fonts-noto-cjk where installed, else the charts are in English",
    )
    log_level: str = "INFO"
    workflow_sandbox: bool = Field(
        False,
        description="run workflow code in Temporal's sandbox. The test suite always does (a non-deterministic call fails CI); in production it "
        "would only stall the case, at about a third of the worker's CPU and of its memory (bench/README.md)",
    )
    worker_cached_cases: int = Field(
        1000, ge=1, description="open cases a worker keeps in memory (Temporal's workflow cache, about 0.2–0.4 MB each, most of it in the SDK's core); a case beyond it is "
        "replayed from its history at its next step, which slows a deadline storm larger than this (bench/README.md)",
    )
    metrics_host: IPvAnyAddress = Field(
        "127.0.0.1", description="the IP address the worker's and the API's metrics ports listen on: 0.0.0.0 in a container, where only the monitoring "
        "network reaches them (never publish them: README, Operations)",
    )
    worker_metrics_port: int | None = Field(
        9464, ge=0, le=65535, description="the worker's Temporal SDK metrics for Prometheus (schedule-to-start latency, cache, slots) at "
        "http://metrics_host:port/metrics; 0 turns them off",
    )
    api_metrics_port: int | None = Field(
        9465, ge=0, le=65535, description="the API's own metrics for Prometheus (HTTP requests, the register's open, overdue and breached cases) at "
        "http://metrics_host:port/metrics, apart from the API's public port; 0 turns them off",
    )
    codec_keys: dict[str, SecretStr] = Field(
        {}, description='payload encryption keys by id, base64 of 32 bytes (AES-256-GCM), e.g. {"2026-11": "…"}; unset: the embedded stack\'s key file'
    )
    codec_key_id: str | None = Field(None, description="the key that seals new payloads; the last of codec_keys when unset")
    codec_accept_unsealed: bool = Field(
        False, description="the worker applies unsealed signals and updates: only while cases started before payloads were sealed are still open (their "
        "histories hold plain payloads); otherwise an update sent straight to Temporal's frontend, around the API, would be applied",
    )
    temporal_ui_url: str | None = Field(
        None, description="where the API reaches the Temporal UI server it serves to signed-in supervisors on its own origin (api/ui.py); http://127.0.0.1:temporal_ui_port when unset",
    )
    notify_channels: Annotated[list[Literal["log", "webhook", "sms"]], NoDecode] = Field(
        ["log"], description="通知渠道 where notices go: log, webhook, sms; comma-separated, e.g. ONEDOOR_NOTIFY_CHANNELS=log,sms"
    )
    notification_webhook_url: str | None = Field(None, description="webhook channel: where each notice is POSTed (onedoor.notification/v1, signed)")
    notification_webhook_secret: SecretStr | None = Field(None, description="webhook channel: the HMAC-SHA256 signing secret shared with the receiver")
    sms_url: str | None = Field(None, description="sms channel: the built-in HTTP SMS gateway's URL (POST {phone, text, key})")
    public_url: str | None = Field(
        None, pattern=r"^https?://[^\s/]+(/[^\s]*)?$", description="the address citizens reach the API's public pages at, e.g. https://tiaojie.example.gov.cn: "
        "the party's registration SMS then names the progress lookup (便民服务) page, public_url/lookup",
    )
    lookup_limit_per_client: str = Field("10/minute", description="便民服务: progress lookups one client address may make (limits' notation, e.g. 10/minute)")
    lookup_limit_per_case: str = Field("5 per 10 minutes", description="便民服务: lookups of one case number from anywhere, right or wrong (limits' notation)")
    lookup_limit_storage: str = Field("memory://", description="where the lookup limits count: memory:// for one API process, e.g. redis://host:6379 shared by several")
    sms_provider: str | None = Field(
        None, pattern=r"^[\w.]+:\w+$", description='sms channel: a real provider as "module:factory", factory(settings, http) -> SmsProvider; used instead of sms_url'
    )

    @model_validator(mode="before")
    @classmethod
    def over_defaults(cls, values):
        """A nested variable (ONEDOOR_CLOCKS__RED__RESPONSE__BASIS=working) changes that one value.

        The environment gives only the keys it names ({"red": {"response": {"basis": …}}}); validated
        alone, that would rebuild the grade from the generic ClockSet (red's 1 h response lost) or miss
        a required length. Each policy's own default is the base the given keys are laid over."""
        if not isinstance(values, dict):
            return values
        out = dict(values)
        for name, field in cls.model_fields.items():
            given = values.get(name)
            if isinstance(given, dict) and field.default_factory is not None:
                default = field.get_default(call_default_factory=True)
                if isinstance(default, BaseModel):
                    out[name] = merged(default.model_dump(), given)
        return out

    @field_validator("lookup_limit_per_client", "lookup_limit_per_case")
    @classmethod
    def rate_limit(cls, value: str) -> str:
        limits.parse(value)  # refused at startup, naming the setting, rather than at the first lookup
        return value

    @field_validator("notify_channels", mode="before")
    @classmethod
    def comma_separated(cls, value):
        if isinstance(value, str):
            return json.loads(value) if value.lstrip().startswith("[") else [part.strip() for part in value.split(",") if part.strip()]
        return value

    @property
    def lookup_url(self) -> str | None:
        """The progress lookup page (便民服务) as citizens reach it, when the public address is known."""
        return self.public_url and self.public_url.rstrip("/") + "/lookup"

    @property
    def codec_key_file(self) -> Path:
        return self.data_dir / "codec-keys.json"

    @property
    def admin_key_file(self) -> Path:
        """The embedded stack's admin key, new at every `onedoor up`."""
        return self.data_dir / "admin-key"

    @property
    def simulator_key_file(self) -> Path:
        """The simulated units' API keys, written by `onedoor up` for the simulator."""
        return self.data_dir / "simulator-keys.json"

    @cached_property
    def register_url(self) -> str:
        url = self.database_url or f"sqlite:///{self.data_dir / 'register.db'}"
        # psycopg 3 is the driver; a plain postgresql:// URL would ask SQLAlchemy for psycopg2.
        for plain in ("postgresql://", "postgres://"):
            if url.startswith(plain):
                return "postgresql+psycopg://" + url[len(plain):]
        return url

    @property
    def ui_upstream(self) -> str:
        return (self.temporal_ui_url or f"http://127.0.0.1:{self.temporal_ui_port}").rstrip("/")

    @property
    def public_api_url(self) -> str:
        return self.api_url or f"http://{self.api_host}:{self.api_port}"

    def policy(self) -> Policy:
        return Policy(grading=self.grading, ladder=self.ladder, clocks=self.clocks, household=self.household, delivery=self.delivery, notices=self.notices)
