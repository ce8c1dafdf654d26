"""The README's task worker: a function ``hello`` and a state machine that calls it.

Run a server (``make run``), then the worker::

    stepwell worker examples.hello_worker:worker

and start an execution (``python -m examples.hello_worker`` does both steps with boto3).
"""

from __future__ import annotations

import json
from typing import Any

from workers.sdk import Worker

worker = Worker(name="hello-worker", concurrency=4)


@worker.function("hello")
def hello(event: dict[str, Any]) -> dict[str, str]:
    """Greet the caller by name."""
    return {"greeting": f"Hello, {event['name']}!"}


#: A state machine calling ``hello`` as a Lambda function, retrying if a worker shuts down.
DEFINITION: dict[str, Any] = {
    "Comment": "Say hello through a Stepwell task worker",
    "StartAt": "Hello",
    "States": {
        "Hello": {
            "Type": "Task",
            "Resource": "arn:aws:lambda:us-east-1:123456789012:function:hello",
            "Retry": [{"ErrorEquals": ["Worker.Shutdown"], "MaxAttempts": 3}],
            "End": True,
        }
    },
}


def main(endpoint: str | None = None) -> None:
    """Create the state machine, start an execution and print its output."""
    import os
    import time

    import boto3

    sfn = boto3.client(
        "stepfunctions",
        endpoint_url=endpoint or os.environ.get("STEPWELL_ENDPOINT", "http://127.0.0.1:8080"),
        region_name="us-east-1",
        aws_access_key_id="stepwell",
        aws_secret_access_key="stepwell",
    )
    machine = sfn.create_state_machine(
        name="hello",
        definition=json.dumps(DEFINITION),
        roleArn="arn:aws:iam::123456789012:role/stepwell",
    )["stateMachineArn"]
    execution = sfn.start_execution(stateMachineArn=machine, input='{"name": "World"}')
    while True:
        described = sfn.describe_execution(executionArn=execution["executionArn"])
        if described["status"] != "RUNNING":
            break
        time.sleep(0.2)
    print(described["status"], described.get("output"))


if __name__ == "__main__":
    main()
