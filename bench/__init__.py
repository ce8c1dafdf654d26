"""Stepwell benchmarks: the same boto3 workloads against Stepwell and against moto's server.

Run ``make bench`` (or ``python -m bench.run --help``). Every workload prints one JSON line of
figures; nothing here is a test and nothing asserts on timing.
"""
