"""One module per ASL state type; ``HANDLERS`` maps a state's ``Type`` to its handler."""

from __future__ import annotations

from engine.asl.states import choice_, fail, map_, parallel, pass_, succeed, task, wait

HANDLERS = {
    "Pass": pass_.run,
    "Choice": choice_.run,
    "Wait": wait.run,
    "Succeed": succeed.run,
    "Fail": fail.run,
    "Parallel": parallel.run,
    "Map": map_.run,
    "Task": task.run,
}
