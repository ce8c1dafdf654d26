"""Runnable examples for the README (``stepwell worker examples.hello_worker:worker``)."""
