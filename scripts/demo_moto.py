"""Demo helper for moto: `seed` creates what the example catalog needs; `status-events DIR`
writes the EventBridge status-change event SSM would send for each command remediate sent;
`alarm-recovered NAME` puts the disk alarm back to OK in moto's CloudWatch; `report` prints the
commands SSM received and the messages published on the results topic. Run with the tools venv's
Python (boto3 comes with moto)."""
import json
import os
import sys

import boto3

ENDPOINT = os.environ["REMEDIATE_TEST_MOTO_URL"]
REGION = "us-east-1"
# The sns-alarm function publishes every outcome here (RESULTS_TOPIC_ARN); a queue subscribed to
# it keeps the messages for `report`.
RESULTS_TOPIC = "remediate-results"
RESULTS_QUEUE = "remediate-results-demo"


def client(service):
    return boto3.client(service, endpoint_url=ENDPOINT, region_name=REGION,
                        aws_access_key_id="testing", aws_secret_access_key="testing")


def seed(table: str) -> None:
    ec2 = client("ec2")
    for role, count in (("web", 3), ("api", 2), ("cache", 1)):
        ec2.run_instances(ImageId="ami-12c6146b", InstanceType="t3.micro", MinCount=count, MaxCount=count,
                          TagSpecifications=[{"ResourceType": "instance",
                                              "Tags": [{"Key": "Role", "Value": role}]}])
    ssm = client("ssm")
    for name, value in (("/remediate/pagerduty/webhook-secrets", "remediate-demo-signing-secret"),
                        ("/remediate/pagerduty/action-token", "remediate-demo-action-token"),
                        ("/remediate/pagerduty/api-token", "demo-api-token"),
                        # Rundeck's, for scripts/bench's start of rundeck-notification.
                        ("/remediate/rundeck/api-token", "demo-rundeck-token"),
                        ("/remediate/rundeck/notification-secret", "rundeck-demo-notification-secret")):
        ssm.put_parameter(Name=name, Value=value, Type="SecureString", Overwrite=True)
    def index(name, hash_key, range_key=None):
        schema = [{"AttributeName": hash_key, "KeyType": "HASH"}]
        if range_key:
            schema.append({"AttributeName": range_key, "KeyType": "RANGE"})
        return {"IndexName": name, "KeySchema": schema, "Projection": {"ProjectionType": "ALL"}}
    client("dynamodb").create_table(
        TableName=table, BillingMode="PAY_PER_REQUEST",
        AttributeDefinitions=[{"AttributeName": n, "AttributeType": "S"}
                              for n in ("pk", "sk", "incident_id", "runbook", "decided_at", "command_id",
                                        "open_run")],
        KeySchema=[{"AttributeName": "pk", "KeyType": "HASH"}, {"AttributeName": "sk", "KeyType": "RANGE"}],
        GlobalSecondaryIndexes=[index("by_incident", "incident_id", "decided_at"),
                                index("by_runbook", "runbook", "decided_at"),
                                index("by_handle", "command_id"),
                                index("by_open", "open_run", "decided_at")])
    topic_arn = client("sns").create_topic(Name=RESULTS_TOPIC)["TopicArn"]
    sqs = client("sqs")
    queue_url = sqs.create_queue(QueueName=RESULTS_QUEUE)["QueueUrl"]
    queue_arn = sqs.get_queue_attributes(QueueUrl=queue_url, AttributeNames=["QueueArn"])["Attributes"]["QueueArn"]
    client("sns").subscribe(TopicArn=topic_arn, Protocol="sqs", Endpoint=queue_arn,
                            Attributes={"RawMessageDelivery": "true"})
    print("seeded moto: 6 EC2 instances (Role=web x3, api x2, cache x1), "
          f"5 SecureString parameters, DynamoDB table {table}, results topic {topic_arn} (queue {RESULTS_QUEUE} subscribed)")


def report() -> None:
    ssm = client("ssm")
    commands = ssm.list_commands()["Commands"]
    print(f"SSM received {len(commands)} command(s):")
    for command in sorted(commands, key=lambda c: c["RequestedDateTime"]):
        targets = ", ".join(f"{t['Key']}={','.join(t['Values'])}" for t in command.get("Targets", []))
        print(f"  {command['CommandId']}  {command['DocumentName']}  targets [{targets or ', '.join(command.get('InstanceIds', []))}]"
              f"  on {command['TargetCount']} instance(s)  status {command['Status']}")
        print(f"    comment:    {command['Comment']}")
        print(f"    parameters: {command['Parameters']}")
        if not command.get("Targets"):
            # moto resolves a command's (empty) Targets to every EC2 instance it knows and adds
            # them to the instance ids sent (the
            # ledger and the results topic below show the target the function sent).
            print("    (moto adds all its EC2 instances to a command sent by instance id; "
                  "the function sent only the alarm's instance)")
    sqs = client("sqs")
    queue_url = sqs.get_queue_url(QueueName=RESULTS_QUEUE)["QueueUrl"]
    messages = []
    while True:
        batch = sqs.receive_message(QueueUrl=queue_url, MaxNumberOfMessages=10).get("Messages", [])
        if not batch:
            break
        messages += batch
        sqs.delete_message_batch(QueueUrl=queue_url, Entries=[
            {"Id": str(n), "ReceiptHandle": m["ReceiptHandle"]} for n, m in enumerate(batch)])
    print(f"The results topic {RESULTS_TOPIC} received {len(messages)} message(s):")
    for message in messages:
        try:
            body = json.loads(message["Body"])
        except ValueError:
            print(f"  {message['Body']}")
            continue
        print("  " + json.dumps(body, sort_keys=True))


def status_events(directory: str) -> None:
    """One "EC2 Command Status-change Notification" per command remediate sent (its Comment
    starts with `remediate `), with the status moto reports, as SSM's EventBridge rule would
    deliver it. Prints the files written, oldest command first."""
    os.makedirs(directory, exist_ok=True)
    commands = [c for c in client("ssm").list_commands()["Commands"]
                if c.get("Comment", "").startswith("remediate ")]
    for n, command in enumerate(sorted(commands, key=lambda c: c["RequestedDateTime"])):
        event = {
            "version": "0", "id": f"00000000-0000-4000-8000-{n:012d}",
            "detail-type": "EC2 Command Status-change Notification", "source": "aws.ssm",
            "account": "123456789012", "time": command["RequestedDateTime"].strftime("%Y-%m-%dT%H:%M:%SZ"),
            "region": REGION, "resources": [],
            "detail": {"command-id": command["CommandId"], "document-name": command["DocumentName"],
                       "requested-date-time": command["RequestedDateTime"].isoformat(),
                       "status": command["Status"]},
        }
        path = os.path.join(directory, f"command-{n}.json")
        with open(path, "w") as out:
            json.dump(event, out, indent=2)
        print(f"{path} {command['CommandId']} {command['Comment'].split(' ')[-1]} {command['Status']}")


def alarm_recovered(name: str) -> None:
    """The disk alarm as CloudWatch would have it after clean-disk freed the disk: created
    (moto starts with no alarms), then set back to OK. Prints how many seconds remain until
    clean-disk's verification is due (its run's end plus the runbook's settle time)."""
    import datetime
    cloudwatch = client("cloudwatch")
    cloudwatch.put_metric_alarm(
        AlarmName=name, Namespace="CWAgent", MetricName="disk_used_percent", Statistic="Average",
        Period=300, EvaluationPeriods=1, Threshold=90, ComparisonOperator="GreaterThanThreshold",
        Dimensions=[{"Name": "InstanceId", "Value": "i-0a1b2c3d4e5f67890"}, {"Name": "path", "Value": "/"}])
    cloudwatch.set_alarm_state(AlarmName=name, StateValue="ALARM", StateReason="disk at 97%")
    cloudwatch.set_alarm_state(AlarmName=name, StateValue="OK", StateReason="disk at 41% after clean-disk")
    commands = [c for c in client("ssm").list_commands()["Commands"]
                if c.get("Comment", "").endswith(" clean-disk")]
    settle = 60  # infra/runbooks.yaml: clean-disk's verify.settle_seconds
    ended = max(c["RequestedDateTime"] for c in commands)
    due = ended + datetime.timedelta(seconds=settle)
    now = datetime.datetime.now(datetime.timezone.utc)
    print(max(0, int((due - now).total_seconds()) + 2))


if __name__ == "__main__":
    if sys.argv[1] == "seed":
        seed(sys.argv[2])
    elif sys.argv[1] == "status-events":
        status_events(sys.argv[2])
    elif sys.argv[1] == "alarm-recovered":
        alarm_recovered(sys.argv[2])
    else:
        report()
