"""How a department's delivered files hold a resource (the catalog's `drop:` block), for
a source that is a folder of file drops (`file://`).

Only what differs from the defaults is written: a file's header names an item by its
column or its Chinese name (`name_zh`), unless `headers` names its own text; a CSV's
encoding is found from its bytes unless declared; an XLSX's first sheet is read unless
`sheet` names another. The folder and the staging database are settings, never
catalog text.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Annotated, Literal

from pydantic import BaseModel, ConfigDict, Field, StringConstraints

ColumnName = Annotated[str, StringConstraints(pattern=r"^[a-z_][a-z0-9_]*$")]
Header = Annotated[str, StringConstraints(min_length=1, strip_whitespace=True)]


class Drop(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")

    headers: Mapping[ColumnName, Header] = Field(default_factory=dict)
    """The header text of each column whose file header is neither its column nor its
    Chinese name: `{registered_on: 登记日期（年月日）}`."""
    encoding: Literal["utf-8", "gb18030"] | None = None
    """A CSV's encoding; none: UTF-8 (with or without a byte-order mark) when its bytes
    are UTF-8, else GB18030 (which reads GBK and GB2312 files too)."""
    sheet: Header | None = None
    """The sheet of an XLSX file that holds the records; none: the first."""
