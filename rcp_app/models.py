"""Imports every model module so that the metadata (and Alembic) sees all tables."""

from .access.models import CoordinatorScope, ExceptionalAccess  # noqa: F401
from .api.models import (  # noqa: F401
    ApiClient,
    ApiRateWindow,
    ApiToken,
    EstablishmentPatient,
    WebhookSubscription,
)
from .attendance.models import Attendance, CaseRequiredSpecialty  # noqa: F401
from .auth.models import LoginAttempt, User  # noqa: F401
from .cases.models import (  # noqa: F401
    Attachment,
    Biomarker,
    Case,
    OtherStaging,
    RcpRequiredItem,
    Treatment,
    Tumour,
)
from .core.audit import AuditEntry  # noqa: F401
from .decisions.models import Decision, DecisionAlternative  # noqa: F401
from .delivery.models import Transmission  # noqa: F401
from .directory.models import (  # noqa: F401
    Establishment,
    Professional,
    Rcp,
    RcpMember,
    RcpRequiredSpecialty,
    RcpValidator,
)
from .fiches.models import Fiche, FicheDocument, FicheVersion  # noqa: F401
from .followups.models import FollowUp  # noqa: F401
from .meetings.models import AgendaItem, MeetingSession, Notification  # noqa: F401
from .patients.models import Patient  # noqa: F401
from .pps.models import CarePlan, CarePlanDocument, CarePlanVersion  # noqa: F401
from .terminology.models import Concept, ValueSet  # noqa: F401
