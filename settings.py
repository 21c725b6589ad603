"""All configuration in one typed object, read from ONEDOOR_* environment variables (and .env)."""

from datetime import timedelta
from functools import cached_property
from pathlib import Path

from pydantic import AliasChoices, Field
from pydantic_settings import BaseSettings, SettingsConfigDict

from domain.policy import ClockPolicy, GradingPolicy, Policy


class Settings(BaseSettings):
    model_config = SettingsConfigDict(env_prefix="ONEDOOR_", env_file=".env", env_nested_delimiter="__")

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
    simulator_host: str = "127.0.0.1"
    simulator_port: int = 8100
    simulator_url: str = "http://127.0.0.1:8100"
    county_code: str = Field("139001", pattern=r"^\d{6}$", description="行政区划代码 of the county, prefixes case numbers")
    clocks: ClockPolicy = Field(default_factory=ClockPolicy, description="per grade and step; e.g. ONEDOOR_CLOCKS__YELLOW__RESPONSE__LENGTH=30")
    grading: GradingPolicy = Field(default_factory=GradingPolicy)
    log_level: str = "INFO"
    workflow_sandbox: bool = Field(True, description="run workflow code in Temporal's sandbox; off trades that safety net for about a third more worker throughput (bench/README.md)")

    @cached_property
    def register_url(self) -> str:
        url = self.database_url or f"sqlite:///{self.data_dir / 'register.db'}"
        # psycopg 3 is the driver; a plain postgresql:// URL would ask SQLAlchemy for psycopg2.
        for plain in ("postgresql://", "postgres://"):
            if url.startswith(plain):
                return "postgresql+psycopg://" + url[len(plain):]
        return url

    @property
    def public_api_url(self) -> str:
        return self.api_url or f"http://{self.api_host}:{self.api_port}"

    def policy(self) -> Policy:
        return Policy(grading=self.grading, clocks=self.clocks)
