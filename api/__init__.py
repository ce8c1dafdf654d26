"""Adapters: REST, AWS wire protocols and the CLI, all over engine.services."""
