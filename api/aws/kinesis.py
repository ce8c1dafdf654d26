"""The Kinesis Data Streams wire adapter (AWS JSON 1.1, ``X-Amz-Target: Kinesis_20131202.*``).

The JSON protocol carries Data blobs as base64 text; this adapter decodes them for
engine.services.streams and encodes the records GetRecords returns. boto3 speaks JSON to
Kinesis (not CBOR), and reads errors from ``__type`` (api.aws.protocol.json_error).
"""

from __future__ import annotations

import base64
import binascii
from typing import Any

from engine.errors import ServiceError
from engine.services.context import ServiceContext
from engine.services.streams import OPERATIONS

CONTENT_TYPE = "application/x-amz-json-1.1"
TARGET_PREFIX = "Kinesis_20131202."


def _blob(value: Any, member: str) -> Any:
    """A base64 Data member as bytes (a value of another type is left for validation)."""
    if not isinstance(value, str):
        return value
    try:
        return base64.b64decode(value, validate=True)
    except (binascii.Error, ValueError) as exc:
        raise ServiceError(
            f"Value of {member} is not valid base64 data.", "SerializationException"
        ) from exc


def _decode(operation: str, params: dict[str, Any]) -> dict[str, Any]:
    if operation == "PutRecord" and "Data" in params:
        params["Data"] = _blob(params["Data"], "Data")
    elif operation == "PutRecords" and isinstance(params.get("Records"), list):
        for n, record in enumerate(params["Records"], 1):
            if isinstance(record, dict) and "Data" in record:
                record["Data"] = _blob(record["Data"], f"Records.{n}.Data")
    return params


def _encode(result: dict[str, Any]) -> dict[str, Any]:
    for record in result.get("Records", ()):
        data = record.get("Data")
        if isinstance(data, bytes):
            record["Data"] = base64.b64encode(data).decode("ascii")
    return result


def dispatch(ctx: ServiceContext, operation: str, region: str, params: dict[str, Any]) -> Any:
    """Run one Kinesis operation on a decoded JSON body; returns the JSON answer."""
    handler = OPERATIONS.get(operation)
    if handler is None:
        raise ServiceError(
            f"Operation {operation} is not supported by this server.", "UnknownOperationException"
        )
    return _encode(handler(ctx, region, _decode(operation, params)))
