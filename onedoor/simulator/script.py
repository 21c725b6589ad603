"""How a simulated unit's system behaves: its script, set by a test or a benchmark."""

import random
import time
from typing import Literal

from pydantic import BaseModel, Field, field_validator


class Script(BaseModel):
    latency: float = Field(0.0, ge=0, description="seconds the system takes to answer a delivery (a slow system)")
    error_rate: float = Field(0.0, ge=0, le=1, description="probability that an attempt is answered 503")
    seed: int = Field(0, description="seeds error_rate's random numbers: the same script fails the same attempts")
    fail_first: int = Field(0, ge=0, description="answer 503 to this many attempts of each delivery first")
    fail_always: bool = Field(False, description="the system is down")
    outage_for: float | None = Field(None, ge=0, description="the system is down (503) for this many seconds from when the script is set")
    reject: int | None = Field(None, ge=400, le=499, description="refuse every document with this status (e.g. 422)")
    answer: Literal["never", "api", "callback"] = Field(
        "never",
        description="never: staff answer through onedoor's API themselves; api: the system answers through the API with "
        "the unit's key; callback: it calls onedoor's signed callback",
    )
    respond_after: float = Field(1.0, ge=0, description="seconds after delivery the unit responds (or accepts a referral, or the partner replies)")
    feedback_after: float = Field(2.0, ge=0, description="seconds after delivery the unit gives feedback")

    @field_validator("answer", mode="before")
    @classmethod
    def auto_is_api(cls, value):
        return "api" if value == "auto" else value  # "auto": the name scripts used before callbacks existed


class Behaviour:
    """A script in play: when its outage ends, and its own random numbers."""

    def __init__(self, script: Script):
        self.script = script
        self.down_until = time.time() + script.outage_for if script.outage_for is not None else None
        self.random = random.Random(script.seed)

    def failure(self, attempt: int) -> tuple[int, str] | None:
        """The status and text this attempt (1, 2, … of one delivery) is answered with, or None to accept it."""
        script = self.script
        if script.fail_always or (self.down_until is not None and time.time() < self.down_until):
            return 503, "单位系统维护中 (unit system down, simulated)"
        if attempt <= script.fail_first or (script.error_rate and self.random.random() < script.error_rate):
            return 503, "单位系统繁忙 (unit system unavailable, simulated)"
        if script.reject is not None:
            return script.reject, "单位系统拒收：文书不符合本单位接收要求 (document refused, simulated)"
        return None
