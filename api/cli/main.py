"""The ``stepwell`` entry point: one typer app, one sub-app per resource."""

from __future__ import annotations

import typer

from api.cli import executions, queues, server, state_machines, worker

app = typer.Typer(help="Stepwell: AWS Step Functions you run yourself.", no_args_is_help=True)
app.command("server")(server.serve)
app.command("engine")(server.engine_only)
app.add_typer(server.db_app, name="db")
app.add_typer(state_machines.app, name="state-machines")
app.add_typer(executions.app, name="executions")
app.command("worker")(worker.run)
app.add_typer(worker.activities_app, name="activities")
app.add_typer(queues.app, name="queues")

if __name__ == "__main__":
    app()
