"""The closed lists of terms a catalog entry is written in, as the national catalog
guide and the measures name them: share types, item kinds, classes, formats, share
methods, update cycles and data types.
"""

from __future__ import annotations

import datetime
import decimal
from collections.abc import Mapping
from enum import StrEnum


class ShareType(StrEnum):
    UNCONDITIONAL = "unconditional"
    CONDITIONAL = "conditional"
    NOT_SHARED = "not_shared"


class ItemKind(StrEnum):
    """Basic or business data item (基础/业务信息项); Art. 5 protects basic items."""

    BASIC = "basic"
    BUSINESS = "business"


class SubjectKind(StrEnum):
    """Whom an identifier names: a person (公民身份号码) or an enterprise (统一社会信用代码).
    Every item holding one declares it, wherever it sits, so the audit log finds the
    data subject of a value served through any resource (Art. 11)."""

    PERSON = "person"
    ENTERPRISE = "enterprise"


class CatalogClass(StrEnum):
    BASIC = "basic"
    THEME = "theme"
    DEPARTMENT = "department"


class FormatClass(StrEnum):
    """The guide's 信息资源格式分类."""

    ELECTRONIC_FILE = "electronic_file"
    SPREADSHEET = "spreadsheet"
    DATABASE = "database"
    IMAGE = "image"
    STREAMING_MEDIA = "streaming_media"
    SELF_DESCRIBING = "self_describing"
    SERVICE_INTERFACE = "service_interface"


class ShareMethodClass(StrEnum):
    """The guide's 共享方式分类: how data reaches a consumer."""

    SHARED_PLATFORM = "shared_platform"
    EMAIL = "email"
    REMOVABLE_DISK = "removable_disk"
    MEDIA_EXCHANGE = "media_exchange"


class UpdateCycle(StrEnum):
    REAL_TIME = "real_time"
    DAILY = "daily"
    WEEKLY = "weekly"
    MONTHLY = "monthly"
    QUARTERLY = "quarterly"
    YEARLY = "yearly"
    IRREGULAR = "irregular"


class ShareMethod(StrEnum):
    DATA_INTERFACE = "data_interface"
    ONLINE_QUERY = "online_query"
    BATCH_DOWNLOAD = "batch_download"


class DataType(StrEnum):
    """The catalog guide's data types, by their one-letter codes."""

    CHARACTER = "C"
    NUMERIC = "N"
    INTEGER = "I"
    CURRENCY = "Y"
    DATE = "D"
    DATETIME = "T"
    LOGICAL = "L"
    MEMO = "M"
    DOUBLE = "B"
    FLOAT = "F"


class MaskedFor(StrEnum):
    """Who sees a conditional item masked without a clear grant (部分共享给所有部门)."""

    ALL_DEPARTMENTS = "all_departments"
    GRANTED = "granted"
    """Only consumers a read_masked rule or grant names."""


class Cardinality(StrEnum):
    ONE = "one"
    MANY = "many"


CATEGORY_DIGIT = {CatalogClass.BASIC: "1", CatalogClass.THEME: "2", CatalogClass.DEPARTMENT: "3"}

PYTHON_TYPES: Mapping[DataType, type] = {
    DataType.CHARACTER: str,
    DataType.MEMO: str,
    DataType.NUMERIC: float,
    DataType.DOUBLE: float,
    DataType.FLOAT: float,
    DataType.INTEGER: int,
    DataType.CURRENCY: decimal.Decimal,
    DataType.DATE: datetime.date,
    DataType.DATETIME: datetime.datetime,
    DataType.LOGICAL: bool,
}
"""The Python type a value of each data type is compared and served as: the resolvers
coerce arguments to it, and the schema serves it as its GraphQL scalar."""
