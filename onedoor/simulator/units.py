"""What each simulated unit's system keeps: its script, the deliveries it got, the police statuses."""

import time
from collections import defaultdict
from dataclasses import dataclass

from pydantic import BaseModel, Field

from onedoor.domain.documents import Document, PoliceStatusDocument
from onedoor.domain.labels import PoliceStatus
from onedoor.simulator.script import Behaviour, Script


@dataclass(frozen=True)
class UnitCredentials:
    """What onedoor gave a unit's system: its API key, and the secret both sides sign with."""

    api_key: str | None
    signing_secret: str | None


class Delivery(BaseModel):
    idempotency_key: str
    attempts: int = 0
    accepted: int = 0
    reference: str | None = Field(None, description="the unit's own file number, given at the first acceptance")
    received_at: float | None = Field(None, description="when it was first accepted (Unix time)")
    document: Document | None = None
    answers: dict[str, int] = Field({}, description="each answer the unit gave (response, feedback …) and onedoor's HTTP status for it")


class PoliceStatusRecord(BaseModel):
    seq: int
    status: PoliceStatus
    case_no: str
    received_at: float


class UnitSystem:
    def __init__(self) -> None:
        self.behaviour = Behaviour(Script())
        self.deliveries: dict[str, Delivery] = {}
        self.incidents: dict[str, list[PoliceStatusRecord]] = defaultdict(list)

    def attempt(self, idempotency_key: str) -> Delivery:
        delivery = self.deliveries.setdefault(idempotency_key, Delivery(idempotency_key=idempotency_key))
        delivery.attempts += 1
        return delivery

    def accept(self, unit: str, delivery: Delivery, document: Document) -> bool:
        """Count the acceptance; True the first time, when the unit opens its own file."""
        delivery.accepted += 1
        if delivery.reference is not None:
            return False  # a retry of what it already has: acknowledged again, kept once
        delivery.reference, delivery.document, delivery.received_at = f"{unit}-{len(self.deliveries):05d}", document, time.time()
        if isinstance(document, PoliceStatusDocument):
            record = PoliceStatusRecord(seq=document.seq, status=document.status, case_no=document.case_no, received_at=delivery.received_at)
            self.incidents[document.incident_id].append(record)
        return True
