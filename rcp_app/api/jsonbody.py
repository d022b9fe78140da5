"""Request bodies parsed without letting a hostile body crash the request.

Python's json module recurses once per nesting level: a body of 5,000 « [ » raises
RecursionError, which no caller expects (Flask's ``get_json(silent=True)`` only silences
ValueError). Here it becomes the ValueError of any other malformed JSON, so the API answers
« Le corps n'est pas un JSON valide » (422) instead of a 500.
"""

from __future__ import annotations

import json

from flask.json.provider import DefaultJSONProvider


class SafeJSONProvider(DefaultJSONProvider):
    def loads(self, s, **kwargs):
        try:
            return super().loads(s, **kwargs)
        except RecursionError:
            raise json.JSONDecodeError("nesting too deep", str(s)[:20], 0) from None
