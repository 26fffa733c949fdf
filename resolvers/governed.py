"""What was planned and decided for a document, remembered: department systems send the
same operations again and again (persisted queries), from many consumers.

Two things are kept, each within one value in force (a reload of rule files, catalog
or grants starts afresh), the least recently used going first:

- per document — its operation, variables and schema (the public's or departments') —
  its template (`template.py`): the plan and all that governing it takes that no
  caller changes. It holds no decision, so it lasts as long as the value in force.
- per document, caller (department, system, key attributes) and purpose: what was
  decided. Deciding again would give the same answer until the value in force is
  replaced or a rule or grant starts or ends, so it is given up at the next start or
  end of any rule or grant: a grant still starts and stops at its exact time.

Neither is changed once made, so requests running at once share them.
"""

from __future__ import annotations

import datetime
import json
import time
from collections import OrderedDict
from collections.abc import Callable, Hashable, Mapping
from typing import Any, TypeVar

from policies import Caller, Purpose
from policies.rule import instant
from resolvers.governance import Governance, govern
from resolvers.plan import Plan
from resolvers.served import InForce
from resolvers.template import Template, template_of

ENTRIES = 1024
"""Documents × callers remembered per value in force."""
DOCUMENTS = 256
"""Templates remembered per value in force."""

Key = tuple[Hashable, ...]
V = TypeVar("V")


def keys_of(
    document_id: str,
    operation_name: str | None,
    variables: Mapping[str, Any],
    caller: Caller,
    purpose: Purpose | None,
) -> tuple[Key, Key] | None:
    """What a template rests on, and what a caller's decisions on it rest on besides;
    None when the variables cannot be told apart by value (nothing is remembered)."""
    try:
        values = json.dumps(variables, sort_keys=True, separators=(",", ":")) if variables else ""
    except (TypeError, ValueError):
        return None
    document = (document_id, operation_name, values, caller.is_public)
    return document, (*document, caller.department, caller.system, caller.attributes, purpose)


class Governed:
    def __init__(self, entries: int = ENTRIES, documents: int = DOCUMENTS) -> None:
        self._entries = entries
        self._documents = documents
        self._for: object = None
        self._known: OrderedDict[Key, tuple[Template, Governance, str | None]] = OrderedDict()
        self._templates: OrderedDict[Key, Template] = OrderedDict()

    def govern(
        self,
        in_force: InForce,
        document: tuple[str, str | None, Mapping[str, Any]],
        caller: Caller,
        purpose: Purpose | None,
        plan: Callable[[], Plan],
    ) -> tuple[Template, Governance, float]:
        """The template of `document` (its id, operation name and variables) and what is
        decided on it for `caller` and `purpose`, found or made (`plan` plans it); and
        how long deciding took: all of this but planning."""
        started = time.perf_counter()
        now = datetime.datetime.now(datetime.UTC)
        if in_force is not self._for:
            self._for, self._known, self._templates = in_force, OrderedDict(), OrderedDict()
        keys = keys_of(*document, caller, purpose)
        known = None if keys is None else self._decided(keys[1], instant(now))
        if known is not None:
            return *known, time.perf_counter() - started
        template = None if keys is None else _recent(self._templates, keys[0])
        if template is None:
            deciding = time.perf_counter() - started
            planned = plan()
            started = time.perf_counter()
            served = in_force.served
            template = template_of(planned, served.meanings, served.schema_for(caller.is_public))
            if keys is not None:
                _keep(self._templates, keys[0], template, self._documents)
        else:
            deciding = 0.0
        governance = govern(template, in_force.policy, caller, purpose, now)
        if keys is not None:
            until = in_force.policy.stable_until(now)
            _keep(self._known, keys[1], (template, governance, until), self._entries)
        return template, governance, deciding + time.perf_counter() - started

    def _decided(self, key: Key, now: str) -> tuple[Template, Governance] | None:
        """What was decided for `key`, if it still holds at `now` (the model's format)."""
        known = _recent(self._known, key)
        if known is None:
            return None
        template, governance, until = known
        if until is not None and now >= until:
            del self._known[key]
            return None
        return template, governance


def _recent(remembered: OrderedDict[Key, V], key: Key) -> V | None:
    found = remembered.get(key)
    if found is not None:
        remembered.move_to_end(key)
    return found


def _keep(remembered: OrderedDict[Key, V], key: Key, value: V, entries: int) -> None:
    remembered[key] = value
    if len(remembered) > entries:
        remembered.popitem(last=False)
