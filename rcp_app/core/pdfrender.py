"""HTML to PDF with WeasyPrint: no network, and one font configuration per thread.

WeasyPrint creates a fontconfig configuration for every rendering that is not given one, and
that memory is never returned: about 0.3 MB per PDF, so a web worker grew by 100 MB after a few
hundred previews and agendas (measured in bench/memory.py). Reusing one configuration per thread
keeps the process flat; per thread, because fontconfig objects are not shared across threads.
"""

from __future__ import annotations

import threading

_local = threading.local()


def no_network_fetcher():
    """Only data: URIs (the QR code); a failed fetch stops the rendering instead of a blank."""
    from weasyprint.urls import URLFetcher

    return URLFetcher(allowed_protocols={"data"}, fail_on_errors=True)


def font_config():
    config = getattr(_local, "font_config", None)
    if config is None:
        from weasyprint.text.fonts import FontConfiguration

        config = _local.font_config = FontConfiguration()
    return config


def write_pdf(html: str, **options) -> bytes:
    from weasyprint import HTML

    return HTML(string=html, url_fetcher=no_network_fetcher()).write_pdf(
        font_config=font_config(), **options
    )
