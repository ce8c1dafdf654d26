"""The ``stepwell`` command line (typer)."""
