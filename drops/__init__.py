"""File drops: departments that deliver periodic CSV or XLSX files instead of a database
or an API. A file is checked against the catalog's items and loaded into its
resource's table in the source's staging database, which the platform reads as any SQL
source; `python -m drops` loads one by hand, and the server watches each drop folder."""

from drops.load import Refused, load_file
from drops.staging import Staging, Stamp
from drops.watcher import DropFolder

__all__ = ["DropFolder", "Refused", "Staging", "Stamp", "load_file"]
