"""The task-worker SDK against a real server (in a thread), on SQLite and PostgreSQL."""

from __future__ import annotations

import asyncio
import json
import threading
import time
from typing import Any

import httpx
import pytest

from tests.support.server import free_port
from workers.sdk import Worker

ROLE = "arn:aws:iam::123456789012:role/test"
LAMBDA = "arn:aws:lambda:us-east-1:123456789012:function:"


def make(endpoint: str, **options: Any) -> Worker:
    """A worker with short long-polls: the server finishes an abandoned poll before it can
    shut down, so tests keep them brief."""
    return Worker(endpoint=endpoint, poll_seconds=1, **options)


def serve(workers: list[Worker], worker: Worker) -> Worker:
    worker.start()
    workers.append(worker)
    return worker


def machine(sfn: Any, name: str, states: dict[str, Any], start: str = "Work") -> str:
    definition = {"StartAt": start, "States": states}
    return sfn.create_state_machine(name=name, definition=json.dumps(definition), roleArn=ROLE)[
        "stateMachineArn"
    ]


def run(sfn: Any, sm: str, value: Any = None, timeout: float = 15) -> dict[str, Any]:
    arn = sfn.start_execution(stateMachineArn=sm, input=json.dumps(value or {}))["executionArn"]
    return finish(sfn, arn, timeout)


def finish(sfn: Any, arn: str, timeout: float = 15) -> dict[str, Any]:
    deadline = time.time() + timeout
    while True:
        described = sfn.describe_execution(executionArn=arn)
        if described["status"] != "RUNNING" or time.time() > deadline:
            return described
        time.sleep(0.02)


def events(sfn: Any, arn: str) -> list[dict[str, Any]]:
    return sfn.get_execution_history(executionArn=arn, maxResults=1000)["events"]


def test_activity_handler(sfn: Any, endpoint: str, workers: list[Worker]) -> None:
    worker = make(endpoint, name="acts", create_activities=True)

    @worker.activity("resize")  # a bare name: created at start, resolved to the server's ARN
    def resize(event: dict[str, Any]) -> dict[str, Any]:
        return {"width": event["width"] // 2}

    assert worker.activities == ["arn:aws:states:us-east-1:123456789012:activity:resize"]
    serve(workers, worker)
    arn = worker.activities[0]
    sm = machine(sfn, "act", {"Work": {"Type": "Task", "Resource": arn, "End": True}})
    described = run(sfn, sm, {"width": 640})
    assert described["status"] == "SUCCEEDED", described
    assert json.loads(described["output"]) == {"width": 320}
    started = [e for e in events(sfn, described["executionArn"]) if e["type"] == "ActivityStarted"]
    assert started[0]["activityStartedEventDetails"]["workerName"] == "acts"


def test_function_handler_plain_arn_and_invoke(
    sfn: Any, endpoint: str, workers: list[Worker]
) -> None:
    worker = make(endpoint, concurrency=2)

    @worker.function("greet")
    def greet(event: dict[str, Any]) -> dict[str, Any]:
        return {"greeting": f"Hello, {event['name']}!", "ü": 0.0}

    @worker.function("raw")
    def raw(event: Any) -> bytes:
        return b'"HelloWorld!"'

    serve(workers, worker)
    time.sleep(0.3)  # the first poll announces the functions
    sm = machine(
        sfn,
        "fn",
        {
            "Work": {
                "Type": "Task",
                "Resource": f"{LAMBDA}greet",
                "ResultPath": "$.first",
                "Next": "Invoke",
            },
            "Invoke": {
                "Type": "Task",
                "Resource": "arn:aws:states:::lambda:invoke",
                "Parameters": {"FunctionName": f"{LAMBDA}greet", "Payload": {"name.$": "$.name"}},
                "ResultSelector": {"Payload.$": "$.Payload", "StatusCode.$": "$.StatusCode"},
                "ResultPath": "$.invoked",
                "Next": "Raw",
            },
            "Raw": {
                "Type": "Task",
                "Resource": "arn:aws:states:::lambda:invoke",
                "Parameters": {"FunctionName": "raw"},
                "ResultSelector": {"Payload.$": "$.Payload", "Length.$": "$.SdkHttpMetadata"},
                "ResultPath": "$.raw",
                "End": True,
            },
        },
    )
    described = run(sfn, sm, {"name": "World"})
    assert described["status"] == "SUCCEEDED", described
    output = json.loads(described["output"])
    assert output["first"] == {"greeting": "Hello, World!", "ü": 0.0}
    assert output["invoked"]["StatusCode"] == 200
    assert output["invoked"]["Payload"] == {"greeting": "Hello, World!", "ü": 0.0}
    assert output["raw"]["Payload"] == "HelloWorld!"
    # json.dumps defaults: ", " / ": " separators and \\u escapes decide the byte length.
    expected = json.dumps({"greeting": "Hello, World!", "ü": 0.0})
    history = events(sfn, described["executionArn"])
    invoked = [e for e in history if e["type"] == "TaskSucceeded"][0]
    headers = json.loads(invoked["taskSucceededEventDetails"]["output"])["SdkHttpMetadata"]
    assert headers["HttpHeaders"]["Content-Length"] == str(len(expected))
    assert output["raw"]["Length"]["HttpHeaders"]["Content-Length"] == str(len('"HelloWorld!"'))


class OutOfPaper(Exception):
    """A user-defined error."""


def test_exceptions_become_error_names(sfn: Any, endpoint: str, workers: list[Worker]) -> None:
    worker = make(endpoint, create_activities=True)

    @worker.function("print")
    def print_it(event: Any) -> None:
        raise OutOfPaper("tray 2 is empty")

    @worker.activity("staple")
    def staple(event: Any) -> None:
        raise ValueError("no staples")

    serve(workers, worker)
    time.sleep(0.3)
    catch = [{"ErrorEquals": ["OutOfPaper"], "ResultPath": "$.error", "Next": "Staple"}]
    sm = machine(
        sfn,
        "errors",
        {
            "Work": {"Type": "Task", "Resource": f"{LAMBDA}print", "Catch": catch, "End": True},
            "Staple": {"Type": "Task", "Resource": worker.activities[0], "End": True},
        },
    )
    described = run(sfn, sm)
    assert described["status"] == "FAILED"
    assert described["error"] == "ValueError"
    assert described["cause"] == "no staples"
    history = events(sfn, described["executionArn"])
    failed = [e for e in history if e["type"] == "LambdaFunctionFailed"][0]
    details = failed["lambdaFunctionFailedEventDetails"]
    assert details["error"] == "OutOfPaper"
    assert details["cause"].startswith('{"errorMessage": "tray 2 is empty", "errorType": ')
    document = json.loads(details["cause"])
    assert list(document) == ["errorMessage", "errorType", "requestId", "stackTrace"]
    assert document["errorType"] == "OutOfPaper"
    (frame,) = document["stackTrace"]
    assert frame == (
        f'  File "{__file__}", line {print_it.__code__.co_firstlineno + 2}, in print_it\n'
        '    raise OutOfPaper("tray 2 is empty")\n'
    )


def test_async_handler(sfn: Any, endpoint: str, workers: list[Worker]) -> None:
    worker = make(endpoint, concurrency=4)
    seen: list[float] = []

    @worker.function("slow-echo")
    async def slow_echo(event: Any) -> Any:
        seen.append(time.monotonic())
        await asyncio.sleep(0.3)
        return event

    serve(workers, worker)
    time.sleep(0.3)
    sm = machine(
        sfn,
        "async",
        {
            "Work": {
                "Type": "Map",
                "ItemProcessor": {
                    "StartAt": "Echo",
                    "States": {
                        "Echo": {"Type": "Task", "Resource": f"{LAMBDA}slow-echo", "End": True}
                    },
                },
                "End": True,
            }
        },
    )
    began = time.monotonic()
    described = run(sfn, sm, [1, 2, 3, 4])
    assert described["status"] == "SUCCEEDED", described
    assert json.loads(described["output"]) == [1, 2, 3, 4]
    # Four async handlers on one event loop overlap: far less than 4 x 0.3 s.
    assert max(seen) - min(seen) < 0.25
    assert time.monotonic() - began < 1.2


def test_concurrency_is_bounded(sfn: Any, endpoint: str, workers: list[Worker]) -> None:
    worker = make(endpoint, concurrency=3, create_activities=True)
    lock = threading.Lock()
    now = {"running": 0, "peak": 0, "done": 0}

    @worker.activity("count")
    def count(event: Any) -> Any:
        with lock:
            now["running"] += 1
            now["peak"] = max(now["peak"], now["running"])
        time.sleep(0.15)
        with lock:
            now["running"] -= 1
            now["done"] += 1
        return event

    serve(workers, worker)
    task = {"Type": "Task", "Resource": worker.activities[0], "End": True}
    sm = machine(
        sfn,
        "bounded",
        {
            "Work": {
                "Type": "Map",
                "ItemProcessor": {"StartAt": "Count", "States": {"Count": task}},
                "End": True,
            }
        },
    )
    described = run(sfn, sm, list(range(10)))
    assert described["status"] == "SUCCEEDED", described
    assert now == {"running": 0, "peak": 3, "done": 10}


def test_heartbeats_keep_a_task_alive(sfn: Any, endpoint: str, workers: list[Worker]) -> None:
    worker = make(endpoint, heartbeat_interval=0.5, create_activities=True)

    @worker.activity("long")
    def long(event: Any) -> str:
        time.sleep(3)  # longer than HeartbeatSeconds
        return "done"

    serve(workers, worker)
    sm = machine(
        sfn,
        "alive",
        {
            "Work": {
                "Type": "Task",
                "Resource": worker.activities[0],
                "HeartbeatSeconds": 2,
                "End": True,
            }
        },
    )
    described = run(sfn, sm)
    assert described["status"] == "SUCCEEDED", described
    assert json.loads(described["output"]) == "done"


def test_a_timed_out_task_is_dropped(sfn: Any, endpoint: str, workers: list[Worker]) -> None:
    worker = make(endpoint, heartbeat_interval=5, create_activities=True)
    finished = threading.Event()

    @worker.activity("late")
    def late(event: Any) -> str:
        time.sleep(1.5)
        finished.set()
        return "too late"

    serve(workers, worker)
    sm = machine(
        sfn,
        "late",
        {
            "Work": {
                "Type": "Task",
                "Resource": worker.activities[0],
                "TimeoutSeconds": 1,
                "End": True,
            }
        },
    )
    described = run(sfn, sm)
    assert described["status"] == "FAILED"
    assert described["error"] == "States.Timeout"
    assert finished.wait(3)
    time.sleep(0.2)
    assert worker.in_flight == 0  # the TaskTimedOut answer was taken in stride


def test_stop_fails_unfinished_tasks(sfn: Any, endpoint: str, workers: list[Worker]) -> None:
    worker = make(endpoint, create_activities=True)
    release = threading.Event()

    @worker.activity("stuck")
    def stuck(event: Any) -> str:  # a plain handler: its thread cannot be interrupted
        release.wait(10)
        return "never reported"

    @worker.function("stuck-fn")
    async def stuck_fn(event: Any) -> str:  # an async handler: cancelled at shutdown
        await asyncio.sleep(10)
        return "never reported"

    worker.start()
    time.sleep(0.3)
    catch = [{"ErrorEquals": ["Worker.Shutdown"], "ResultPath": "$.error", "Next": "Caught"}]
    caught = {"Type": "Pass", "End": True}
    activity = machine(
        sfn,
        "shutdown-activity",
        {
            "Work": {"Type": "Task", "Resource": worker.activities[0], "Catch": catch, "End": True},
            "Caught": caught,
        },
    )
    function = machine(
        sfn,
        "shutdown-function",
        {
            "Work": {"Type": "Task", "Resource": f"{LAMBDA}stuck-fn", "Catch": catch, "End": True},
            "Caught": caught,
        },
    )
    arns = [sfn.start_execution(stateMachineArn=sm)["executionArn"] for sm in (activity, function)]
    deadline = time.time() + 5
    while worker.in_flight < 2 and time.time() < deadline:
        time.sleep(0.02)
    assert worker.in_flight == 2
    began = time.monotonic()
    worker.stop(grace=0.3)
    assert time.monotonic() - began < 3
    release.set()
    outputs = []
    for arn in arns:
        described = finish(sfn, arn)
        assert described["status"] == "SUCCEEDED", described
        outputs.append(json.loads(described["output"])["error"])
    assert [o["Error"] for o in outputs] == ["Worker.Shutdown", "Worker.Shutdown"]
    history = events(sfn, arns[1])
    assert [e["type"] for e in history if e["type"].startswith("LambdaFunction")] == [
        "LambdaFunctionScheduled",
        "LambdaFunctionStarted",
        "LambdaFunctionFailed",
    ]


def test_stop_finishes_in_flight_work_within_grace(
    sfn: Any, endpoint: str, workers: list[Worker]
) -> None:
    worker = make(endpoint, create_activities=True)

    @worker.activity("quick")
    def quick(event: Any) -> str:
        time.sleep(0.5)
        return "finished"

    worker.start()
    sm = machine(
        sfn, "graceful", {"Work": {"Type": "Task", "Resource": worker.activities[0], "End": True}}
    )
    arn = sfn.start_execution(stateMachineArn=sm)["executionArn"]
    deadline = time.time() + 5
    while worker.in_flight == 0 and time.time() < deadline:
        time.sleep(0.01)
    worker.stop(grace=5)
    described = finish(sfn, arn)
    assert described["status"] == "SUCCEEDED", described
    assert json.loads(described["output"]) == "finished"


def test_unreachable_server_is_retried_not_fatal(caplog: pytest.LogCaptureFixture) -> None:
    worker = Worker(endpoint=f"http://127.0.0.1:{free_port()}", max_backoff=0.2)
    worker.add_function("nobody", lambda event: event)
    with caplog.at_level("WARNING", logger="stepwell.worker"):
        worker.start()
        time.sleep(0.8)
        began = time.monotonic()
        worker.stop(grace=1)
    assert time.monotonic() - began < 2
    assert any("unavailable" in record.getMessage() for record in caplog.records)


def test_hello_example(sfn: Any, endpoint: str, workers: list[Worker]) -> None:
    from examples import hello_worker

    worker = make(endpoint)
    worker.add_function("hello", hello_worker.hello)
    serve(workers, worker)
    time.sleep(0.3)
    sm = sfn.create_state_machine(
        name="hello", definition=json.dumps(hello_worker.DEFINITION), roleArn=ROLE
    )["stateMachineArn"]
    described = run(sfn, sm, {"name": "World"})
    assert described["status"] == "SUCCEEDED", described
    assert json.loads(described["output"]) == {"greeting": "Hello, World!"}


@pytest.mark.parametrize(
    "target, message",
    [
        ("examples.nowhere:worker", "cannot import module"),
        ("examples.hello_worker:nobody", "has no attribute"),
        ("examples.hello_worker", "MODULE:ATTRIBUTE"),
        ("examples.hello_worker:DEFINITION", "not a workers.sdk.Worker"),
    ],
)
def test_cli_worker_bad_target(target: str, message: str) -> None:
    from typer.testing import CliRunner

    from api.cli.main import app

    result = CliRunner().invoke(app, ["worker", target])
    assert result.exit_code == 2
    flat = "".join(c for c in result.output if not c.isspace() and c != "│")
    assert message.replace(" ", "") in flat


def test_cli_activities(endpoint: str) -> None:
    from typer.testing import CliRunner

    from api.cli.main import app

    runner = CliRunner()
    created = runner.invoke(app, ["activities", "create", "resize", "--endpoint", endpoint])
    assert created.exit_code == 0, created.output
    arn = created.output.strip()
    assert arn == "arn:aws:states:us-east-1:123456789012:activity:resize"
    listed = runner.invoke(app, ["activities", "list", "--json", "--endpoint", endpoint])
    assert listed.exit_code == 0, listed.output
    assert [a["name"] for a in json.loads(listed.output)] == ["resize"]
    deleted = runner.invoke(app, ["activities", "delete", arn, "--endpoint", endpoint])
    assert deleted.exit_code == 0, deleted.output
    listed = runner.invoke(app, ["activities", "list", "--json", "--endpoint", endpoint])
    assert json.loads(listed.output) == []
    missing = runner.invoke(app, ["activities", "delete", "not-an-arn", "--endpoint", endpoint])
    assert missing.exit_code == 1


def test_results_the_server_cannot_take(sfn: Any, endpoint: str, workers: list[Worker]) -> None:
    worker = make(endpoint, create_activities=True)

    @worker.activity("huge")
    def huge(event: Any) -> str:
        return "a" * 300_000  # over the 256 KiB output limit: InvalidOutput

    @worker.function("unencodable")
    def unencodable(event: Any) -> Any:
        return {1, 2}  # what the Lambda runtime cannot marshal

    serve(workers, worker)
    time.sleep(0.3)
    too_big = machine(
        sfn, "huge", {"Work": {"Type": "Task", "Resource": worker.activities[0], "End": True}}
    )
    described = run(sfn, too_big)
    assert (described["status"], described["error"]) == ("FAILED", "InvalidOutput")
    odd = machine(
        sfn, "odd", {"Work": {"Type": "Task", "Resource": f"{LAMBDA}unencodable", "End": True}}
    )
    described = run(sfn, odd)
    assert (described["status"], described["error"]) == ("FAILED", "Runtime.MarshalError")
    assert json.loads(described["cause"])["errorMessage"].startswith("Unable to marshal response")


def test_a_waiting_rest_poll_is_handed_a_function_task(ctx: Any, sfn: Any, endpoint: str) -> None:

    got: list[httpx.Response] = []
    body = {"workerName": "rest", "functions": ["double"], "waitSeconds": 20}
    with httpx.Client(base_url=endpoint, timeout=30) as http:
        http.post("/v1/tasks/poll", json={**body, "waitSeconds": 0})  # announces the function
        poller = threading.Thread(target=lambda: got.append(http.post("/v1/tasks/poll", json=body)))
        poller.start()
        deadline = time.time() + 10
        while ctx.handoffs.waiting("function:double") < 1:
            assert time.time() < deadline, "the poll never started waiting"
            time.sleep(0.01)
        sm = machine(
            sfn, "handed", {"Work": {"Type": "Task", "Resource": f"{LAMBDA}double", "End": True}}
        )
        arn = sfn.start_execution(stateMachineArn=sm, input='{"n": 21}')["executionArn"]
        poller.join(30)
        task = got[0].json()
        assert task["kind"] == "function" and task["resource"] == "double"
        assert json.loads(task["input"]) == {"n": 21}
        answered = http.post(
            "/v1/tasks/complete", json={"taskToken": task["taskToken"], "payload": '{"n": 42}'}
        )
        assert answered.status_code == 204, answered.text
    described = finish(sfn, arn)
    assert described["status"] == "SUCCEEDED" and json.loads(described["output"]) == {"n": 42}
    types = [e["type"] for e in events(sfn, arn)]
    assert types[types.index("LambdaFunctionScheduled") + 1] == "LambdaFunctionStarted"
