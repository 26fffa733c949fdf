"""The resource catalog (政务信息资源目录): what each department declares it holds,
checked as a whole when it loads, and what every other room derives from it — the
GraphQL names (`naming`), the masking rules, what the public may see.

A leaf room: every other room reads it, and it imports no GraphQL, HTTP or database
library and nothing of the platform but `errors` (a test walks the imports). Other
rooms use only the names below.
"""

from catalog import naming
from catalog.api import Api, ApiFilter, ApiOrdering, ApiPagination, Endpoint, Lookup
from catalog.drops import Drop
from catalog.loader import files_version, load_catalog
from catalog.masks import Band, HideMiddle, KeepThrough, Mask, Surname
from catalog.model import Catalog, DataItem, Department, DepartmentCatalog, Relationship, Resource
from catalog.remote import Remote, RemoteEndpoint
from catalog.shown import Shown, to_departments, to_public
from catalog.terms import (
    CATEGORY_DIGIT,
    PYTHON_TYPES,
    Cardinality,
    CatalogClass,
    DataType,
    ItemKind,
    MaskedFor,
    ShareMethod,
    ShareType,
    SubjectKind,
    UpdateCycle,
)

__all__ = [
    "CATEGORY_DIGIT",
    "PYTHON_TYPES",
    "Api",
    "ApiFilter",
    "ApiOrdering",
    "ApiPagination",
    "Band",
    "Cardinality",
    "Catalog",
    "CatalogClass",
    "DataItem",
    "DataType",
    "Department",
    "DepartmentCatalog",
    "Drop",
    "Endpoint",
    "HideMiddle",
    "ItemKind",
    "KeepThrough",
    "Lookup",
    "Mask",
    "MaskedFor",
    "Relationship",
    "Remote",
    "RemoteEndpoint",
    "Resource",
    "ShareMethod",
    "ShareType",
    "Shown",
    "SubjectKind",
    "Surname",
    "UpdateCycle",
    "files_version",
    "load_catalog",
    "naming",
    "to_departments",
    "to_public",
]
