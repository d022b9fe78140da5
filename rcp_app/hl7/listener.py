"""The MLLP server: python-hl7's asyncio streams, the database work in a thread pool.

Each connection (a hospital interface engine) is read frame by frame — 0x0B, message, 0x1C
0x0D — and each message is answered before the next one is read, so one interface's messages
are applied in the order it sent them. Connections are served concurrently: the event loop
only waits on sockets, and each message is processed (``processing.handle``, one transaction)
in a pool of ``workers`` threads, each with its own app context and database session.

Framing is lenient where it costs nothing: bytes before the start block are dropped (line
noise, a half-sent frame); a block without a start byte gets an AR and the connection stays
usable. A frame over ``MAX_FRAME`` bytes gets an AR and the connection is closed (the stream
cannot be resynchronised). An idle connection is kept open: interface engines hold theirs for
days.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import signal
import threading
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor

from flask import Flask
from hl7.mllp import start_hl7_server
from hl7.mllp.streams import CARRIAGE_RETURN, END_BLOCK, START_BLOCK

from . import ack
from .errors import rejected
from .operations import FeedSettings
from .processing import handle

log = logging.getLogger(__name__)

MAX_FRAME = 1024 * 1024
_FRAME_END = END_BLOCK + CARRIAGE_RETURN


class Listener:
    def __init__(
        self,
        app: Flask,
        host: str = "127.0.0.1",
        port: int = 2575,
        *,
        workers: int = 4,
        settings: FeedSettings | None = None,
    ):
        self.app = app
        self.host = host
        self.port = port
        self.settings = settings or FeedSettings()
        self._pool = ThreadPoolExecutor(max_workers=workers, thread_name_prefix="hl7")
        self._server: asyncio.Server | None = None
        self._connections: set[asyncio.Task] = set()

    async def start(self) -> int:
        """Listen; returns the port (useful with port 0)."""
        self._server = await start_hl7_server(
            self._connection, self.host, self.port, limit=MAX_FRAME
        )
        self.port = self._server.sockets[0].getsockname()[1]
        log.info("HL7 listener on %s:%s", self.host, self.port)
        return self.port

    async def stop(self) -> None:
        if self._server is not None:
            self._server.close()
            await self._server.wait_closed()
        for task in list(self._connections):
            task.cancel()
        await asyncio.gather(*self._connections, return_exceptions=True)
        # Messages already being applied finish and commit (or roll back) before we return.
        await asyncio.get_running_loop().run_in_executor(None, self._pool.shutdown)

    async def serve_until_signalled(self, on_ready=None) -> None:
        """The command's loop: serve until SIGINT or SIGTERM, then stop cleanly."""
        port = await self.start()
        if on_ready is not None:
            on_ready(port)
        stopping = asyncio.Event()
        loop = asyncio.get_running_loop()
        for sig in (signal.SIGINT, signal.SIGTERM):
            loop.add_signal_handler(sig, stopping.set)
        await stopping.wait()
        await self.stop()

    async def _connection(self, reader, writer) -> None:
        task = asyncio.current_task()
        self._connections.add(task)
        peer = writer.get_extra_info("peername")
        address = str(peer[0]) if peer else "inconnu"
        try:
            await self._serve(reader, writer, address)
        except (ConnectionError, asyncio.IncompleteReadError):
            pass  # the sender hung up; nothing to answer
        except Exception:
            log.exception("HL7 connection from %s closed on an unexpected error", address)
        finally:
            self._connections.discard(task)
            writer.close()
            with contextlib.suppress(ConnectionError, asyncio.CancelledError):
                await writer.wait_closed()

    async def _serve(self, reader, writer, address: str) -> None:
        loop = asyncio.get_running_loop()
        while True:
            try:
                block = await reader.readuntil(_FRAME_END)
            except asyncio.LimitOverrunError:
                refusal = rejected(
                    f"Message de plus de {MAX_FRAME // 1024} Kio : refusé, connexion fermée.",
                    "100",
                )
                writer.writeblock(ack.build(None, "AR", refusal).encode("latin-1"))
                await writer.drain()
                return
            start = block.rfind(START_BLOCK)
            if start < 0:
                refusal = rejected(
                    "Bloc MLLP sans caractère de début (0x0B) : message ignoré.", "100"
                )
                writer.writeblock(ack.build(None, "AR", refusal).encode("latin-1"))
            else:
                frame = block[start + 1 : -len(_FRAME_END)]
                answer = await loop.run_in_executor(
                    self._pool, handle, self.app, frame, address, self.settings
                )
                writer.writeblock(answer.ack)
            await writer.drain()


@contextlib.contextmanager
def running(
    app: Flask,
    host: str = "127.0.0.1",
    port: int = 0,
    **options,
) -> Iterator[Listener]:
    """A listener served by an event loop in a background thread (tests, the bench)."""
    loop = asyncio.new_event_loop()
    listener = Listener(app, host, port, **options)
    started = threading.Event()

    def run() -> None:
        asyncio.set_event_loop(loop)
        loop.run_until_complete(listener.start())
        started.set()
        loop.run_forever()

    thread = threading.Thread(target=run, name="hl7-listener", daemon=True)
    thread.start()
    if not started.wait(timeout=30):
        raise RuntimeError("HL7 listener did not start")
    try:
        yield listener
    finally:
        asyncio.run_coroutine_threadsafe(listener.stop(), loop).result(timeout=60)
        loop.call_soon_threadsafe(loop.stop)
        thread.join(timeout=30)
        loop.close()
