"""Freshness (Art. 10): each resource's last update, as its source tells it, against the
update cycle its department declares; checked in the background, read by `/readyz`,
`/metrics`, the `catalog` query and the responses' `extensions`."""

from freshness.cycles import ALLOWED_AGE, is_stale
from freshness.watch import FreshnessWatch, ResourceFreshness

__all__ = ["ALLOWED_AGE", "FreshnessWatch", "ResourceFreshness", "is_stale"]
