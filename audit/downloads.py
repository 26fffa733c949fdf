"""A batch download on record: one audit record per page, each carrying where the whole
download stands after it — its first page's request id, the records served so far and
a digest of every key served so far.

    digest(0) = 64 zeros
    digest(n) = SM3(digest(n-1) as 64 ASCII hex digits || the page's key hashes, joined)

The page's key hashes are the ones its record keeps (`records[<resource>]["keys"]`:
HMAC-SM3 of each key, sorted), so an auditor recomputes the digest from the records
alone, without the hashing key, and a page left out, added or altered changes every
digest after it. The last record of a download states the whole download.
"""

from __future__ import annotations

import hashlib
from collections.abc import Sequence
from dataclasses import dataclass

START = "0" * 64


@dataclass(frozen=True)
class DownloadAccount:
    """Where a download stands after a page: what its record holds."""

    download_id: str
    records: int = 0
    digest: str = START

    def after(self, key_hashes: Sequence[str]) -> DownloadAccount:
        """The account after one more page served these keys (their sorted hashes)."""
        digest = hashlib.new("sm3", (self.digest + "".join(key_hashes)).encode("ascii"))
        return DownloadAccount(self.download_id, self.records + len(key_hashes), digest.hexdigest())
