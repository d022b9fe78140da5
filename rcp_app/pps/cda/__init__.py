"""The CDA R2 CANCER-PPS document of a validated PPS version (CI-SIS volet CANCER-PPS 2022.01).

A pure function of the frozen PPS snapshot (tests/pps/samples.py), like the fiche's CDA whose
header code and XML helpers it shares (rcp_app/fiches/cda): ``header`` adds the PPS's contacts,
``sections`` the narrative building blocks, ``entries`` the planned acts, and the ``body_*``
modules the sections in the order of the official example.
"""

from .document import build_pps_cda

__all__ = ["build_pps_cda"]
