"""What every resource command shares: the HTTP client of the REST API (/v1), the common
options, and output (rich tables for people, ``--json`` for programs, errors on stderr).

Exit codes, the CLI's one error table: 0 success, 1 the server refused the request (or could
not be reached), 2 a usage error (typer's own, and the checks commands make before calling).
"""

from __future__ import annotations

import json
import sys
from collections.abc import Iterator
from datetime import datetime
from pathlib import Path
from typing import Annotated, Any, Literal, NoReturn
from urllib.parse import quote

import httpx
import typer
from rich.console import Console
from rich.table import Table
from rich.text import Text

DEFAULT_ENDPOINT = "http://127.0.0.1:8080"
EXIT_API_ERROR = 1
EXIT_USAGE = 2

Endpoint = Annotated[
    str,
    typer.Option(
        "--endpoint",
        envvar="STEPWELL_ENDPOINT",
        help="Base URL of the Stepwell server.",
        show_default=True,
    ),
]
AsJson = Annotated[bool, typer.Option("--json", help="Print machine-readable JSON.")]
Limit = Annotated[int | None, typer.Option("--limit", min=1, help="Show at most this many.")]


class ApiError(Exception):
    """The server answered with a problem document (or something else that is not success)."""

    def __init__(self, status: int, title: str, detail: str) -> None:
        super().__init__(f"{title}: {detail}")
        self.status = status
        self.title = title
        self.detail = detail


class Unreachable(Exception):
    """No answer from the server at all."""


def arn_path(arn: str) -> str:
    """An ARN as one path segment (``:`` kept readable, anything else unusual escaped)."""
    return quote(arn, safe=":@")


class Client:
    """A thin, synchronous client of the REST API under ``/v1``."""

    def __init__(self, endpoint: str, timeout: float = 30.0) -> None:
        self.endpoint = endpoint.rstrip("/")
        self._http = httpx.Client(base_url=self.endpoint + "/v1", timeout=timeout)

    def close(self) -> None:
        """Release the connection pool."""
        self._http.close()

    def __enter__(self) -> Client:
        return self

    def __exit__(self, *_: object) -> None:
        self.close()

    def request(
        self,
        method: str,
        path: str,
        *,
        body: Any = None,
        params: dict[str, Any] | None = None,
    ) -> Any:
        """Send one request; the decoded JSON answer, None for 204; ApiError or Unreachable."""
        query = {k: v for k, v in (params or {}).items() if v is not None}
        try:
            response = self._http.request(
                method, path, json=body, params=query, headers={"accept": "application/json"}
            )
        except httpx.TransportError as exc:
            raise Unreachable(
                f"cannot reach the Stepwell server at {self.endpoint} ({exc.__class__.__name__}). "
                "Is `stepwell server` running? Set --endpoint or STEPWELL_ENDPOINT."
            ) from exc
        if response.status_code == 204:
            return None
        if response.is_success:
            try:
                return response.json()
            except ValueError as exc:
                raise ApiError(response.status_code, "InvalidResponse", response.text) from exc
        raise _api_error(response)

    def get(self, path: str, **params: Any) -> Any:
        """GET with query parameters."""
        return self.request("GET", path, params=params)

    def post(self, path: str, body: Any = None) -> Any:
        """POST a JSON body."""
        return self.request("POST", path, body=body)

    def put(self, path: str, body: Any) -> Any:
        """PUT a JSON body."""
        return self.request("PUT", path, body=body)

    def patch(self, path: str, body: Any) -> Any:
        """PATCH a JSON body."""
        return self.request("PATCH", path, body=body)

    def delete(self, path: str) -> Any:
        """DELETE."""
        return self.request("DELETE", path)

    def pages(self, path: str, key: str, limit: int | None = None, **params: Any) -> Iterator[Any]:
        """Every item under ``key`` across pages (at most ``limit``), following nextToken."""
        token = None
        count = 0
        while True:
            page = self.get(path, nextToken=token, **params)
            for item in page.get(key, []):
                if limit is not None and count >= limit:
                    return
                count += 1
                yield item
            token = page.get("nextToken")
            if not token:
                return


def _api_error(response: httpx.Response) -> ApiError:
    try:
        body = response.json()
    except ValueError:
        body = None
    if isinstance(body, dict) and "title" in body:
        return ApiError(response.status_code, str(body["title"]), str(body.get("detail", "")))
    if isinstance(body, dict) and "detail" in body:
        return ApiError(response.status_code, f"HTTP {response.status_code}", str(body["detail"]))
    text = response.text.strip() or response.reason_phrase
    return ApiError(response.status_code, f"HTTP {response.status_code}", text)


# -- output --------------------------------------------------------------------------------------


def console() -> Console:
    """A console on the current stdout; wide when not a terminal so ARNs stay on one line."""
    out = Console(highlight=False)
    if not out.is_terminal:
        out = Console(highlight=False, width=200)
    return out


def fail(title: str, detail: str = "", code: int = EXIT_API_ERROR) -> NoReturn:
    """Print an error to stderr and exit with ``code``."""
    message = f"Error: {title}" + (f": {detail}" if detail else "")
    typer.echo(message, err=True)
    raise typer.Exit(code)


def usage_error(message: str) -> NoReturn:
    """A usage problem the command itself detected: exit 2, like typer's own."""
    fail("usage", message, EXIT_USAGE)


class calling:  # noqa: N801 - used as ``with calling(endpoint) as api:``
    """Open a Client; turn ApiError and Unreachable into a message on stderr and exit 1."""

    def __init__(self, endpoint: str) -> None:
        self.client = Client(endpoint)

    def __enter__(self) -> Client:
        return self.client

    def __exit__(self, exc_type: Any, exc: BaseException | None, _tb: Any) -> Literal[False]:
        self.client.close()
        if isinstance(exc, ApiError):
            fail(exc.title, exc.detail)
        if isinstance(exc, Unreachable):
            fail("server unreachable", str(exc))
        return False


def print_json(value: Any) -> None:
    """Pretty JSON on stdout, no markup (safe to pipe into jq)."""
    typer.echo(json.dumps(value, indent=2, ensure_ascii=False))


def timestamp(value: Any) -> str:
    """Epoch seconds as local time with milliseconds."""
    if not isinstance(value, int | float):
        return ""
    return datetime.fromtimestamp(value).astimezone().strftime("%Y-%m-%d %H:%M:%S.%f")[:-3]


def table(columns: list[str], rows: list[list[Any]], title: str | None = None) -> None:
    """Print rows as a rich table (cells are plain text, never rich markup)."""
    out = Table(title=title, show_lines=False)
    for column in columns:
        out.add_column(column, overflow="fold")
    for row in rows:
        out.add_row(*(Text("" if cell is None else str(cell)) for cell in row))
    console().print(out)


def fields(pairs: list[tuple[str, Any]]) -> None:
    """Print a two-column key/value table, skipping absent values."""
    out = Table(show_header=False, box=None, pad_edge=False)
    out.add_column(style="bold")
    out.add_column(overflow="fold")
    for key, value in pairs:
        if value is not None and value != "":
            out.add_row(Text(key), Text(str(value)))
    console().print(out)


def pretty_json_text(text: Any) -> str:
    """JSON text re-indented for reading; returned unchanged if it is not JSON."""
    if not isinstance(text, str):
        return json.dumps(text, indent=2, ensure_ascii=False)
    try:
        return json.dumps(json.loads(text), indent=2, ensure_ascii=False)
    except ValueError:
        return text


def read_text(source: str, what: str) -> str:
    """The contents of file ``source`` (``-`` for stdin); a usage error if unreadable."""
    if source == "-":
        return sys.stdin.read()
    try:
        return Path(source).read_text(encoding="utf-8")
    except OSError as exc:
        usage_error(f"cannot read {what} file {source!r}: {exc.strerror or exc}")


def delete_and_report(endpoint: str, path: str, arn: str, as_json: bool) -> None:
    """DELETE ``path`` and say so (``{"deleted": arn}`` with ``--json``)."""
    with calling(endpoint) as api:
        api.delete(path)
    if as_json:
        print_json({"deleted": arn})
        return
    console().print(f"Deleted {arn}", markup=False)


def list_named(
    endpoint: str,
    path: str,
    member: str,
    arn_key: str,
    heading: str,
    limit: int | None,
    as_json: bool,
) -> None:
    """Every page of a listing of versions or aliases: the last part of each ARN (the number or
    name), when it was made, and the ARN."""
    with calling(endpoint) as api:
        found = list(api.pages(path, member, limit))
    if as_json:
        print_json({member: found})
        return
    table(
        [heading, "Created", "ARN"],
        [
            [item[arn_key].rsplit(":", 1)[-1], timestamp(item["creationDate"]), item[arn_key]]
            for item in found
        ],
    )
