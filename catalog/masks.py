"""Masking rules of the catalog: how a field is shared "partly" (Art. 4) as a masked value.

Each rule's `apply` is the reference meaning, in Python. `connectors/masking.py` gives
the same meaning as SQL, so the clear value never leaves the department's database;
tests hold the two to each other.
"""

from __future__ import annotations

from decimal import Decimal
from itertools import pairwise
from typing import Annotated, Literal

from pydantic import BaseModel, ConfigDict, Field, StringConstraints, model_validator

Marker = Annotated[str, StringConstraints(min_length=1)]


class _Rule(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")


class HideMiddle(_Rule):
    """Keep the two ends of a value and hide its middle, as a phone number hides 4 digits."""

    rule: Literal["hide_middle"] = "hide_middle"
    keep_start: int = Field(ge=0)
    keep_end: int = Field(ge=0)
    fill: str = "****"

    def apply(self, value: str | None) -> str | None:
        """A value too short to keep both ends becomes the fill alone: never shown whole."""
        if value is None:
            return None
        if len(value) <= self.keep_start + self.keep_end:
            return self.fill
        return value[: self.keep_start] + self.fill + value[len(value) - self.keep_end :]


class KeepThrough(_Rule):
    """Keep a value up to a marker and hide the rest, as an address keeps its district."""

    rule: Literal["keep_through"] = "keep_through"
    markers: tuple[Marker, ...] = Field(min_length=1)
    fill: str = "***"

    def apply(self, value: str | None) -> str | None:
        """The first marker in the list that occurs decides; the value is cut after its
        first occurrence. Without any marker nothing of the value is kept."""
        if value is None:
            return None
        for marker in self.markers:
            found = value.find(marker)
            if found >= 0:
                return value[: found + len(marker)] + self.fill
        return self.fill


class Band(_Rule):
    """Replace an amount by the band it falls in, as an income becomes "3000-5000"."""

    rule: Literal["band"] = "band"
    bounds: tuple[Decimal, ...] = Field(min_length=1)
    unit: str = ""

    @model_validator(mode="after")
    def _increasing(self) -> Band:
        for lower, upper in pairwise(self.bounds):
            if upper <= lower:
                raise ValueError(
                    f"bounds must be strictly increasing: {_plain(upper)} follows {_plain(lower)}"
                )
        return self

    def labels(self) -> tuple[str, ...]:
        """One label per band, lowest first: below the first bound, between each pair of
        bounds (lower bound included), at or above the last."""
        texts = [_plain(bound) for bound in self.bounds]
        between = [f"{lower}-{upper}" for lower, upper in pairwise(texts)]
        return tuple(label + self.unit for label in [f"<{texts[0]}", *between, f"≥{texts[-1]}"])

    def apply(self, value: Decimal | int | float | None) -> str | None:
        """A float is taken at its shortest decimal text (0.7, not 0.6999...)."""
        if value is None:
            return None
        amount = Decimal(repr(value)) if isinstance(value, float) else Decimal(value)
        below = sum(1 for bound in self.bounds if bound <= amount)
        return self.labels()[below]


class Surname(_Rule):
    """Keep only the first character of a name, for the public role: "张**". The fill is
    fixed in width so the length of the given name is not revealed."""

    rule: Literal["surname"] = "surname"

    def apply(self, value: str | None) -> str | None:
        return None if value is None else value[:1] + "**"


Mask = Annotated[HideMiddle | KeepThrough | Band | Surname, Field(discriminator="rule")]


def _plain(bound: Decimal) -> str:
    """Plain decimal text for a label: 3000, 2999.5, 0.1; never 3E+3, 3000.00 or -0."""
    return "0" if bound.is_zero() else format(bound.normalize(), "f")
