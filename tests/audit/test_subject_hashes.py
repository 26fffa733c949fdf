"""Subjects are hashed with HMAC-SM3 under the audit key, each distinct one once per
request whatever resources it was read in."""

from __future__ import annotations

import hmac
from collections import Counter
from collections.abc import Hashable

from audit import SubjectHasher
from resolvers import RecordsServed
from web.exchange import _record_hashes

KEY = bytes(range(32))


class _Counting(SubjectHasher):
    def __init__(self) -> None:
        super().__init__("k1", KEY)
        self.hashed: Counter[str] = Counter()

    def hash(self, value: Hashable) -> str:
        self.hashed[str(value)] += 1
        return super().hash(value)


def test_a_hash_is_the_hmac_sm3_of_the_bare_value() -> None:
    hasher = SubjectHasher("k1", KEY)
    for value in ("410581199001010011", 42, "林州"):
        expected = hmac.new(KEY, str(value).encode(), "sm3").hexdigest()
        assert hasher.hash(value) == expected
    assert hasher.hash_all(["b", None, "a", "b"]) == sorted({hasher.hash("a"), hasher.hash("b")})


def test_each_distinct_subject_is_hashed_once_per_request() -> None:
    person = "410581199001010011"
    served = {
        "person": RecordsServed(keys={person, "410581199001010022"}, subjects={person}),
        "licence": RecordsServed(keys={"L-1", "L-2"}, subjects={person}),
        "marriage": RecordsServed(keys={7}, subjects={person, "410581199001010022"}),
    }
    hasher = _Counting()
    hashes = _record_hashes(hasher, served)
    assert set(hasher.hashed.values()) == {1}
    assert set(hasher.hashed) == {person, "410581199001010022", "L-1", "L-2", "7"}
    plain = SubjectHasher("k1", KEY)
    assert hashes["licence"]["subjects"] == [plain.hash(person)]
    assert hashes["marriage"]["keys"] == [plain.hash(7)]
    assert _record_hashes(hasher, served) == hashes  # the next request hashes anew
    assert set(hasher.hashed.values()) == {2}
