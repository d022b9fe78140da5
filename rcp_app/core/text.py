"""Text normalisation used for accent- and case-insensitive search keys."""

import re
import unicodedata

_SPACES = re.compile(r"\s+")


def search_key(value: str | None) -> str:
    """'Élodie  d’Aubigné' -> 'ELODIE D'AUBIGNE': no accents, upper case, single spaces."""
    if not value:
        return ""
    decomposed = unicodedata.normalize("NFKD", value)
    stripped = "".join(c for c in decomposed if not unicodedata.combining(c))
    stripped = stripped.replace("’", "'").replace("Œ", "OE").replace("œ", "oe")
    stripped = stripped.replace("Æ", "AE").replace("æ", "ae")
    return _SPACES.sub(" ", stripped).strip().upper()


def clean_spaces(value: str | None) -> str:
    return _SPACES.sub(" ", value or "").strip()
