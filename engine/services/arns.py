"""ARNs and names, formatted and checked as AWS does (AWS-NOTES.md, "Values")."""

from __future__ import annotations

import re
import uuid

from engine.errors import InvalidArn, InvalidName

# AWS: names are 1-80 characters and must not contain white space, brackets < > { } [ ],
# wildcards ? *, special characters " # % \ ^ | ~ ` $ & , ; : /, or control characters.
_BAD_NAME = re.compile(r"[\s<>{}\[\]?*\"#%\\^|~`$&,;:/\x00-\x1f\x7f-\x9f]")
_ARN = re.compile(r"^arn:aws[a-z-]*:states:([a-z0-9-]+):(\d{12}):([A-Za-z]+):(.+)$")


def check_name(name: str, what: str = "name") -> None:
    """Raise InvalidName unless ``name`` is a valid Step Functions resource name."""
    if not isinstance(name, str) or not 1 <= len(name) <= 80 or _BAD_NAME.search(name):
        raise InvalidName(f"Invalid Name: '{name}'")


def state_machine_arn(region: str, account: str, name: str) -> str:
    """arn:aws:states:REGION:ACCOUNT:stateMachine:NAME"""
    return f"arn:aws:states:{region}:{account}:stateMachine:{name}"


def execution_arn(sm_arn: str, name: str, express: bool = False) -> str:
    """The execution ARN of execution ``name`` of state machine ``sm_arn``; Express executions
    look like ``...:express:SM:NAME:ID`` (names of Express executions may repeat)."""
    prefix, sm_name = sm_arn.split(":stateMachine:", 1)
    if express:
        return f"{prefix}:express:{sm_name}:{name}:{uuid.uuid4()}"
    return f"{prefix}:execution:{sm_name}:{name}"


def parse(arn: str, resource_type: str) -> tuple[str, str, str]:
    """(region, account, resource part) of a states ARN of the given type, or InvalidArn."""
    match = _ARN.match(arn or "") if isinstance(arn, str) else None
    kinds = {resource_type, "express"} if resource_type == "execution" else {resource_type}
    if match is None or match.group(3) not in kinds:
        raise InvalidArn(
            f"Invalid Arn: 'Resource type not valid in this context: {arn}'"
            if match
            else f"Invalid Arn: '{arn}'"
        )
    return match.group(1), match.group(2), match.group(4)


def state_machine_of_execution(arn: str) -> str:
    """The state machine ARN an execution ARN belongs to."""
    region, account, rest = parse(arn, "execution")
    sm_name = rest.split(":", 1)[0]
    return f"arn:aws:states:{region}:{account}:stateMachine:{sm_name}"


def split_qualifier(arn: str) -> tuple[str, str | None]:
    """(state machine ARN, qualifier) of a state machine ARN that may name a version
    (``...:stateMachine:NAME:3``) or an alias (``...:stateMachine:NAME:prod``)."""
    region, account, rest = parse(arn, "stateMachine")
    name, _, qualifier = rest.partition(":")
    return state_machine_arn(region, account, name), qualifier or None
