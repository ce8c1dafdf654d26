"""The worker SDK's HTTP side: long-poll for tasks and answer them, over httpx.

Every call that must not be lost (a poll, an answer) is retried with tenacity while the server
is unreachable or overloaded: exponential back-off, capped, logged, until the worker stops.
A heartbeat is tried once; the next one is due soon anyway.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable
from typing import Any

import httpx
from tenacity import (
    AsyncRetrying,
    RetryCallState,
    retry_if_exception_type,
    wait_exponential,
    wait_random,
)

log = logging.getLogger("stepwell.worker")

#: Problem titles meaning the task is closed: the worker's answer no longer matters.
GONE = frozenset({"TaskTimedOut", "TaskDoesNotExist", "InvalidToken"})


class Unavailable(Exception):
    """The server could not be reached, or answered 429 / 5xx: try again later."""


class Rejected(Exception):
    """The server refused the request (4xx); ``code`` is the problem title (AWS error code)."""

    def __init__(self, status: int, code: str, detail: str) -> None:
        super().__init__(f"{code}: {detail}" if detail else code)
        self.status = status
        self.code = code
        self.detail = detail


def _rejection(response: httpx.Response) -> Rejected:
    code, detail = f"HTTP{response.status_code}", response.text
    try:
        body = response.json()
        if isinstance(body, dict):
            code = str(body.get("title") or body.get("__type") or code).split("#")[-1]
            detail = str(body.get("detail") or body.get("message") or "")
    except ValueError:
        pass
    return Rejected(response.status_code, code, detail)


class TaskClient:
    """Async client for the /v1/tasks endpoints of one Stepwell server."""

    def __init__(
        self,
        endpoint: str,
        *,
        max_backoff: float = 10.0,
        stopped: Callable[[], bool] = lambda: False,
        request_timeout: float = 30.0,
    ) -> None:
        self.endpoint = endpoint.rstrip("/")
        self.max_backoff = max_backoff
        self.stopped = stopped
        self.request_timeout = request_timeout
        self._http = httpx.AsyncClient(
            base_url=self.endpoint,
            timeout=request_timeout,
            limits=httpx.Limits(max_connections=None, max_keepalive_connections=64),
        )
        self._sleeper: asyncio.Event = asyncio.Event()
        self._failures = 0

    async def aclose(self) -> None:
        """Close the connection pool."""
        await self._http.aclose()

    def interrupt(self) -> None:
        """Cut short every back-off sleep (the worker is stopping)."""
        self._sleeper.set()

    # --- plumbing -----------------------------------------------------------------------------
    async def _post(self, path: str, body: dict[str, Any], timeout: float | None = None) -> Any:
        """POST once: the decoded JSON body (None for 204); Unavailable or Rejected otherwise."""
        try:
            response = await self._http.post(
                path, json=body, timeout=timeout or self.request_timeout
            )
        except httpx.TransportError as exc:
            raise Unavailable(f"{type(exc).__name__}: {exc}") from exc
        if response.status_code == 429 or response.status_code >= 500:
            raise Unavailable(f"HTTP {response.status_code} from {path}")
        if response.status_code >= 400:
            raise _rejection(response)
        if self._failures:
            log.warning("server %s reachable again", self.endpoint)
            self._failures = 0
        if response.status_code == 204 or not response.content:
            return None
        return response.json()

    async def _sleep(self, seconds: float) -> None:
        try:
            await asyncio.wait_for(self._sleeper.wait(), seconds)
        except TimeoutError:
            pass

    def _log_retry(self, state: RetryCallState) -> None:
        self._failures += 1
        exc = state.outcome.exception() if state.outcome else None
        delay = state.next_action.sleep if state.next_action else 0.0
        # The first failures are news; then one line in ten is enough.
        level = (
            logging.WARNING if self._failures <= 3 or self._failures % 10 == 0 else logging.DEBUG
        )
        log.log(level, "server %s unavailable (%s); retrying in %.1f s", self.endpoint, exc, delay)

    async def _retrying(self, path: str, body: dict[str, Any], timeout: float | None = None) -> Any:
        """POST until it gets an answer or the worker stops (then Unavailable is raised)."""
        async for attempt in self._retry_policy():
            with attempt:
                return await self._post(path, body, timeout)
        raise Unavailable("stopped")  # pragma: no cover - AsyncRetrying always returns or raises

    def _retry_policy(self) -> AsyncRetrying:
        """Retry while the server is unavailable: capped exponential back-off with jitter,
        until the worker stops."""
        return AsyncRetrying(
            retry=retry_if_exception_type(Unavailable),
            wait=wait_exponential(multiplier=0.1, max=self.max_backoff) + wait_random(0, 0.1),
            stop=lambda _state: self.stopped(),
            sleep=self._sleep,
            before_sleep=self._log_retry,
            reraise=True,
        )

    # --- the protocol -------------------------------------------------------------------------
    async def poll(
        self, worker: str, activities: list[str], functions: list[str], wait_seconds: float
    ) -> dict[str, Any] | None:
        """Long-poll for one task: {"taskToken", "input", "kind", "resource"} or None."""
        body = {
            "workerName": worker,
            "activities": activities,
            "functions": functions,
            "waitSeconds": wait_seconds,
        }
        result = await self._retrying("/v1/tasks/poll", body, timeout=wait_seconds + 15.0)
        return result if isinstance(result, dict) else None

    async def answer(self, route: str, token: str, body: dict[str, Any]) -> bool:
        """POST /v1/tasks/{route}; False when the task was already closed (timed out, answered
        by someone else), True when the answer was taken. Raises Rejected for other refusals."""
        try:
            await self._retrying(f"/v1/tasks/{route}", {"taskToken": token, **body})
        except Rejected as exc:
            if exc.code in GONE:
                return False
            raise
        return True

    async def heartbeat(self, token: str) -> bool:
        """One heartbeat; False when the task is closed. Unavailable propagates (try later)."""
        try:
            await self._post("/v1/tasks/heartbeat", {"taskToken": token})
        except Rejected as exc:
            if exc.code in GONE:
                return False
            raise
        return True

    async def create_activity(self, name: str, region: str) -> str:
        """CreateActivity over the AWS wire protocol (idempotent); returns the activity ARN."""
        # The region is read from the SigV4 credential scope; the server accepts any signature.
        headers = {
            "X-Amz-Target": "AWSStepFunctions.CreateActivity",
            "Content-Type": "application/x-amz-json-1.0",
            "Authorization": f"AWS4-HMAC-SHA256 Credential=stepwell/20240101/{region}/states/"
            "aws4_request, SignedHeaders=host, Signature=0",
        }
        retrying = AsyncRetrying(
            retry=retry_if_exception_type(Unavailable),
            wait=wait_exponential(multiplier=0.1, max=self.max_backoff) + wait_random(0, 0.1),
            stop=lambda _state: self.stopped(),
            sleep=self._sleep,
            before_sleep=self._log_retry,
            reraise=True,
        )
        async for attempt in retrying:
            with attempt:
                try:
                    response = await self._http.post("/", json={"name": name}, headers=headers)
                except httpx.TransportError as exc:
                    raise Unavailable(str(exc)) from exc
                if response.status_code == 429 or response.status_code >= 500:
                    raise Unavailable(f"HTTP {response.status_code} from CreateActivity")
                if response.status_code >= 400:
                    raise _rejection(response)
                return str(response.json()["activityArn"])
        raise Unavailable("stopped")  # pragma: no cover

    # --- SQS (AWS JSON 1.0), for queue consumers ----------------------------------------------
    async def sqs(
        self,
        operation: str,
        body: dict[str, Any],
        *,
        timeout: float | None = None,
        retry: bool = True,
        region: str = "us-east-1",
    ) -> dict[str, Any]:
        """One SQS operation (``X-Amz-Target: AmazonSQS.<operation>``) against the server's AWS
        endpoint. With ``retry`` it is retried while the server is unavailable, until the
        worker stops; refusals raise Rejected with the SQS error shape as ``code``."""
        # The region is read from the SigV4 credential scope; the server accepts any signature.
        headers = {
            "X-Amz-Target": f"AmazonSQS.{operation}",
            "Content-Type": "application/x-amz-json-1.0",
            "Authorization": f"AWS4-HMAC-SHA256 Credential=stepwell/20240101/{region}/sqs/"
            "aws4_request, SignedHeaders=host, Signature=0",
        }

        async def once() -> dict[str, Any]:
            try:
                response = await self._http.post(
                    "/", json=body, headers=headers, timeout=timeout or self.request_timeout
                )
            except httpx.TransportError as exc:
                raise Unavailable(f"{type(exc).__name__}: {exc}") from exc
            if response.status_code == 429 or response.status_code >= 500:
                raise Unavailable(f"HTTP {response.status_code} from {operation}")
            if response.status_code >= 400:
                raise _rejection(response)
            return response.json() if response.content else {}

        if not retry:
            return await once()
        async for attempt in self._retry_policy():
            with attempt:
                return await once()
        raise Unavailable("stopped")  # pragma: no cover
