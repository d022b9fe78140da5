"""Where a ``next`` parameter may send the user: a path on this site, nothing else."""

from __future__ import annotations

from urllib.parse import urlsplit


def safe_local_path(target: str | None) -> str | None:
    """``target`` if it is a same-origin path (« /patients/12?x=1 »), else None.

    Browsers read a backslash as a slash and drop tabs and newlines, so « /\\evil.example » or
    « /<TAB>/evil.example » would leave the site: such characters refuse the target, as do
    « //host » and any scheme.
    """
    if (
        not target
        or len(target) > 2000
        or not target.startswith("/")
        or target.startswith("//")
        or "\\" in target
        or any(ord(c) < 0x21 or c == "\x7f" for c in target)
    ):
        return None
    parts = urlsplit(target)
    if parts.scheme or parts.netloc:
        return None
    return target
