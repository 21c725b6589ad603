"""All configuration in one typed object, read from ONEDOOR_* environment variables (and .env)."""

import inspect
import json
from datetime import time, timedelta
from decimal import Decimal
from enum import Enum
from functools import cached_property
from pathlib import Path
from types import UnionType
from typing import Annotated, Literal, Union, get_args, get_origin

import limits
from pydantic import AliasChoices, BaseModel, Field, IPvAnyAddress, SecretStr, field_validator, model_validator
from pydantic.fields import FieldInfo
from pydantic_core import to_jsonable_python
from pydantic_settings import BaseSettings, NoDecode, SettingsConfigDict

from onedoor.domain.contracts import cell
from onedoor.domain.policy import ClockPolicy, ClockRule, ClockSet, DeliveryPolicy, GradingPolicy, HouseholdPolicy, LadderPolicy, NoticePolicy, Policy


def merged(default: dict, given: dict) -> dict:
    """`given` laid over `default`, nested dicts key by key: what the environment names wins, the rest stays."""
    out = dict(default)
    for key, value in given.items():
        out[key] = merged(out[key], value) if isinstance(value, dict) and isinstance(out.get(key), dict) else value
    return out


class Settings(BaseSettings):
    # extra="ignore": the one .env of a checkout also holds docker compose's variables (POSTGRES_PASSWORD, .env.example).
    model_config = SettingsConfigDict(env_prefix="ONEDOOR_", env_file=".env", env_nested_delimiter="__", extra="ignore")

    data_dir: Path = Field(Path("var"), description="数据目录：the embedded stack's files (Temporal's SQLite, the register, the keys)")
    database_url: str | None = Field(
        None,
        validation_alias=AliasChoices("DATABASE_URL", "ONEDOOR_DATABASE_URL"),
        description="登记库：register database; `postgresql://…` uses psycopg 3; unset: SQLite `var/register.db` (under data_dir)",
    )
    temporal_address: str = Field("127.0.0.1:7233", description="Temporal 前端地址：Temporal frontend")
    temporal_namespace: str = Field("default", description="Temporal 命名空间：the namespace the cases run in")
    temporal_ui_port: int = Field(8233, description="Temporal 界面端口：dev server's Web UI (on 127.0.0.1; people reach it through the API)")
    history_retention: timedelta = Field(
        timedelta(days=90), description="历史保留期：Temporal's retention of closed histories (`onedoor setup` on a new namespace); the register keeps a case for years"
    )
    task_queue: str = Field("onedoor-cases", description="任务队列：the task queue every worker polls")
    api_host: str = Field("127.0.0.1", description="接口监听地址：the address the API listens on")
    api_port: int = Field(8000, description="接口端口：the API's port")
    api_url: str | None = Field(None, description="接口对外地址：where units and the simulator reach the API; http://api_host:api_port when unset")
    http_keep_alive: int = Field(
        75, ge=1, description="空闲连接保持秒数：seconds the API and the simulator keep an idle connection open: longer than any client's pool (httpx 5 s) or proxy in "
        "front (nginx 60 s) keeps it, so a request is never sent on a connection the server is closing (the client would see a reset)",
    )
    decision_wait: timedelta = Field(
        timedelta(seconds=10), description="决定等待时间：how long a decision's answer waits for the case to act on it (a refusal moves it to referral, a visit settles "
        "it); longer, the answer is 202 with where to read the case, and the decision stands",
    )
    simulator_host: str = Field("127.0.0.1", description="模拟器监听地址：the address the department simulator listens on")
    simulator_port: int = Field(8100, description="模拟器端口：the department simulator's port")
    simulator_url: str = Field("http://127.0.0.1:8100", description="模拟器地址：where the seeded units' endpoints reach the simulator")
    county_code: str = Field("139001", pattern=r"^\d{6}$", description="县级行政区划代码：the county's code, prefixes case numbers")
    clocks: ClockPolicy = Field(default_factory=ClockPolicy, title="时限 Clocks", description="per grade and step; e.g. ONEDOOR_CLOCKS__YELLOW__RESPONSE__LENGTH=30")
    grading: GradingPolicy = Field(default_factory=GradingPolicy, title="红黄蓝分级 Grading", description="the thresholds that make a case red or yellow; e.g. ONEDOOR_GRADING__RED_PEOPLE=50")
    ladder: LadderPolicy = Field(default_factory=LadderPolicy, title="分层递进 Ladder", description="whether a breach lifts the case a level; e.g. ONEDOOR_LADDER__BREACH_ESCALATES=false")
    household: HouseholdPolicy = Field(
        default_factory=HouseholdPolicy, title="家庭和谐服务档案 Household files", description="visits by risk, calm period, repeat rule, history limit; e.g. ONEDOOR_HOUSEHOLD__CALM_PERIOD=P60D"
    )
    delivery: DeliveryPolicy = Field(
        default_factory=DeliveryPolicy, title="投递 Delivery", description="units' systems: retries and the outage window before the inbox fallback; e.g. ONEDOOR_DELIVERY__OUTAGE_WINDOW=PT1H"
    )
    notices: NoticePolicy = Field(
        default_factory=NoticePolicy, title="免打扰 Quiet hours", description="quiet hours for notices to parties and leaders (not on red cases); e.g. ONEDOOR_NOTICES__QUIET_UNTIL=07:30"
    )
    incident_link_window: timedelta = Field(
        timedelta(days=30), description="警情并案时间窗：a further police incident about the parties of an open case received this recently joins it (`POST /incidents`); "
        "e.g. ONEDOOR_INCIDENT_LINK_WINDOW=P30D"
    )
    party_mark_key: SecretStr | None = Field(
        None, description="当事人标记密钥：keys the party marks (HMAC-SHA256 of ID number, of name and phone) the register keeps instead of identities to find the open "
        "cases about the same parties (for the police feed and for operators' registrations); derived from the payload key when unset; set it to keep marks "
        "matching across a payload key rotation"
    )
    weekly_report_cron: str = Field(
        "0 9 * * 1", description="研判会周报时间：when each township's and county's report of the past week runs; cron in Beijing time (Asia/Shanghai), applied at "
        "the next start or `onedoor setup`"
    )
    cjk_font: Path | None = Field(
        None, description="图表中文字体：font file (`.ttc`, `.otf`, `.ttf`) the weekly report's charts write Chinese in; of a collection, the simplified-Chinese (SC) "
        "face. Unset: `fonts-noto-cjk`'s `NotoSansCJK-Regular.ttc` where installed. None found: English charts and a warning in the worker's log",
    )
    log_level: str = Field("INFO", description="日志级别：DEBUG, INFO, WARNING or ERROR")
    workflow_sandbox: bool = Field(
        False,
        description="工作流沙箱：run workflow code in Temporal's sandbox, as the test suite always does (a non-deterministic call there fails CI); in production it "
        "would only stall the case's workflow task, at about a third of the worker's CPU and of its memory (bench/NOTES.md)",
    )
    worker_cached_cases: int = Field(
        1000, ge=1, description="缓存案件数：open cases a worker keeps in memory (Temporal's workflow cache, about 0.2–0.4 MB each, most of it in the SDK's core); a case "
        "beyond it is replayed from its history at its next step. Raise it where more deadlines than this can fall due together (a storm of 2,000: "
        "bench/README.md), at that memory cost",
    )
    metrics_host: IPvAnyAddress = Field(
        "127.0.0.1", description="监控指标监听地址：the IP address the worker's and the API's metrics ports listen on: 0.0.0.0 in a container, where only the monitoring "
        "network (Prometheus) reaches them (never publish them: docs/operations.md)",
    )
    worker_metrics_port: int | None = Field(
        9464, ge=0, le=65535, description="工作进程指标端口：a worker's Temporal SDK metrics for Prometheus (schedule-to-start latency, cache, slots) at "
        "http://metrics_host:port/metrics; 0 turns them off. Taken by another process, the worker runs on without them (a warning)",
    )
    api_metrics_port: int | None = Field(
        9465, ge=0, le=65535, description="接口指标端口：the API's own metrics for Prometheus (HTTP requests, the register's open, overdue and breached cases) at "
        "http://metrics_host:port/metrics, apart from the API's public port; 0 turns them off. Taken, the API runs on without them (a warning)",
    )
    codec_keys: dict[str, SecretStr] = Field(
        {}, description='载荷加密密钥：payload encryption keys by id, base64 of 32 bytes (AES-256-GCM), e.g. {"2026-11": "…"}; required on a server (docs/security.md); '
        "unset: the embedded stack's key file, `var/codec-keys.json`"
    )
    codec_key_id: str | None = Field(None, description="当前加密密钥：the key that seals new payloads; the last of codec_keys when unset")
    codec_accept_unsealed: bool = Field(
        False, description="接受未加密载荷：the worker applies unsealed signals and updates: only while cases started before payloads were sealed are still open (their "
        "histories hold plain payloads); otherwise an update sent straight to Temporal's frontend, around the API, would be applied",
    )
    temporal_ui_url: str | None = Field(
        None, description="Temporal 界面服务地址：the Temporal UI server the API serves to signed-in supervisors on its own origin (api/ui.py; compose: "
        "`http://temporal-ui:8080`); http://127.0.0.1:temporal_ui_port when unset",
    )
    notify_channels: Annotated[list[Literal["log", "webhook", "sms"]], NoDecode] = Field(
        ["log"], description="通知渠道：where notices go, comma-separated, e.g. ONEDOOR_NOTIFY_CHANNELS=log,sms: `log` (a JSON log line `notice`: the name masked, "
        "never the phone nor the words), `webhook`, `sms`"
    )
    notification_webhook_url: str | None = Field(
        None, description="通知回调地址：`webhook`: each notice POSTed as `onedoor.notification/v1`, signed like every outside document (`X-Onedoor-Timestamp`, "
        "`X-Onedoor-Signature`, `Idempotency-Key`); no phone in it"
    )
    notification_webhook_secret: SecretStr | None = Field(None, description="通知回调签名密钥：`webhook`: the HMAC-SHA256 signing secret shared with the receiver")
    sms_url: str | None = Field(
        None, description='短信网关地址：`sms` with the built-in HTTP gateway: `POST {"phone", "text", "key"}` with `Idempotency-Key`, answered `{"message_id": …}`'
    )
    public_url: str | None = Field(
        None, pattern=r"^https?://[^\s/]+(/[^\s]*)?$", description="对外网址：the address citizens reach the API's public pages at, e.g. https://tiaojie.example.gov.cn: "
        "the party's registration SMS then names the progress lookup (便民服务) page, public_url/lookup",
    )
    lookup_limit_per_client: str = Field(
        "10/minute", description="便民查询限频（每个地址）：progress lookups one client address may make, against guessing (`limits`' notation, e.g. 10/minute)"
    )
    lookup_limit_per_case: str = Field("5 per 10 minutes", description="便民查询限频（每个案件）：lookups of one case number from anywhere, right or wrong (`limits`' notation)")
    lookup_limit_storage: str = Field(
        "memory://", description="限频计数存放处：where the lookup limits count: memory:// for one API process's memory, or a store several share, e.g. redis://host:6379"
    )
    sms_provider: str | None = Field(
        None, pattern=r"^[\w.]+:\w+$", description="短信服务商：`sms` through a real provider: `module:factory`, where `factory(settings, http)` returns an object with "
        "`async send_sms(phone, text, key) -> message_id` (`onedoor.notifications.sms.SmsProvider`); it may read its own account from `settings`; used instead of sms_url"
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


# The configuration page, docs/configuration.md, is rendered from the fields above (their types, defaults and
# descriptions): `onedoor docs configuration` prints it, and tests/test_docs.py fails when the committed page differs.

PAGE_INTRO = """<!-- Generated from onedoor/settings.py: edit the settings' descriptions, then run
`onedoor docs configuration > docs/configuration.md` (tests/test_docs.py fails while this page is stale). -->

# Configuration 配置

Environment variables (or a `.env` file in the working folder; names it does not know are ignored, as
the same file holds docker compose's variables, see `.env.example`), read by `onedoor.settings.Settings`.
Durations are seconds or ISO 8601 (`PT30M`, `P60D`); a default of — means unset.

## Settings 设置"""

POLICY_INTRO = """## Policy 政策

The policy in force at intake (clocks, grading thresholds) is stored in the case's workflow
input: changing it affects new cases only. A nested variable changes that one value: the rest of
the grade's clocks (red's shorter 1 h / 12 h included), the office hours and the other thresholds
keep their defaults."""

CLOCKS_INTRO = """Each clock is stated in the unit its rule uses (`ONEDOOR_CLOCKS__<GRADE>__<STEP>__TERM=3个工作日`, or
`__LENGTH` and `__BASIS`: `natural`, `working`, `working_days`, `months`); the rules, their sources and
how each unit of time counts: [Rules](concepts.md#rules-规则). The defaults, grade by grade:"""

# The validator of a clock rule also takes the rule as written (ClockRule.written): a variable with no field of its own.
TERM_ROW = ("`ONEDOOR_CLOCKS__<GRADE>__<STEP>__TERM`", "text", "the table above",
            "时限原文：the rule as written: `2小时`, `30日`, `一个月`, `24工作小时`, `3个工作日` (replaces `LENGTH` and `BASIS`)")

NOTIFICATION_FIELDS = ("notify_channels", "notification_webhook_url", "notification_webhook_secret", "sms_url", "sms_provider", "public_url")

NOTIFICATIONS_INTRO = """## Notifications 通知

Parties are told their case number and progress (in Chinese); units, leaders and operators get
reminders (催办), breaches, supervision orders (督办) and fallbacks; a township's operators, its
grid workers among them, household visit reminders ([Household files](supervision.md#household-files-家庭和谐服务档案)). Each notice goes through every
configured channel once per idempotency key: the `notices` table records it, and a retried or
repeated `notify` (a local activity of the case: no round trip through Temporal's server) finds it
there and sends nothing. `GET /notices` lists them (filters
`case_no`, `recipient`, `audience`, `kind`, `since`; a unit sees what was sent to it, operators and
supervisors what concerns their jurisdiction's cases and centers)."""

NOTIFICATIONS_OUTRO = """SMS goes only to notices with a phone (parties). On every HTTP channel a 5xx, 408, 429 or a timeout
is retried by Temporal; any other 4xx is final. A channel named without its URL (or secret, or
provider) stops the worker at startup with the variable it needs."""

TYPE_NAMES = {
    str: "text", int: "integer", float: "number", Decimal: "number", bool: "`true` or `false`", Path: "file path",
    timedelta: "duration", time: "time (HH:MM)", SecretStr: "secret text", IPvAnyAddress: "IP address",
}


def type_name(annotation) -> str:
    """A field's type as a person setting the variable reads it."""
    origin, args = get_origin(annotation), get_args(annotation)
    if origin is Annotated:
        return type_name(args[0])
    if origin in (Union, UnionType):
        return " or ".join(type_name(arg) for arg in args if arg is not type(None))
    if origin is Literal:
        return "one of " + ", ".join(f"`{value}`" for value in args)
    if origin is list:
        return "list of " + type_name(args[0]).removeprefix("one of ")
    if origin is dict:
        return f"JSON object, {type_name(args[0])} → {type_name(args[1])}"
    if isinstance(annotation, type) and issubclass(annotation, Enum):
        return "one of " + ", ".join(f"`{member.value}`" for member in annotation)
    return TYPE_NAMES[annotation]


def default_text(value) -> str:
    if value is None or value == {}:
        return "—"
    if isinstance(value, time):
        return f"`{value:%H:%M}`"
    shown = to_jsonable_python(value)  # a duration as ISO 8601, an enum as its code
    return f"`{json.dumps(shown, ensure_ascii=False) if isinstance(shown, (list, bool)) else shown}`"


def table(rows: list[tuple[str, str, str, str]]) -> str:
    lines = ["| variable | type | default | meaning |", "|---|---|---|---|"]
    return "\n".join(lines + [f"| {' | '.join(cell(part) for part in row)} |" for row in rows])


def row(variable: str, field: FieldInfo) -> tuple[str, str, str, str]:
    return f"`{variable}`", type_name(field.annotation), default_text(field.default), field.description or ""


def top_variable(name: str, field: FieldInfo) -> str:
    if isinstance(field.validation_alias, AliasChoices):
        return "`, `".join(field.validation_alias.choices)
    return f"{Settings.model_config['env_prefix']}{name.upper()}"


def is_model(annotation) -> bool:
    return isinstance(annotation, type) and issubclass(annotation, BaseModel)


def policy_rows(model: type[BaseModel], path: list[str]) -> list[tuple[str, str, str, str]]:
    """Each variable of a policy, nested models walked; a grade's clocks are the matrix's (clock_matrix)."""
    rows = []
    for name, field in model.model_fields.items():
        if field.annotation is ClockSet:
            continue
        if is_model(field.annotation):
            rows += policy_rows(field.annotation, [*path, name])
        else:
            rows.append(row(Settings.model_config["env_prefix"] + "__".join([*path, name]).upper(), field))
    return rows


def clock_matrix() -> str:
    """The default clocks, a step a row and a grade a column, then the variables of one clock."""
    grades = [name for name, field in ClockPolicy.model_fields.items() if field.annotation is ClockSet]
    defaults = ClockPolicy()
    lines = ["| clock | " + " | ".join(f"`{grade}` {ClockPolicy.model_fields[grade].description}" for grade in grades) + " |", "|---" * (len(grades) + 1) + "|"]
    for step, field in ClockSet.model_fields.items():
        cells = []
        for grade in grades:
            rule: ClockRule = getattr(getattr(defaults, grade), step)
            reminders = ", ".join(f"{share:.0%}" for share in rule.remind_at or [])
            cells.append(f"`{rule.term}`" + (f", 催办 at {reminders}" if reminders else ""))
        lines.append(f"| `{step}` {cell(field.description or '')} | " + " | ".join(cells) + " |")
    one_clock = [TERM_ROW] + [
        (f"`ONEDOOR_CLOCKS__<GRADE>__<STEP>__{name.upper()}`", type_name(field.annotation), "the table above", field.description or "")
        for name, field in ClockRule.model_fields.items()
    ]
    return "\n".join(lines) + "\n\n" + table(one_clock)


def configuration_page() -> str:
    fields = Settings.model_fields
    settings_rows = [row(top_variable(name, field), field) for name, field in fields.items() if not is_model(field.annotation) and name not in NOTIFICATION_FIELDS]
    parts = [PAGE_INTRO, table(settings_rows), POLICY_INTRO]
    for name, field in fields.items():
        if not is_model(field.annotation):
            continue
        model = field.annotation
        parts.append(f"### {field.title} (`{Settings.model_config['env_prefix']}{name.upper()}__…`)")
        parts.append(field.description[0].upper() + field.description[1:] + ".")
        if model.__dict__.get("__doc__"):
            parts.append(inspect.cleandoc(model.__doc__))
        if model is ClockPolicy:
            parts += [CLOCKS_INTRO, clock_matrix(), "The other variables of the clocks:"]
        parts.append(table(policy_rows(model, [name])))
    notification_rows = [row(top_variable(name, fields[name]), fields[name]) for name in NOTIFICATION_FIELDS]
    parts += [NOTIFICATIONS_INTRO, table(notification_rows), NOTIFICATIONS_OUTRO]
    return "\n\n".join(parts) + "\n"
