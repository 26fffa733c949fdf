"""Every name the GraphQL schema is built with: the platform's fixed names, and the
names of each resource, declared in its catalog file or generated from them.

The schema builder and the resolvers take every name from here and the loader checks
them all for collisions (`_collisions.py`): strawberry merges two types of one name
silently and a later root field replaces an earlier one, so a clash must be refused
when the catalog loads. Plain strings, no GraphQL library.
"""

from __future__ import annotations

from dataclasses import dataclass

QUERY = "Query"
PAGE_INFO = "PageInfo"
ORDER_DIRECTION = "OrderDirection"
SCALARS = ("String", "Int", "Float", "Boolean", "ID", "Date", "DateTime", "Decimal")
COMPARED_SCALARS = ("String", "Float", "Int", "Decimal", "Date", "DateTime", "Boolean")
"""The scalars `where` can compare, each with its comparison input."""

CATALOG_FIELD = "catalog"
CATALOG_ROOT = "CatalogRoot"
CATALOG_DEPARTMENT = "CatalogDepartment"
CATALOG_RESPONSIBLE_PERSON = "CatalogResponsiblePerson"
CATALOG_RESOURCE = "CatalogResource"
CATALOG_CLASSIFICATION = "CatalogClassification"
CATALOG_FORMAT = "CatalogFormat"
CATALOG_ITEM = "CatalogItem"
CATALOG_RELATIONSHIP = "CatalogRelationship"
CATALOG_MATCH = "CatalogMatch"
CATALOG_ACCESS = "CatalogAccess"
CATALOG_TYPES = (
    CATALOG_ROOT,
    CATALOG_DEPARTMENT,
    CATALOG_RESPONSIBLE_PERSON,
    CATALOG_RESOURCE,
    CATALOG_CLASSIFICATION,
    CATALOG_FORMAT,
    CATALOG_ITEM,
    CATALOG_RELATIONSHIP,
    CATALOG_MATCH,
    CATALOG_ACCESS,
)

MY_ACCESS_FIELD = "myAccess"
ITEM_ACCESS = "ItemAccess"
APPLICATION_REQUEST = "ApplicationRequest"
RESOURCE_ID = "ResourceId"
"""The enum of resource ids a caller's schema holds: `myAccess` takes one."""
PURPOSE = "Purpose"
MY_ACCESS_TYPES = (ITEM_ACCESS, APPLICATION_REQUEST, RESOURCE_ID, PURPOSE)

CLAIMS_ARGUMENT = "claims"
"""The argument of a verification field that holds the claimed values, beside the key."""


def comparison_input(scalar: str) -> str:
    """`String` -> `StringComparison`: the operators `where` offers on that scalar."""
    return f"{scalar}Comparison"


FIXED_TYPES = (
    QUERY,
    PAGE_INFO,
    ORDER_DIRECTION,
    *SCALARS,
    *CATALOG_TYPES,
    *MY_ACCESS_TYPES,
    *(comparison_input(scalar) for scalar in COMPARED_SCALARS),
)
FIXED_ROOT_FIELDS = (CATALOG_FIELD, MY_ACCESS_FIELD)
"""Root fields resolved by strawberry itself (they take its typed arguments): every other
root field is resolved by graphql-core directly (`schema.build`)."""


@dataclass(frozen=True)
class ResourceNames:
    """A resource's GraphQL names: its type and list field as declared, the rest made
    from the type name."""

    type: str
    list_field: str

    @property
    def connection(self) -> str:
        return f"{self.type}Connection"

    @property
    def edge(self) -> str:
        return f"{self.type}Edge"

    @property
    def where(self) -> str:
        return f"{self.type}Where"

    @property
    def order_by(self) -> str:
        return f"{self.type}OrderBy"

    @property
    def claims(self) -> str:
        return f"{self.type}Claims"

    @property
    def lookup_field(self) -> str:
        """The root field that reads one record by key: `Enterprise` -> `enterprise`."""
        return self.type[0].lower() + self.type[1:]

    @property
    def verify_field(self) -> str:
        return f"verify{self.type}"

    def generated_types(self) -> tuple[tuple[str, str], ...]:
        """(name, what it is) of the types made for the resource, after its own."""
        return (
            (self.connection, "the connection type"),
            (self.edge, "the edge type"),
            (self.where, "the filter input"),
            (self.order_by, "the ordering input"),
            (self.claims, "the verification claims input"),
        )

    def generated_root_fields(self) -> tuple[tuple[str, str], ...]:
        """(name, what it is) of the root fields made for the resource, beside its list."""
        return (
            (self.lookup_field, "the lookup field"),
            (self.verify_field, "the verification field"),
        )
