"""``stepwell server`` and ``stepwell db``: run a node, manage its database."""

from __future__ import annotations

import logging

import typer

from engine.settings import Settings

db_app = typer.Typer(help="Manage the database schema.", no_args_is_help=True)


def serve(
    host: str | None = typer.Option(None, "--host", envvar="STEPWELL_HOST", help="Bind address."),
    port: int | None = typer.Option(None, "--port", envvar="STEPWELL_PORT", help="TCP port."),
    database_url: str | None = typer.Option(
        None,
        "--database-url",
        envvar="STEPWELL_DATABASE_URL",
        help="SQLAlchemy URL: sqlite:///stepwell.db or postgresql+psycopg://...",
    ),
    engine_loops: bool = typer.Option(
        True, "--engine/--no-engine", help="Run the decider and timer loops in this process."
    ),
    log_level: str = typer.Option("warning", "--log-level", help="uvicorn log level."),
) -> None:
    """Start a Stepwell node: the HTTP API plus the engine loops."""
    import uvicorn

    from api.http.app import create_app
    from engine import bootstrap
    from workers.engine import EngineLoops

    settings = Settings()
    if host:
        settings.host = host
    if port:
        settings.port = port
    if database_url:
        settings.database_url = database_url
    logging.basicConfig(level=logging.WARNING)
    ctx = bootstrap.build(settings)
    loops = EngineLoops(ctx) if engine_loops else None
    app = create_app(ctx, loops)
    if loops is not None:
        app.router.on_startup.append(loops.start)
        app.router.on_shutdown.append(loops.stop)
    bus = bootstrap.connect_nodes(ctx)  # other nodes of a PostgreSQL database hear our wake-ups
    if bus is not None:
        app.router.on_shutdown.append(bus.stop)
    typer.echo(
        f"Stepwell listening on http://{settings.host}:{settings.port} "
        f"(database {settings.database_url})"
    )
    _freeze_startup_objects()
    uvicorn.run(app, host=settings.host, port=settings.port, log_level=log_level, access_log=False)


def _freeze_startup_objects() -> None:
    """Leave what startup built (modules, the app, the store's engine) out of the cyclic
    garbage collector's full passes: those objects live as long as the process, and scanning
    them again on every oldest-generation collection showed up as pauses in the middle of
    large decisions (a 1,000-item Map, bench/PROFILES.md)."""
    import gc

    gc.collect()
    gc.freeze()


def engine_only(
    database_url: str | None = typer.Option(None, "--database-url", envvar="STEPWELL_DATABASE_URL"),
    node_id: str | None = typer.Option(None, "--node-id", help="Lease owner name."),
) -> None:
    """Run only the engine loops (a decider node sharing a PostgreSQL database)."""
    import signal
    import threading

    from engine import bootstrap
    from workers.engine import EngineLoops

    settings = Settings()
    if database_url:
        settings.database_url = database_url
    if node_id:
        settings.node_id = node_id
    ctx = bootstrap.build(settings)
    loops = EngineLoops(ctx)
    bus = bootstrap.connect_nodes(ctx)  # woken by the HTTP nodes' starts and answers
    _freeze_startup_objects()
    done = threading.Event()
    signal.signal(signal.SIGTERM, lambda *_: done.set())
    signal.signal(signal.SIGINT, lambda *_: done.set())
    loops.start()
    done.wait()
    loops.stop()
    if bus is not None:
        bus.stop()


@db_app.command("upgrade")
def db_upgrade(
    database_url: str | None = typer.Option(None, "--database-url", envvar="STEPWELL_DATABASE_URL"),
) -> None:
    """Upgrade the database schema to the newest revision."""
    from engine import bootstrap

    url = database_url or Settings().database_url
    bootstrap.upgrade(url)
    typer.echo(f"Database {url} is at the newest revision.")
