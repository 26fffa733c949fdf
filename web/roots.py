"""The fields an operation selects at its root, through inline fragments and fragment
spreads: what decides whether a document is introspection only (`web.persisted`) or
the policy admins' (`web.admin`). Read from the document's syntax before validation, so
a root field hidden in a fragment is found as surely as one written at the root.
"""

from __future__ import annotations

from graphql import (
    DocumentNode,
    FieldNode,
    FragmentDefinitionNode,
    FragmentSpreadNode,
    InlineFragmentNode,
    OperationDefinitionNode,
    SelectionSetNode,
)


def root_field_names(
    document: DocumentNode, operation: OperationDefinitionNode
) -> frozenset[str] | None:
    """None when a spread names no fragment of the document or spreads itself: such a
    document does not validate, and nothing is said of it."""
    fragments = {
        d.name.value: d.selection_set
        for d in document.definitions
        if isinstance(d, FragmentDefinitionNode)
    }
    names: set[str] = set()

    def walk(selections: SelectionSetNode, seen: frozenset[str]) -> bool:
        for selection in selections.selections:
            if isinstance(selection, FieldNode):
                names.add(selection.name.value)
            elif isinstance(selection, InlineFragmentNode):
                if not walk(selection.selection_set, seen):
                    return False
            elif isinstance(selection, FragmentSpreadNode):
                name = selection.name.value
                if name in seen or name not in fragments:
                    return False
                if not walk(fragments[name], seen | {name}):
                    return False
        return True

    return frozenset(names) if walk(operation.selection_set, frozenset()) else None
