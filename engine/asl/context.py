"""What a data-flow evaluation needs besides the data: where it runs, ``$$`` and variables."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any


@dataclass
class EvalContext:
    """The evaluation environment of one state.

    ``state_name`` and ``entered_event_id`` feed AWS's error causes ("An error occurred while
    executing the state 'X' (entered at the event id #2). ..."). ``context_object`` is ``$$``;
    ``variables`` are the workflow variables visible to the state (``$name`` in JSONPath,
    ``$name`` in JSONata).
    """

    state_name: str
    entered_event_id: int
    context_object: dict[str, Any] = field(default_factory=dict)
    variables: dict[str, Any] = field(default_factory=dict)
