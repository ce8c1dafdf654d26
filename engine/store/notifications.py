"""Wake-ups between nodes that share one PostgreSQL database (LISTEN/NOTIFY).

Inside one process the engine wakes at once when work appears: a start wakes the decider, a
send wakes the receivers long-polling its queue, a decision wakes the pollers of its activity
(engine.services.context.Waker, engine.services.tasks.TaskSignals). Several processes on one
PostgreSQL database (``stepwell server`` nodes, ``stepwell engine`` deciders) would otherwise
find out only on their next poll: the decider's idle poll, the long polls' once-a-second
re-check. This bus carries the same wake-up keys to the other nodes:

- ``publish(key)`` from any thread hands the key to a publisher thread, which sends every key
  gathered meanwhile in one ``pg_notify`` statement on its own connection: a burst of starts
  costs one statement, and no request waits for it. The wake-up follows the commit that made
  the work visible, as it does inside a process.
- a listener thread holds ``LISTEN`` on another connection and hands other nodes' keys to
  ``deliver``, which wakes this node's own waiters.
- a node with no peers publishes nothing but a heartbeat every few seconds: each node
  announces itself (``hello``) and keys are only sent while another node was heard from
  lately, so a single node pays nothing on its hot paths.

Keys are hints, never the work itself: the work is in the database, a lost notification (a
connection dropped, a node restarting) costs only the wait until the next poll.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    import psycopg

log = logging.getLogger("stepwell.notifications")

CHANNEL = "stepwell_wake"
HELLO = "hello"
# How often a node announces itself, and how long a peer counts as present after it was last
# heard from (three missed heartbeats).
HEARTBEAT_SECONDS = 5.0
PEER_SECONDS = 3 * HEARTBEAT_SECONDS
# Reconnecting after a failure waits this long, doubling up to the maximum.
RETRY_SECONDS = 0.5
RETRY_MAX_SECONDS = 10.0
# pg_notify payloads are limited to 8000 bytes; a longer key is not worth a wake-up.
MAX_PAYLOAD = 7900


def libpq_url(database_url: str) -> str:
    """The libpq form of a SQLAlchemy PostgreSQL URL."""
    return database_url.replace("postgresql+psycopg://", "postgresql://", 1)


class NotificationBus:
    """Carries wake-up keys between the nodes of one PostgreSQL database."""

    def __init__(self, database_url: str, node: str, deliver: Callable[[str], None]) -> None:
        self.url = libpq_url(database_url)
        self.node = node
        self.deliver = deliver
        self._peers: dict[str, float] = {}
        self._last_peer = -PEER_SECONDS  # when any other node was last heard from
        self._keys: set[str] = set()
        self._announce = True  # a hello goes out first thing
        self._lock = threading.Lock()
        self._wake = threading.Condition(self._lock)
        self._stopping = threading.Event()
        self._threads: list[threading.Thread] = []

    # -- the hot path --------------------------------------------------------------------------

    def publish(self, key: str) -> None:
        """Tell the other nodes that ``key``'s waiters have work (no-op while alone)."""
        if time.monotonic() - self._last_peer >= PEER_SECONDS or len(key) > MAX_PAYLOAD:
            return
        with self._lock:
            if key not in self._keys:
                self._keys.add(key)
                self._wake.notify()

    def peers(self) -> list[str]:
        """The nodes heard from lately."""
        now = time.monotonic()
        return sorted(node for node, seen in list(self._peers.items()) if now - seen < PEER_SECONDS)

    # -- lifecycle -----------------------------------------------------------------------------

    def start(self) -> None:
        """Start listening and publishing."""
        for target, name in ((self._listen, "listener"), (self._publish, "publisher")):
            thread = threading.Thread(target=target, name=f"stepwell-bus-{name}", daemon=True)
            thread.start()
            self._threads.append(thread)

    def stop(self, timeout: float = 5.0) -> None:
        """Stop both threads and close their connections."""
        self._stopping.set()
        with self._lock:
            self._wake.notify()
        for thread in self._threads:
            thread.join(timeout)
        self._threads.clear()

    # -- threads -------------------------------------------------------------------------------

    def _publish(self) -> None:
        import psycopg

        delay = RETRY_SECONDS
        while not self._stopping.is_set():
            try:
                with psycopg.connect(self.url, autocommit=True) as conn:
                    delay = RETRY_SECONDS
                    self._send_loop(conn)
            except Exception:  # the database went away: keys are hints, try again later
                log.warning("notification publisher lost its connection", exc_info=True)
                self._stopping.wait(delay)
                delay = min(delay * 2, RETRY_MAX_SECONDS)

    def _send_loop(self, conn: psycopg.Connection[Any]) -> None:
        heartbeat_due = 0.0
        while not self._stopping.is_set():
            with self._lock:
                while not self._keys and not self._announce and not self._stopping.is_set():
                    timeout = heartbeat_due - time.monotonic()
                    if timeout <= 0:
                        break
                    self._wake.wait(timeout)
                keys, self._keys = self._keys, set()
                announce, self._announce = self._announce, False
            if self._stopping.is_set():
                return
            now = time.monotonic()
            if announce or now >= heartbeat_due:
                keys.add(HELLO)
                heartbeat_due = now + HEARTBEAT_SECONDS
            payloads = [f"{self.node}\t{key}" for key in sorted(keys)]
            conn.execute(
                "SELECT pg_notify(%s, payload) FROM unnest(%s::text[]) AS payload",
                (CHANNEL, payloads),
            )

    def _listen(self) -> None:
        import psycopg

        delay = RETRY_SECONDS
        while not self._stopping.is_set():
            try:
                with psycopg.connect(self.url, autocommit=True) as conn:
                    conn.execute(f"LISTEN {CHANNEL}")
                    delay = RETRY_SECONDS
                    while not self._stopping.is_set():
                        for note in conn.notifies(timeout=0.5):
                            self._heard(note.payload)
            except Exception:
                log.warning("notification listener lost its connection", exc_info=True)
                self._stopping.wait(delay)
                delay = min(delay * 2, RETRY_MAX_SECONDS)

    def _heard(self, payload: str) -> None:
        node, _, key = payload.partition("\t")
        if node == self.node or not key:
            return
        if node not in self._peers or time.monotonic() - self._peers[node] >= PEER_SECONDS:
            # A node new to us (or back): answer at once so it knows of us too, instead of
            # relying on its polls until our next heartbeat.
            with self._lock:
                self._announce = True
                self._wake.notify()
        self._peers[node] = self._last_peer = time.monotonic()
        if key == HELLO:
            return
        try:
            self.deliver(key)
        except Exception:  # a waiter's failure must not end the listener
            log.exception("delivering wake-up %r failed", key)
