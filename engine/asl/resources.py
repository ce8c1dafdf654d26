"""What a Task state's ``Resource`` names: an activity, a function, or a service integration.

ARN forms from the AWS Step Functions developer guide ("Task workflow state", "Integrating
services"): ``arn:aws:states:REGION:ACCOUNT:activity:NAME``,
``arn:aws:lambda:REGION:ACCOUNT:function:NAME[:QUALIFIER]`` and
``arn:aws:states:::SERVICE:ACTION[.sync|.sync:2|.waitForTaskToken]``.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

_ACTIVITY = re.compile(r"^arn:aws[a-z-]*:states:([a-z0-9-]+):(\d{12}):activity:(.+)$")
_FUNCTION = re.compile(r"^arn:aws[a-z-]*:lambda:([a-z0-9-]+):(\d{12}):function:([^:]+)(:.+)?$")
_SERVICE = re.compile(r"^arn:aws[a-z-]*:states:([a-z0-9-]*):(\d{12})?:([a-z0-9-]+):(.+)$")


@dataclass(frozen=True)
class Resource:
    """A classified Task resource.

    ``kind`` is "activity", "function" (a plain Lambda ARN) or "service"; for services,
    ``service`` and ``action`` come from the ARN and ``pattern`` is "", "sync", "sync:2" or
    "waitForTaskToken".
    """

    arn: str
    kind: str
    name: str = ""
    region: str = ""
    service: str = ""
    action: str = ""
    pattern: str = ""

    @property
    def callback(self) -> bool:
        """Whether the task ends only when someone answers its token."""
        return self.pattern == "waitForTaskToken"


def classify(arn: str, default_region: str) -> Resource:
    """Classify a Resource ARN (the validator has already checked its shape)."""
    match = _ACTIVITY.match(arn)
    if match:
        return Resource(arn, "activity", name=match.group(3), region=match.group(1))
    match = _FUNCTION.match(arn)
    if match:
        return Resource(arn, "function", name=match.group(3), region=match.group(1))
    match = _SERVICE.match(arn)
    if match:
        service, rest = match.group(3), match.group(4)
        action, _, pattern = rest.partition(".")
        return Resource(
            arn,
            "service",
            region=match.group(1) or default_region,
            service=service,
            action=action,
            pattern=pattern,
        )
    return Resource(arn, "unknown")
