"""Rules particular to one state type: Task, Wait, Fail, Map (with its ItemReader, ItemBatcher,
ResultWriter, ProcessorConfig and Label) and Parallel. Field presence is ``fields``'s job."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any, Final

from engine.asl.validation import resources
from engine.asl.validation.fields import at_most_one, check_object_fields, require
from engine.asl.validation.handlers import check_catch, check_retry
from engine.asl.validation.report import JSONATA, JSONPATH, Report, child, indexed
from engine.asl.validation.values import (
    check_assign,
    check_jsonata_value,
    check_number,
    check_path,
    check_path_or_intrinsic,
    check_payload_template,
    dynamic_value_problem,
    is_jsonata,
    is_timestamp,
)

if TYPE_CHECKING:
    from engine.asl.validation.structure import Walker

_MAX_TIMEOUT: Final = 99_999_999
_WAIT_FIELDS: Final = ("Seconds", "Timestamp", "SecondsPath", "TimestampPath")
# AWS "Map state Label": at most 40 characters, none of these (nor control characters).
MAX_LABEL: Final = 40
_LABEL_FORBIDDEN: Final = frozenset(" \t\n\r<>{}[]?*\"#%\\^|~`$&,;:/'")
_MODES: Final = ("INLINE", "DISTRIBUTED")
_EXECUTION_TYPES: Final = ("STANDARD", "EXPRESS")
_PROCESSOR_FIELDS: Final = frozenset({"ProcessorConfig", "StartAt", "States", "Comment"})
_PROCESSOR_CONFIG_FIELDS: Final = frozenset({"Mode", "ExecutionType"})
_READER_FIELDS: Final = frozenset({"Resource", "Parameters", "Arguments", "ReaderConfig"})
_READER_CONFIG_FIELDS: Final = frozenset(
    {
        "InputType",
        "CSVHeaderLocation",
        "CSVHeaders",
        "CSVDelimiter",
        "MaxItems",
        "MaxItemsPath",
        "ManifestType",
        "Transformation",
    }
)
_BATCHER_FIELDS: Final = frozenset(
    {
        "MaxItemsPerBatch",
        "MaxItemsPerBatchPath",
        "MaxInputBytesPerBatch",
        "MaxInputBytesPerBatchPath",
        "BatchInput",
    }
)
_WRITER_FIELDS: Final = frozenset({"Resource", "Parameters", "Arguments", "WriterConfig"})


def check_common(w: Walker, state: dict[str, Any], location: str, language: str) -> None:
    """Input/output processing fields shared by several state types."""
    report = w.report
    if language == JSONPATH:
        for field in ("InputPath", "OutputPath"):
            if field in state:
                check_path(report, state[field], field, location, nullable=True)
        if "ResultPath" in state:
            check_path(
                report, state["ResultPath"], "ResultPath", location, reference=True, nullable=True
            )
        for field in ("Parameters", "ResultSelector"):
            if field in state:
                check_payload_template(report, state[field], child(location, field))
    else:
        for field in ("Output", "Arguments"):
            if field in state:
                check_jsonata_value(report, state[field], field, location)
    if "Assign" in state:
        check_assign(report, state["Assign"], location, language)
    if "Retry" in state:
        check_retry(report, state["Retry"], location)
    if "Catch" in state:
        check_catch(report, state["Catch"], location, language)


def check_task(w: Walker, state: dict[str, Any], location: str, language: str) -> None:
    """Resource, timeouts and Credentials (ASL spec, "Task State"; AWS "Task workflow state")."""
    report = w.report
    resource = state.get("Resource")
    if "Resource" in state:
        if not isinstance(resource, str):
            report.schema(
                "The value for the field 'Resource' must be a string", child(location, "Resource")
            )
        elif not resources.is_task_resource(resource):
            report.schema(resources.not_recognized(resource), child(location, "Resource"))
    for field, path_field in (
        ("TimeoutSeconds", "TimeoutSecondsPath"),
        ("HeartbeatSeconds", "HeartbeatSecondsPath"),
    ):
        at_most_one(report, state, (field, path_field), location)
        if field in state:
            check_number(
                report,
                state[field],
                field,
                location,
                minimum=1,
                maximum=_MAX_TIMEOUT,
                jsonata=language == JSONATA,
            )
        if path_field in state and language == JSONPATH:
            check_path(report, state[path_field], path_field, location, reference=True)
    timeout, heartbeat = state.get("TimeoutSeconds"), state.get("HeartbeatSeconds")
    if (
        isinstance(timeout, int)
        and isinstance(heartbeat, int)
        and not isinstance(timeout, bool)
        and not isinstance(heartbeat, bool)
        and heartbeat >= timeout
    ):
        report.schema(
            "HeartbeatSeconds must be smaller than TimeoutSeconds",
            child(location, "HeartbeatSeconds"),
        )
    if "Credentials" in state:
        _check_credentials(report, state["Credentials"], location, language)


def _check_credentials(report: Report, credentials: Any, location: str, language: str) -> None:
    where = child(location, "Credentials")
    if not isinstance(credentials, dict):
        report.schema("The value for the field 'Credentials' must be an object", where)
        return
    if "RoleArn" in credentials:
        role = credentials["RoleArn"]
        if language == JSONATA and is_jsonata(role):
            check_jsonata_value(report, role, "RoleArn", where)
        elif not isinstance(role, str):
            report.schema(
                "The value for the field 'RoleArn' must be a string", child(where, "RoleArn")
            )
    elif language == JSONPATH and "RoleArn.$" in credentials:
        if dynamic_value_problem(credentials["RoleArn.$"]) is not None:
            report.schema(
                "The value for the field 'RoleArn.$' must be a valid JSONPath or a "
                "valid intrinsic function call",
                where,
            )
    else:
        # Recorded: an empty or unrelated Credentials object names only the missing RoleArn.
        report.schema("The field 'RoleArn' is required but was missing", where)


def check_wait(w: Walker, state: dict[str, Any], location: str, language: str) -> None:
    """Exactly one of Seconds, Timestamp, SecondsPath, TimestampPath (ASL spec, "Wait State")."""
    report = w.report
    present = at_most_one(report, state, _WAIT_FIELDS, location)
    if present == 0:
        report.schema(
            f"Exactly one of these fields is required: [{', '.join(_WAIT_FIELDS)}]", location
        )
    if "Seconds" in state:
        check_number(
            report,
            state["Seconds"],
            "Seconds",
            location,
            minimum=0,
            maximum=_MAX_TIMEOUT,
            jsonata=language == JSONATA,
        )
    if "Timestamp" in state:
        value = state["Timestamp"]
        if language == JSONATA and is_jsonata(value):
            check_jsonata_value(report, value, "Timestamp", location)
        elif not is_timestamp(value):
            report.schema("String does not match RFC3339 timestamp", child(location, "Timestamp"))
    if language == JSONPATH:
        for field in ("SecondsPath", "TimestampPath"):
            if field in state:
                check_path(report, state[field], field, location, reference=True)


def check_fail(w: Walker, state: dict[str, Any], location: str, language: str) -> None:
    """Error/ErrorPath and Cause/CausePath are each exclusive (ASL spec, "Fail State")."""
    report = w.report
    for field, path_field in (("Error", "ErrorPath"), ("Cause", "CausePath")):
        at_most_one(report, state, (field, path_field), location)
        if field in state:
            value = state[field]
            if language == JSONATA and is_jsonata(value):
                check_jsonata_value(report, value, field, location)
            elif not isinstance(value, str):
                report.schema(
                    f"The value for the field '{field}' must be a string", child(location, field)
                )
        if path_field in state and language == JSONPATH:
            check_path_or_intrinsic(report, state[path_field], path_field, location)


def check_parallel(w: Walker, state: dict[str, Any], location: str, language: str) -> None:
    """Branches: a non-empty array of state machines, each its own scope."""
    branches = state.get("Branches")
    if "Branches" not in state:
        return
    if not isinstance(branches, list) or not branches:
        w.report.schema(
            "The value for the field 'Branches' must be a non-empty array",
            child(location, "Branches"),
        )
        return
    for index, branch in enumerate(branches):
        w.scope(
            branch,
            indexed(location, "Branches", index),
            frozenset({"StartAt", "States", "Comment"}),
        )


def check_map(w: Walker, state: dict[str, Any], location: str, language: str) -> None:
    """Map: its processor, items, concurrency and tolerance, and the Distributed Map fields."""
    report = w.report
    processors = [field for field in ("ItemProcessor", "Iterator") if field in state]
    if not processors:
        report.schema("These fields are required: [ItemProcessor]", location)
    elif len(processors) > 1:
        report.schema(
            "There should only be one of the following fields: [ItemProcessor, Iterator]", location
        )
    jsonata = language == JSONATA
    if "ItemsPath" in state and not jsonata:
        check_path(report, state["ItemsPath"], "ItemsPath", location, reference=True)
    if "Items" in state and jsonata:
        items = state["Items"]
        if not isinstance(items, list) and not is_jsonata(items):
            report.schema(
                "The value for the field 'Items' must be an array or a JSONata expression",
                child(location, "Items"),
            )
        check_jsonata_value(report, items, "Items", location)
    for field in ("ItemSelector", "Parameters"):
        if field in state:
            if jsonata:
                check_jsonata_value(report, state[field], field, location)
            else:
                check_payload_template(report, state[field], child(location, field))
    # (field, minimum, maximum, integer): AWS "Map state" fields and their bounds.
    for field, minimum, maximum, integer in (
        ("MaxConcurrency", 0, None, True),
        ("ToleratedFailureCount", 0, None, True),
        ("ToleratedFailurePercentage", 0, 100, False),
    ):
        at_most_one(report, state, (field, field + "Path"), location)
        if field in state:
            check_number(
                report,
                state[field],
                field,
                location,
                minimum=minimum,
                maximum=maximum,
                integer=integer,
                jsonata=jsonata,
            )
        if field + "Path" in state and not jsonata:
            check_path(report, state[field + "Path"], field + "Path", location, reference=True)
    if "Label" in state:
        _check_label(report, state["Label"], child(location, "Label"))
    if "ItemReader" in state:
        _check_reader(report, state["ItemReader"], child(location, "ItemReader"), language)
    if "ItemBatcher" in state:
        _check_batcher(report, state["ItemBatcher"], child(location, "ItemBatcher"), language)
    if "ResultWriter" in state:
        _check_writer(report, state["ResultWriter"], child(location, "ResultWriter"), language)
    for field in processors:
        _check_processor(w, state[field], child(location, field))


def _check_processor(w: Walker, processor: Any, location: str) -> None:
    if isinstance(processor, dict) and "ProcessorConfig" in processor:
        config = processor["ProcessorConfig"]
        where = child(location, "ProcessorConfig")
        if not isinstance(config, dict):
            w.report.schema("The value for the field 'ProcessorConfig' must be an object", where)
        else:
            check_object_fields(w.report, config, _PROCESSOR_CONFIG_FIELDS, where)
            _check_enum(w.report, config, "Mode", _MODES, where)
            _check_enum(w.report, config, "ExecutionType", _EXECUTION_TYPES, where)
    w.scope(processor, location, _PROCESSOR_FIELDS)


def _check_enum(
    report: Report, node: dict[str, Any], field: str, values: tuple[str, ...], location: str
) -> None:
    if field in node and node[field] not in values:
        report.schema(
            f"The value for the field '{field}' must be one of [{', '.join(values)}]",
            child(location, field),
        )


def _check_label(report: Report, label: Any, location: str) -> None:
    """AWS "Map state": Label is 1-40 characters, without the characters names may not hold."""
    if not isinstance(label, str):
        report.schema("The value for the field 'Label' must be a string", location)
    elif not label:
        report.label("Label cannot be empty", location)
    elif len(label) > MAX_LABEL:
        report.label(f"Label cannot exceed {MAX_LABEL} characters", location)
    else:
        for char in label:
            if char in _LABEL_FORBIDDEN or ord(char) < 0x20 or 0x7F <= ord(char) <= 0x9F:
                report.label(f"Label contains invalid character: {char!r}", location)
                break


def _check_reader(report: Report, reader: Any, location: str, language: str) -> None:
    if not isinstance(reader, dict):
        report.schema("The value for the field 'ItemReader' must be an object", location)
        return
    check_object_fields(report, reader, _READER_FIELDS, location, language)
    if require(report, reader, ("Resource",), location):
        _check_map_resource(report, reader["Resource"], location, resources.ITEM_READER_ACTIONS)
    _check_map_payload(report, reader, location, language)
    config = reader.get("ReaderConfig")
    if isinstance(config, dict):
        where = child(location, "ReaderConfig")
        check_object_fields(report, config, _READER_CONFIG_FIELDS, where, language)
        at_most_one(report, config, ("MaxItems", "MaxItemsPath"), where)
        if "MaxItems" in config:
            check_number(
                report,
                config["MaxItems"],
                "MaxItems",
                where,
                minimum=0,
                maximum=100_000_000,
                jsonata=language == JSONATA,
            )
        if "MaxItemsPath" in config and language == JSONPATH:
            check_path(report, config["MaxItemsPath"], "MaxItemsPath", where, reference=True)
    elif config is not None:
        report.schema(
            "The value for the field 'ReaderConfig' must be an object",
            child(location, "ReaderConfig"),
        )


def _check_batcher(report: Report, batcher: Any, location: str, language: str) -> None:
    if not isinstance(batcher, dict):
        report.schema("The value for the field 'ItemBatcher' must be an object", location)
        return
    check_object_fields(report, batcher, _BATCHER_FIELDS, location, language)
    for field in ("MaxItemsPerBatch", "MaxInputBytesPerBatch"):
        at_most_one(report, batcher, (field, field + "Path"), location)
        if field in batcher:
            check_number(
                report, batcher[field], field, location, minimum=0, jsonata=language == JSONATA
            )
        if field + "Path" in batcher and language == JSONPATH:
            check_path(report, batcher[field + "Path"], field + "Path", location, reference=True)
    if "BatchInput" in batcher:
        if language == JSONPATH:
            check_payload_template(report, batcher["BatchInput"], child(location, "BatchInput"))
        else:
            check_jsonata_value(report, batcher["BatchInput"], "BatchInput", location)


def _check_writer(report: Report, writer: Any, location: str, language: str) -> None:
    if not isinstance(writer, dict):
        report.schema("The value for the field 'ResultWriter' must be an object", location)
        return
    check_object_fields(report, writer, _WRITER_FIELDS, location, language)
    if "Resource" in writer:
        _check_map_resource(report, writer["Resource"], location, resources.RESULT_WRITER_ACTIONS)
    _check_map_payload(report, writer, location, language)


def _check_map_resource(
    report: Report, resource: Any, location: str, allowed: frozenset[str]
) -> None:
    if not isinstance(resource, str) or not resources.is_map_resource(resource, allowed):
        report.schema(resources.not_recognized(str(resource)), child(location, "Resource"))


def _check_map_payload(report: Report, node: dict[str, Any], location: str, language: str) -> None:
    if "Parameters" in node and language == JSONPATH:
        check_payload_template(report, node["Parameters"], child(location, "Parameters"))
    if "Arguments" in node and language == JSONATA:
        check_jsonata_value(report, node["Arguments"], "Arguments", location)


CHECKS: Final = {
    "Task": check_task,
    "Wait": check_wait,
    "Fail": check_fail,
    "Parallel": check_parallel,
    "Map": check_map,
}
