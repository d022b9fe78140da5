"""The bundle's entries, each under a ``urn:uuid:`` derived from the fiche version's document id.

UUID 5 of a label under the document id: the same snapshot always gives the same fullUrls (and
so the same bytes), and two versions of a fiche never share one. The ``fhir:`` prefix keeps these
UUIDs apart from the CDA's inner act ids, derived from the same namespace.
"""

from __future__ import annotations

import uuid


class Entries:
    def __init__(self, document_id: str):
        self._namespace = uuid.UUID(document_id)
        self._resources: dict[str, dict] = {}

    def _uuid(self, label: str) -> str:
        return str(uuid.uuid5(self._namespace, f"fhir:{label}"))

    def url(self, label: str) -> str:
        return f"urn:uuid:{self._uuid(label)}"

    def add(self, resource_type: str, label: str, fields: dict) -> dict:
        """Adds the resource once (the first one given for a label wins); its Reference."""
        url = self.url(label)
        if url not in self._resources:
            self._resources[url] = {"resourceType": resource_type, "id": self._uuid(label)}
            self._resources[url].update(fields)
        return {"reference": url}

    def has(self, label: str) -> bool:
        return self.url(label) in self._resources

    def references(self, *resource_types: str) -> list[dict]:
        """References to every resource of these types, in the order they were added."""
        return [
            {"reference": url}
            for url, resource in self._resources.items()
            if resource["resourceType"] in resource_types
        ]

    def as_list(self, *, first: str) -> list[dict]:
        """Bundle entries, the one at ``first`` (a fullUrl) before the others."""
        urls = [first, *(url for url in self._resources if url != first)]
        return [{"fullUrl": url, "resource": self._resources[url]} for url in urls]
