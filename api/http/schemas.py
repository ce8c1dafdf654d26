"""Pydantic models of the native REST API (/v1): request bodies, and the response shapes that
document it in OpenAPI. Responses keep AWS's member names (camelCase, epoch-second dates) so a
client can move between the REST API and the AWS wire API without renaming anything."""

from __future__ import annotations

from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field


class _Request(BaseModel):
    # Unknown members are refused: a misspelt ``role_arn`` should not be silently ignored.
    model_config = ConfigDict(extra="forbid")


class _Response(BaseModel):
    # Documentation only; the routes return the service's dicts unfiltered.
    model_config = ConfigDict(extra="allow")


class CreateStateMachine(_Request):
    """Body of ``POST /v1/state-machines``."""

    name: str = Field(description="1-80 characters; no white space, brackets or wildcards.")
    definition: dict[str, Any] | str = Field(
        description="The Amazon States Language definition, as a JSON object or as JSON text."
    )
    roleArn: str | None = Field(
        None, description="IAM role ARN; defaults to arn:aws:iam::<account>:role/stepwell."
    )
    type: Literal["STANDARD", "EXPRESS"] | None = Field(None, description="Default STANDARD.")


class UpdateStateMachine(_Request):
    """Body of ``PATCH /v1/state-machines/{arn}``: at least one member."""

    definition: dict[str, Any] | str | None = Field(
        None, description="A new definition (JSON object or JSON text)."
    )
    roleArn: str | None = Field(None, description="A new IAM role ARN.")


class StartExecution(_Request):
    """Body of ``POST /v1/state-machines/{arn}/executions`` (the body itself is optional)."""

    name: str | None = Field(None, description="Execution name; a UUID when absent.")
    input: Any = Field(
        None,
        description="The execution input: any JSON value. A string is read as JSON text, as "
        'AWS does ("{\\"a\\": 1}"); to pass a JSON string value, encode it ("\\"text\\""). '
        "Absent or null means {}.",
    )


class StopExecution(_Request):
    """Body of ``POST /v1/executions/{arn}/stop`` (the body itself is optional)."""

    error: str | None = Field(None, description="Error code recorded on the execution.")
    cause: str | None = Field(None, description="Human-readable cause.")


class StatusNotificationsRequest(_Request):
    """Body of ``PUT /v1/state-machines/{arn}/notifications``."""

    topicArns: list[str] = Field(  # noqa: N815 - the wire name
        description="SNS topic ARNs (at most 10); each ended execution is published to all of "
        "them. An empty list stops the notifications."
    )


class StatusNotifications(BaseModel):
    """The topics a state machine's ended executions are published to."""

    stateMachineArn: str  # noqa: N815 - the wire name
    topicArns: list[str]  # noqa: N815 - the wire name


class Problem(BaseModel):
    """An RFC 9457 problem document (media type ``application/problem+json``)."""

    type: str = Field(examples=["https://stepwell.dev/errors/StateMachineDoesNotExist"])
    title: str = Field(description="The AWS error code.", examples=["StateMachineDoesNotExist"])
    status: int = Field(examples=[404])
    detail: str = Field(description="The error message.")
    errors: list[dict[str, Any]] | None = Field(
        None, description="Request-validation errors only: one entry per invalid member."
    )


class StateMachine(_Response):
    """The DescribeStateMachine shape."""

    stateMachineArn: str
    name: str
    status: str
    definition: str
    roleArn: str
    type: str
    creationDate: float
    revisionId: str | None = None


class StateMachineSummary(_Response):
    """One entry of a state machine listing."""

    stateMachineArn: str
    name: str
    type: str
    creationDate: float


class StateMachineList(_Response):
    """A page of state machines; pass ``nextToken`` back for the next page."""

    stateMachines: list[StateMachineSummary]
    nextToken: str | None = None


class Execution(_Response):
    """The DescribeExecution shape; ``input`` and ``output`` are JSON text."""

    executionArn: str
    stateMachineArn: str
    name: str
    status: str
    startDate: float
    stopDate: float | None = None
    input: str | None = None
    output: str | None = None
    error: str | None = None
    cause: str | None = None
    stateMachineVersionArn: str | None = Field(
        None, description="The version it runs, when started from a version or an alias."
    )
    stateMachineAliasArn: str | None = Field(
        None, description="The alias it was started through, if any."
    )


class ExecutionSummary(_Response):
    """One entry of an execution listing."""

    executionArn: str
    stateMachineArn: str
    name: str
    status: str
    startDate: float
    stopDate: float | None = None


class ExecutionList(_Response):
    """A page of executions, newest first."""

    executions: list[ExecutionSummary]
    nextToken: str | None = None


class HistoryEvent(_Response):
    """One history event; its details sit in the ``*EventDetails`` member AWS uses."""

    id: int
    previousEventId: int
    type: str
    timestamp: float


class History(_Response):
    """A page of history events."""

    events: list[HistoryEvent]
    nextToken: str | None = None


# -- versions and aliases ------------------------------------------------------------------------


class PublishVersion(_Request):
    """Body of ``POST /v1/state-machines/{arn}/versions`` (the body itself is optional)."""

    description: str | None = Field(None, description="At most 256 characters.")
    revisionId: str | None = Field(
        None,
        description="Publish only if this is still the current revision (409 otherwise): "
        "the ``revisionId`` a describe answered.",
    )


class StateMachineVersion(StateMachine):
    """The DescribeStateMachine shape of a version: ``stateMachineArn`` is the version ARN."""

    description: str | None = None


class VersionSummary(_Response):
    """One entry of a version listing."""

    stateMachineVersionArn: str
    creationDate: float


class VersionList(_Response):
    """A page of versions, newest first."""

    stateMachineVersions: list[VersionSummary]
    nextToken: str | None = None


class Route(_Request):
    """One entry of an alias's routing: a version and the share of executions it gets."""

    stateMachineVersionArn: str = Field(
        description="A version ARN of the alias's state machine (``...:stateMachine:NAME:3``)."
    )
    weight: int = Field(description="Percentage of executions, 0-100; the weights sum to 100.")


class CreateAlias(_Request):
    """Body of ``POST /v1/state-machines/{arn}/aliases``."""

    name: str = Field(
        description="1-80 letters, digits, '-', '_' or '.', and not only digits "
        "(a number would read as a version)."
    )
    routingConfiguration: list[Route] = Field(
        description="One version (weight 100), or two versions of this state machine "
        "sharing the executions."
    )
    description: str | None = Field(None, description="At most 256 characters.")


class UpdateAlias(_Request):
    """Body of ``PATCH /v1/aliases/{arn}``: at least one member."""

    routingConfiguration: list[Route] | None = Field(None, description="A new routing.")
    description: str | None = Field(None, description="A new description.")


class Alias(_Response):
    """The DescribeStateMachineAlias shape."""

    stateMachineAliasArn: str
    name: str
    description: str | None = None
    routingConfiguration: list[dict[str, Any]]
    creationDate: float
    updateDate: float


class AliasSummary(_Response):
    """One entry of an alias listing."""

    stateMachineAliasArn: str
    creationDate: float


class AliasList(_Response):
    """A page of aliases, newest first."""

    stateMachineAliases: list[AliasSummary]
    nextToken: str | None = None
