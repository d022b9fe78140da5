"""The fiche's FHIR R4 document Bundle: a pure function of the frozen snapshot and the signed
PDF (``bundle.build_bundle``, ``bundle.bundle_json``); one module per group of resources, the
code systems and their canonical URLs in ``systems``."""
