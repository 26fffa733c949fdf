"""The accountability log of Art. 11: one durable record per request, written before
any data leaves. Record keys and data subjects are stored as keyed hashes only.

The records form one SM3 hash chain (`chain`), appended under one lock (`lock`) in
group commits (`log`) and read back in chain order (`reads`), with signed checkpoints
kept outside the store (`checkpoint`); `verify` names the first record altered, removed
or inserted; `retention` exports and removes records past retention without breaking
verification; a batch download's pages carry its running count and key digest
(`downloads`). `python -m audit --help` for the tools.
"""

from audit.checkpoint import Checkpoint, Checkpointer
from audit.downloads import DownloadAccount
from audit.log import AuditLog
from audit.problems import Problem
from audit.reading import records_between
from audit.record import AuditRecord, FieldAccount, SubjectHasher
from audit.retention import Retained, retain
from audit.verify import Verification, verify

__all__ = [
    "AuditLog",
    "AuditRecord",
    "Checkpoint",
    "Checkpointer",
    "DownloadAccount",
    "FieldAccount",
    "Problem",
    "Retained",
    "SubjectHasher",
    "Verification",
    "records_between",
    "retain",
    "verify",
]
