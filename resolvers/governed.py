"""What was planned and decided for a document, remembered: department systems send the
same operations again and again (persisted queries), and deciding one again would
give the same answer until the value in force is replaced or a rule or grant starts
or ends.

An entry is keyed by everything the plan and its decisions rest on — the document and
operation, the variables, the caller's department, system and key attributes, the
purpose — and kept within one value in force: a reload (rule files, catalog, grants)
starts afresh. It is given up at the next start or end of any rule or grant, so a
grant still starts and stops at its exact time. The plan and governance are never
changed once made, so requests running at once can share them.
"""

from __future__ import annotations

import json
from collections import OrderedDict
from collections.abc import Hashable, Mapping
from typing import Any

from policies import Caller, Purpose
from resolvers.governance import Governance
from resolvers.plan import Plan

ENTRIES = 1024
"""Documents × callers remembered per value in force; the least recently used go first."""

Key = tuple[Hashable, ...]


def key_of(
    document_id: str,
    operation_name: str | None,
    variables: Mapping[str, Any],
    caller: Caller,
    purpose: Purpose | None,
) -> Key | None:
    """None when the variables cannot be told apart by value (nothing is remembered)."""
    try:
        values = json.dumps(variables, sort_keys=True, separators=(",", ":"))
    except (TypeError, ValueError):
        return None
    return (
        document_id,
        operation_name,
        values,
        caller.department,
        caller.system,
        caller.attributes,
        purpose,
    )


class Governed:
    def __init__(self, entries: int = ENTRIES) -> None:
        self._entries = entries
        self._for: object = None
        self._known: OrderedDict[Key, tuple[Plan, Governance, str | None]] = OrderedDict()

    def get(self, in_force: object, key: Key, now: str) -> tuple[Plan, Governance] | None:
        """What was decided for `key` under `in_force`, if it still holds at `now` (the
        model's time format)."""
        if in_force is not self._for:
            return None
        known = self._known.get(key)
        if known is None:
            return None
        plan, governance, until = known
        if until is not None and now >= until:
            del self._known[key]
            return None
        self._known.move_to_end(key)
        return plan, governance

    def put(
        self, in_force: object, key: Key, plan: Plan, governance: Governance, until: str | None
    ) -> None:
        """Remember until `until` (None: until `in_force` is replaced)."""
        if in_force is not self._for:
            self._for, self._known = in_force, OrderedDict()
        self._known[key] = (plan, governance, until)
        if len(self._known) > self._entries:
            self._known.popitem(last=False)
