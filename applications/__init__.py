"""Applications for conditional items (Art. 8): a consumer applies through the platform,
the provider's approver answers within one working day (`workdays`), an approval
becomes a grant at once (`grants`), a refusal gives its reason, and every step is on
record: who, when, what and why.
"""

from applications.checks import approved_terms, asked_terms, text_problems
from applications.model import (
    NEGOTIATION,
    USE_CONDITIONS,
    Actor,
    Application,
    ApplicationNotFound,
    ApplicationProblem,
    DuplicateApplication,
    State,
    Step,
    StepTaken,
    Terms,
    TransitionRefused,
)
from applications.store import ApplicationStore, Draft

__all__ = [
    "NEGOTIATION",
    "USE_CONDITIONS",
    "Actor",
    "Application",
    "ApplicationNotFound",
    "ApplicationProblem",
    "ApplicationStore",
    "Draft",
    "DuplicateApplication",
    "State",
    "Step",
    "StepTaken",
    "Terms",
    "TransitionRefused",
    "approved_terms",
    "asked_terms",
    "text_problems",
]
