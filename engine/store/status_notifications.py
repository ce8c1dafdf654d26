"""Rows of ``status_notifications``: which topics hear of a state machine's ended executions."""

from __future__ import annotations

import time
from collections.abc import Iterable

from sqlalchemy import Connection, delete, insert, select

from engine.store.tables import status_notifications as targets

# Every ended execution asks which topics its state machine notifies, and almost always the
# answer is none: which state machines have any is read once a second per process and
# database (this process's own changes drop it at once; another node's are seen within the
# second, as for a state machine's own row).
_NOTIFYING_TTL = 1.0
_notifying: dict[str, tuple[float, frozenset[str]]] = {}


class StatusNotificationRepository:
    """The topics each state machine announces its ended executions to."""

    def __init__(self, conn: Connection) -> None:
        self.conn = conn

    def replace(self, state_machine_arn: str, topic_arns: list[str], now: float) -> None:
        """Make ``topic_arns`` the state machine's whole list."""
        self.drop_machine(state_machine_arn)
        if topic_arns:
            self.conn.execute(
                insert(targets),
                [
                    {"state_machine_arn": state_machine_arn, "topic_arn": arn, "created_at": now}
                    for arn in topic_arns
                ],
            )

    def for_machines(
        self, state_machine_arns: Iterable[str], cached: bool = True
    ) -> dict[str, list[str]]:
        """The topics of each of these state machines that has any, in the order they were set.
        ``cached``: skip the state machines this process's once-a-second read says notify
        nothing (the hot path of ended executions); a read of the list itself passes False."""
        wanted = sorted(set(state_machine_arns))
        if cached:
            notifying = self._notifying()
            wanted = [arn for arn in wanted if arn in notifying]
        found: dict[str, list[str]] = {}
        if not wanted:
            return found
        rows = self.conn.execute(
            select(targets.c.state_machine_arn, targets.c.topic_arn)
            .where(targets.c.state_machine_arn.in_(wanted))
            .order_by(targets.c.id)
        )
        for machine, topic in rows:
            found.setdefault(machine, []).append(topic)
        return found

    def drop_machine(self, state_machine_arn: str) -> None:
        """Forget a state machine's list (it is cleared, or the state machine deleted)."""
        self.conn.execute(delete(targets).where(targets.c.state_machine_arn == state_machine_arn))
        self.forget_cached()

    def forget_cached(self) -> None:
        """Read again which state machines notify (this process changed the list: call it
        once the change has committed too, so a read in between is not kept)."""
        _notifying.pop(self._key(), None)

    def _key(self) -> str:
        return str(self.conn.engine.url)

    def _notifying(self) -> frozenset[str]:
        """The state machines that notify any topic (cached, see above)."""
        key, now = self._key(), time.monotonic()
        cached = _notifying.get(key)
        if cached is not None and now - cached[0] < _NOTIFYING_TTL:
            return cached[1]
        machines = frozenset(
            self.conn.execute(select(targets.c.state_machine_arn).distinct()).scalars()
        )
        _notifying[key] = (now, machines)
        return machines
