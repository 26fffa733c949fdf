"""The accountability log of Art. 11: one durable record per request, written before
any data leaves. Record keys and data subjects are stored as keyed hashes only."""

from audit.log import AuditLog
from audit.record import AuditRecord, FieldAccount, SubjectHasher

__all__ = ["AuditLog", "AuditRecord", "FieldAccount", "SubjectHasher"]
