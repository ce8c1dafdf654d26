"""Static validation of Amazon States Language definitions, one module per concern.

``engine.asl.parser`` is the entry point; these modules walk the decoded JSON and record every
problem as a ``Diagnostic`` worded as AWS words it (``SCHEMA_VALIDATION_FAILED: ... at /States/A``):

* ``report``     the collector, locations and the AWS codes
* ``structure``  top level, scopes (branches, item processors), transitions and reachability
* ``fields``     which fields each state type accepts, requires and forbids per QueryLanguage
* ``states``     rules particular to one state type (Task, Wait, Fail, Map, Parallel, Pass)
* ``choice``     Choice rules
* ``handlers``   Retry and Catch
* ``values``     paths, payload templates, intrinsic functions, JSONata, timestamps, variables
* ``resources``  Task resource ARNs and the optimized service integrations
"""
