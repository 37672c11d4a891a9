//! What the template gives the sns-alarm function: its allowlist, its secrets, its topic.

use super::*;

fn alarm_statements(resolved: &Value) -> Vec<Value> {
    resolved["Resources"]["SnsAlarmFunctionRole"]["Properties"]["Policies"]
        .as_array()
        .expect("the sns-alarm role has inline policies")
        .iter()
        .flat_map(|policy| policy["PolicyDocument"]["Statement"].as_array().unwrap())
        .cloned()
        .collect()
}

#[test]
fn sns_alarm_accepts_only_its_subscribed_topic_and_reads_no_webhook_secret() {
    for scenario in ["defaults", "existing-alarm-topic"] {
        let resolved = resolved(scenario);
        let function = &resolved["Resources"]["SnsAlarmFunction"]["Properties"];
        let environment = function["Environment"]["Variables"]
            .as_object()
            .expect("sns-alarm has environment variables");
        for variable in [
            "PAGERDUTY_API_TOKEN_PARAMETER",
            "PAGERDUTY_FROM_EMAIL",
            "LEDGER_TABLE",
            "RESULTS_TOPIC_ARN",
            "SNS_TOPIC_ARNS",
        ] {
            assert!(
                environment.contains_key(variable),
                "[{scenario}] sns-alarm lacks {variable}"
            );
        }
        // The allowlist is exactly the topic the function is subscribed to.
        let subscriptions: Vec<&Value> = resolved["Resources"]
            .as_object()
            .unwrap()
            .values()
            .filter(|resource| resource["Type"] == "AWS::SNS::Subscription")
            .collect();
        assert_eq!(subscriptions.len(), 1, "[{scenario}] one subscription");
        assert_eq!(
            subscriptions[0]["Properties"]["TopicArn"], environment["SNS_TOPIC_ARNS"],
            "[{scenario}] the allowlist is the subscribed topic"
        );
        assert!(
            !environment.contains_key("SNS_VERIFY_SIGNATURES"),
            "[{scenario}] no deployment turns signature verification off"
        );
        let statements = alarm_statements(resolved);
        let read: Vec<String> = statements
            .iter()
            .filter(|statement| {
                as_strings(&statement["Action"]).contains(&"ssm:GetParameter".to_owned())
            })
            .flat_map(|statement| as_strings(&statement["Resource"]))
            .collect();
        assert_eq!(
            read.len(),
            2,
            "[{scenario}] API token and kill switch only: {read:?}"
        );
        assert!(
            read.iter()
                .all(|arn| !arn.contains("webhook-secrets") && !arn.contains("action-token")),
            "[{scenario}] {read:?}"
        );
        let publish: Vec<String> = statements
            .iter()
            .filter(|statement| {
                as_strings(&statement["Action"]).contains(&"sns:Publish".to_owned())
            })
            .flat_map(|statement| as_strings(&statement["Resource"]))
            .collect();
        assert_eq!(
            publish,
            [
                resolved["Resources"]["SnsAlarmFunction"]["Properties"]["Environment"]["Variables"]
                    ["RESULTS_TOPIC_ARN"]
                    .as_str()
                    .unwrap()
                    .to_owned()
            ],
            "[{scenario}] publishes to the results topic only"
        );
    }
}
