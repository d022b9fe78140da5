"""The fiche's CDA R2 document (CI-SIS volet FRCP): a pure function of the frozen snapshot.

``document`` assembles the header (``header``) and the body sections (``body_*``, the TNM
entries in ``tnm``) with the XML helpers of ``xml``; ``identifiers`` gives the OID form of the
fiche's UUIDs, which the XDM metadata of a delivery repeats.
"""

from .document import build_cda

__all__ = ["build_cda"]
