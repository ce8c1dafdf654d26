"""Task ``Resource`` ARNs: Lambda functions, activities, optimized integrations and AWS SDK
integrations (AWS developer guide, "Integrating services with Step Functions")."""

from __future__ import annotations

import re
from typing import Final

_PARTITION: Final = r"aws(?:-cn|-us-gov|-iso(?:-[a-z])?)?"
_REGION: Final = r"[a-z]{2}(?:-[a-z]+)+-\d"
_LAMBDA_RE: Final = re.compile(
    rf"arn:{_PARTITION}:lambda:{_REGION}:\d{{12}}:function:[A-Za-z0-9_-]{{1,64}}(?::[A-Za-z0-9_$-]+)?"
)
_ACTIVITY_RE: Final = re.compile(rf"arn:{_PARTITION}:states:{_REGION}:\d{{12}}:activity:[^\s:]+")
_INTEGRATION_RE: Final = re.compile(
    rf"arn:{_PARTITION}:states:::(?P<service>[a-z0-9-]+):(?P<action>[A-Za-z0-9]+)"
    r"(?P<pattern>\.sync(?::2)?|\.waitForTaskToken)?"
)
_SDK_RE: Final = re.compile(
    rf"arn:{_PARTITION}:states:::aws-sdk:[a-z0-9.-]+:[a-z][A-Za-z0-9]*(?:\.waitForTaskToken)?"
)

# Optimized integrations and the API actions each supports, from the per-service pages of the
# developer guide ("Integrating optimized services with Step Functions").
OPTIMIZED_ACTIONS: Final[dict[str, frozenset[str]]] = {
    service: frozenset(actions.split())
    for service, actions in {
        "lambda": "invoke",
        "batch": "submitJob",
        "dynamodb": "getItem putItem updateItem deleteItem",
        "ecs": "runTask",
        "eks": "createCluster deleteCluster createFargateProfile deleteFargateProfile "
        "createNodegroup deleteNodegroup runJob call",
        "sns": "publish",
        "sqs": "sendMessage",
        "glue": "startJobRun",
        "databrew": "startJobRun",
        "sagemaker": "createEndpoint createEndpointConfig createHyperParameterTuningJob "
        "createLabelingJob createModel createProcessingJob createTrainingJob createTransformJob "
        "updateEndpoint",
        "states": "startExecution",
        "codebuild": "startBuild stopBuild batchDeleteBuilds batchGetReports startBuildBatch "
        "stopBuildBatch retryBuildBatch deleteBuildBatch",
        "athena": "startQueryExecution stopQueryExecution getQueryExecution getQueryResults",
        "apigateway": "invoke",
        "elasticmapreduce": "createCluster terminateCluster addStep cancelStep "
        "setClusterTerminationProtection modifyInstanceFleetByName modifyInstanceGroupByName",
        "emr-containers": "startJobRun createVirtualCluster deleteVirtualCluster",
        "emr-serverless": "createApplication startApplication stopApplication deleteApplication "
        "startJobRun cancelJobRun",
        "events": "putEvents",
        "bedrock": "invokeModel createModelCustomizationJob",
        "http": "invoke",
        "mediaconvert": "createJob",
    }.items()
}

# Distributed Map: what ItemReader reads from and ResultWriter writes to.
ITEM_READER_ACTIONS: Final = frozenset({"s3:getObject", "s3:listObjectsV2"})
RESULT_WRITER_ACTIONS: Final = frozenset({"s3:putObject"})


def is_task_resource(resource: str) -> bool:
    """Whether ``resource`` names something a Task state can run."""
    if _LAMBDA_RE.fullmatch(resource) or _ACTIVITY_RE.fullmatch(resource):
        return True
    if _SDK_RE.fullmatch(resource):
        return True
    match = _INTEGRATION_RE.fullmatch(resource)
    if match is None or match.group("service") == "aws-sdk":
        return False
    return match.group("action") in OPTIMIZED_ACTIONS.get(match.group("service"), frozenset())


def is_map_resource(resource: str, allowed: frozenset[str]) -> bool:
    """Whether ``resource`` is one of the S3 actions an ItemReader/ResultWriter supports."""
    match = _INTEGRATION_RE.fullmatch(resource)
    return match is not None and f"{match.group('service')}:{match.group('action')}" in allowed


def not_recognized(resource: str) -> str:
    """AWS's wording (services_test_dynamodb_task_service test_invalid_integration case)."""
    return (
        f"The resource provided {resource} is not recognized. The value is not a valid resource "
        "ARN, or the resource is not available in this region."
    )
