"""The audit log: who looked at or changed what, and why (personal data never in it)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime


@dataclass(frozen=True)
class AuditEntry:
    """One audited action, e.g. revealing an applicant's full ID number."""

    id: str
    hall: str
    at: datetime
    actor: str
    action: str
    subject: str
    detail: str


@dataclass(frozen=True)
class StoredApplicant:
    """A person as stored: keyed hash, the number sealed in the vault, the masked form."""

    key: str
    id_type: str
    sealed: str
    masked: str
    name_sealed: str | None = None
    name_masked: str | None = None
