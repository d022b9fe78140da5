"""A local SMTP server that files every message it receives as an .eml file.

For development and the demo (``make run``): the application sends its e-mails to it instead of
a real relay, and the messages can be read in ``instance/mailbox``. Never for production.

Run: ``python -m rcp_app.delivery.mailbox --dir instance/mailbox --port 8025``.
"""

from __future__ import annotations

import argparse
import asyncio
import itertools
import signal
import socket
import sys
import threading
from pathlib import Path

from aiosmtpd.controller import Controller
from aiosmtpd.smtp import SMTP, Envelope, Session

# Re-exported: what the server writes, and how it is read back.
from .mailbox_files import StoredMessage as StoredMessage
from .mailbox_files import list_messages as list_messages
from .mailbox_files import read_message as read_message
from .mailbox_files import store_message

_STOP_TIMEOUT_SECONDS = 5.0
_STUCK_CHECK_DELAY_SECONDS = 0.1


class ThreadedSmtpController(Controller):
    """aiosmtpd's threaded controller, plus what tests and tools need from it.

    - port 0 picks a free port (``port`` is the real one once started);
    - every connection is tracked, and stop() closes the open ones first: otherwise their
      transports would be left to the garbage collector of a closed event loop;
    - ``smtp_class`` lets a subclass of aiosmtpd's SMTP serve the connections.
    """

    def __init__(
        self, handler, *, host: str, port: int, smtp_class: type[SMTP] | None = None, **kwargs
    ):
        super().__init__(handler, hostname=host, port=port, **kwargs)
        self._smtp_class = smtp_class or TrackedSMTP
        self._open_protocols: set[SMTP] = set()
        self._all_closed = threading.Event()
        self._all_closed.set()

    def start(self) -> None:
        # aiosmtpd reports a port already in use only after its ready timeout (5 s): fail fast.
        if self.port != 0:
            family = socket.AF_INET6 if ":" in self.hostname else socket.AF_INET
            socket.create_server((self.hostname, self.port), family=family).close()
        super().start()

    def factory(self) -> SMTP:
        protocol = self._smtp_class(self.handler, **self.SMTP_kwargs)
        protocol.tracking_controller = self
        return protocol

    def _trigger_server(self) -> None:
        # With port 0 the kernel chose the port; aiosmtpd's start-up probe needs the real one.
        if self.port == 0 and self.server is not None:
            self.port = self.server.sockets[0].getsockname()[1]
        super()._trigger_server()

    def connection_opened(self, protocol: SMTP) -> None:
        self._open_protocols.add(protocol)
        self._all_closed.clear()

    def connection_closed(self, protocol: SMTP) -> None:
        self._open_protocols.discard(protocol)
        if not self._open_protocols:
            self._all_closed.set()

    def close_connections(self, timeout: float = _STOP_TIMEOUT_SECONDS) -> None:
        """Close every open client connection (from any thread) and wait until they are."""
        if self.loop.is_closed() or not self.loop.is_running():
            return
        self.loop.call_soon_threadsafe(self._close_transports)
        self._all_closed.wait(timeout)

    def _close_transports(self) -> None:
        for protocol in list(self._open_protocols):
            if protocol.transport is not None:
                protocol.transport.close()
        self.loop.call_later(_STUCK_CHECK_DELAY_SECONDS, self._release_stuck_protocols)

    def _release_stuck_protocols(self) -> None:
        # When a client aborts the TLS handshake after STARTTLS (certificate refused), asyncio
        # closes the socket but never tells aiosmtpd's protocol, which would wait forever.
        for protocol in list(self._open_protocols):
            original = protocol._original_transport
            if original is not None and original.is_closing() and protocol.transport is not None:
                protocol.connection_lost(None)

    def stop(self, no_assert: bool = False) -> None:
        self.close_connections()
        super().stop(no_assert=no_assert)


class TrackedSMTP(SMTP):
    """aiosmtpd's SMTP protocol reporting its connections to a ThreadedSmtpController."""

    tracking_controller: ThreadedSmtpController | None = None

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        upgrading_to_tls = self._original_transport is not None
        super().connection_made(transport)
        if not upgrading_to_tls and self.tracking_controller is not None:
            self.tracking_controller.connection_opened(self)

    def connection_lost(self, error: Exception | None) -> None:
        super().connection_lost(error)
        if self.tracking_controller is not None:
            self.tracking_controller.connection_closed(self)


class _StoringHandler:
    """aiosmtpd handler: one .eml file per accepted message, envelope as leading headers."""

    def __init__(self, directory: Path):
        self.directory = directory
        self._counter = itertools.count(1)
        self._lock = threading.Lock()

    async def handle_DATA(self, server: SMTP, session: Session, envelope: Envelope) -> str:
        store_message(
            self.directory,
            envelope.mail_from,
            envelope.rcpt_tos,
            envelope.original_content,
            self._next_counter(),
        )
        return "250 2.0.0 Message enregistré"

    def _next_counter(self) -> int:
        with self._lock:
            return next(self._counter)


class LocalMailbox:
    """The local SMTP server, run in a background thread."""

    def __init__(self, directory: Path, host: str = "127.0.0.1", port: int = 8025):
        self.directory = Path(directory)
        self.host = host
        self.port = port
        self._controller: ThreadedSmtpController | None = None

    def start(self) -> None:
        self.directory.mkdir(parents=True, exist_ok=True)
        controller = ThreadedSmtpController(
            _StoringHandler(self.directory),
            host=self.host,
            port=self.port,
            smtp_class=TrackedSMTP,
            server_hostname="rcp-mailbox.localhost",
        )
        controller.start()
        self._controller = controller
        self.port = controller.port

    def stop(self) -> None:
        controller, self._controller = self._controller, None
        if controller is not None:
            controller.stop()

    def __enter__(self) -> LocalMailbox:
        self.start()
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.stop()


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description="Boîte aux lettres SMTP locale (développement).")
    parser.add_argument("--dir", default="instance/mailbox", type=Path)
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", default=8025, type=int)
    options = parser.parse_args(argv)

    stop_requested = threading.Event()
    for signum in (signal.SIGTERM, signal.SIGINT):
        signal.signal(signum, lambda *_: stop_requested.set())

    mailbox = LocalMailbox(options.dir, host=options.host, port=options.port)
    try:
        mailbox.start()
    except OSError as error:
        print(
            f"Boîte aux lettres locale : impossible d'écouter sur {options.host}:{options.port} "
            f"({error.strerror or error}).",
            file=sys.stderr,
        )
        return 1
    print(
        f"Boîte aux lettres locale : SMTP sur {mailbox.host}:{mailbox.port}, "
        f"messages enregistrés dans {options.dir.resolve()}",
        flush=True,
    )
    try:
        while not stop_requested.wait(0.5):
            pass
    finally:
        mailbox.stop()
        print("Boîte aux lettres locale arrêtée.", flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
