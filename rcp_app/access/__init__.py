"""Who may see and do what: the one module that owns access.

- ``care_team``: the SQL conditions every list, search, count and dashboard uses
  (``patient_condition``, ``case_condition``);
- ``rules.can(user, action, thing)``: the same rules for one object, for views and templates
  (``can`` is a template global);
- ``guards``: what views call (``require``: 403, or the exceptional-access offer for a
  physician outside the care team);
- ``models`` / ``operations``: coordinators' scopes and exceptional accesses (« bris de
  glace »), their review.
"""

from .care_team import case_condition, clinical_patient_ids, patient_condition, scoped_rcp_ids
from .rules import can

__all__ = [
    "can",
    "case_condition",
    "clinical_patient_ids",
    "patient_condition",
    "scoped_rcp_ids",
]
