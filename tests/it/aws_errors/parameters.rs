//! Parameter Store and instance lookups under failure: the kill switch, secrets, and tag
//! resolution for `max_targets`.

use super::*;

fn switch_value(value: &'static str) -> aws_sdk_ssm::operation::get_parameter::GetParameterOutput {
    aws_sdk_ssm::operation::get_parameter::GetParameterOutput::builder()
        .parameter(
            aws_sdk_ssm::types::Parameter::builder()
                .name("/remediate/kill-switch")
                .value(value)
                .build(),
        )
        .build()
}

/// A throttled read keeps the last value for one refresh interval at most, then runs stop; a
/// failed read is not retried on every trigger.
#[tokio::test]
async fn a_throttled_kill_switch_keeps_its_value_one_interval_then_stops_runs() {
    use chrono::Duration;
    use remediate_adapters::aws::kill_switch::parameter_switch;
    use remediate_core::testing::ManualClock;
    use std::sync::Arc;

    let reads = mock!(aws_sdk_ssm::Client::get_parameter)
        .sequence()
        .output(|| switch_value("off"))
        .http_status(
            400,
            Some(r#"{"__type":"ThrottlingException","message":"Rate exceeded"}"#.into()),
        )
        .times(3)
        .output(|| switch_value("off"))
        .build();
    let client = mock_client!(aws_sdk_ssm, RuleMode::Sequential, &[&reads], |config| {
        config.retry_config(aws_sdk_ssm::config::retry::RetryConfig::disabled())
    });
    let clock = Arc::new(ManualClock::new(chrono::Utc::now()));
    let switch = parameter_switch(client, "/remediate/kill-switch".into(), clock.clone());
    assert_eq!(switch.reason().await, None);
    clock.advance(Duration::seconds(31));
    assert_eq!(
        switch.reason().await,
        None,
        "throttled: the last value holds"
    );
    assert_eq!(reads.num_calls(), 2);
    clock.advance(Duration::seconds(2));
    assert_eq!(switch.reason().await, None);
    assert_eq!(reads.num_calls(), 2, "a failed read is not retried at once");
    clock.advance(Duration::seconds(4));
    assert_eq!(
        switch.reason().await,
        None,
        "still within one more interval"
    );
    assert_eq!(reads.num_calls(), 3);
    clock.advance(Duration::seconds(25));
    let why = switch
        .reason()
        .await
        .expect("past one more interval, a throttled switch stops runs");
    assert!(why.contains("cannot be read"), "{why}");
    assert_eq!(reads.num_calls(), 4);
    clock.advance(Duration::seconds(6));
    assert_eq!(switch.reason().await, None, "a good read lets runs go on");
}

/// Access denied, or the parameter gone: runs stop at once, whatever was read before.
#[tokio::test]
async fn an_unreadable_or_deleted_kill_switch_stops_runs_at_once() {
    use aws_sdk_ssm::operation::get_parameter::GetParameterError;
    use aws_sdk_ssm::types::error::ParameterNotFound;
    use chrono::Duration;
    use remediate_adapters::aws::kill_switch::parameter_switch;
    use remediate_core::testing::ManualClock;
    use std::sync::Arc;

    let reads = mock!(aws_sdk_ssm::Client::get_parameter)
        .sequence()
        .output(|| switch_value("off"))
        .http_status(
            400,
            Some(r#"{"__type":"AccessDeniedException","message":"not allowed"}"#.into()),
        )
        .output(|| switch_value("OFF"))
        .error(|| GetParameterError::ParameterNotFound(ParameterNotFound::builder().build()))
        .build();
    let client = mock_client!(aws_sdk_ssm, RuleMode::Sequential, &[&reads], |config| {
        config.retry_config(aws_sdk_ssm::config::retry::RetryConfig::disabled())
    });
    let clock = Arc::new(ManualClock::new(chrono::Utc::now()));
    let switch = parameter_switch(client, "/remediate/kill-switch".into(), clock.clone());
    assert_eq!(switch.reason().await, None);
    clock.advance(Duration::seconds(31));
    assert!(
        switch.reason().await.is_some(),
        "access denied stops runs at once"
    );
    clock.advance(Duration::seconds(5));
    assert_eq!(switch.reason().await, None);
    clock.advance(Duration::seconds(30));
    assert!(
        switch.reason().await.is_some(),
        "a deleted parameter stops runs at once"
    );
}

fn secret_value(value: &'static str) -> aws_sdk_ssm::operation::get_parameter::GetParameterOutput {
    aws_sdk_ssm::operation::get_parameter::GetParameterOutput::builder()
        .parameter(
            aws_sdk_ssm::types::Parameter::builder()
                .name("/remediate/webhook-secrets")
                .value(value)
                .build(),
        )
        .build()
}

fn secrets_on(
    client: aws_sdk_ssm::Client,
) -> (
    remediate_adapters::aws::secrets::ParameterStoreSecrets,
    std::sync::Arc<remediate_core::testing::ManualClock>,
) {
    let clock = std::sync::Arc::new(remediate_core::testing::ManualClock::new(chrono::Utc::now()));
    let store = remediate_adapters::aws::secrets::ParameterStoreSecrets::new(
        client,
        std::time::Duration::from_secs(300),
    )
    .with_clock(clock.clone());
    (store, clock)
}

/// A secret parameter deleted (or its access revoked) stops authenticating at the next read:
/// the cached value is dropped, not served on.
#[tokio::test]
async fn a_deleted_secret_is_dropped_from_the_cache() {
    use aws_sdk_ssm::operation::get_parameter::GetParameterError;
    use aws_sdk_ssm::types::error::ParameterNotFound;
    use remediate_core::secrets::SecretStore;

    let reads = mock!(aws_sdk_ssm::Client::get_parameter)
        .sequence()
        .output(|| secret_value("s1"))
        .error(|| GetParameterError::ParameterNotFound(ParameterNotFound::builder().build()))
        .build();
    let client = mock_client!(aws_sdk_ssm, RuleMode::Sequential, &[&reads]);
    let (store, clock) = secrets_on(client);
    let parameter = "/remediate/webhook-secrets";
    assert_eq!(store.get(parameter).await.unwrap().expose(), "s1");
    clock.advance(chrono::Duration::seconds(301));
    let error = store.get(parameter).await.unwrap_err();
    assert!(!error.is_transient(), "{error}");
    // Not a refusal for good either: fixing the parameter makes the sender's retry succeed.
    assert_eq!(
        error.kind(),
        remediate_core::Kind::DeploymentFault,
        "{error}"
    );
    assert!(error.is_retryable(), "{error}");
    assert_eq!(reads.num_calls(), 2);
}

/// Failed reads are remembered for a few seconds: a flood of (forged) requests makes one
/// Parameter Store call, not one each. A transient failure keeps serving the last good value.
#[tokio::test]
async fn failed_secret_reads_are_cached_briefly() {
    use remediate_core::secrets::SecretStore;

    let throttled = r#"{"__type":"ThrottlingException","message":"Rate exceeded"}"#;
    let reads = mock!(aws_sdk_ssm::Client::get_parameter)
        .sequence()
        .http_status(400, Some(throttled.into()))
        .output(|| secret_value("s1"))
        .http_status(400, Some(throttled.into()))
        .build();
    let client = mock_client!(aws_sdk_ssm, RuleMode::Sequential, &[&reads], |config| {
        config.retry_config(aws_sdk_ssm::config::retry::RetryConfig::disabled())
    });
    let (store, clock) = secrets_on(client);
    let parameter = "/remediate/webhook-secrets";
    for _ in 0..50 {
        assert!(store.get(parameter).await.unwrap_err().is_transient());
    }
    assert_eq!(reads.num_calls(), 1, "one call for the whole flood");
    clock.advance(chrono::Duration::seconds(6));
    assert_eq!(store.get(parameter).await.unwrap().expose(), "s1");
    clock.advance(chrono::Duration::seconds(301));
    for _ in 0..50 {
        assert_eq!(
            store.get(parameter).await.unwrap().expose(),
            "s1",
            "throttled: the last good value serves"
        );
    }
    assert_eq!(reads.num_calls(), 3);
}

/// `reread` reads the parameter again at most once per short interval.
#[tokio::test]
async fn a_secret_is_reread_at_most_once_per_interval() {
    use remediate_core::secrets::SecretStore;

    let reads = mock!(aws_sdk_ssm::Client::get_parameter)
        .sequence()
        .output(|| secret_value("s1"))
        .output(|| secret_value("s2"))
        .build();
    let client = mock_client!(aws_sdk_ssm, RuleMode::Sequential, &[&reads]);
    let (store, clock) = secrets_on(client);
    let parameter = "/remediate/webhook-secrets";
    assert_eq!(store.get(parameter).await.unwrap().expose(), "s1");
    assert!(
        store.reread(parameter).await.unwrap().is_none(),
        "just read"
    );
    clock.advance(chrono::Duration::seconds(11));
    assert_eq!(
        store.reread(parameter).await.unwrap().unwrap().expose(),
        "s2"
    );
    assert!(store.reread(parameter).await.unwrap().is_none());
    assert_eq!(store.get(parameter).await.unwrap().expose(), "s2");
    assert_eq!(reads.num_calls(), 2);
}

/// Tag targets are resolved with DescribeInstanceInformation: every tag key a `tag:` filter
/// (its values: any), online EC2 instances only, every page read.
#[tokio::test]
async fn tag_resolution_asks_for_online_tagged_instances_on_every_page() {
    use aws_sdk_ssm::operation::describe_instance_information::{
        DescribeInstanceInformationInput, DescribeInstanceInformationOutput,
    };
    use aws_sdk_ssm::types::InstanceInformation;
    use remediate_core::pipeline::{Pinned, pin_tag_targets};

    fn filtered(input: &DescribeInstanceInformationInput) -> bool {
        let has = |key: &str, values: &[&str]| {
            input
                .filters()
                .iter()
                .any(|filter| filter.key() == key && filter.values() == values)
        };
        input.filters().len() == 4
            && has("tag:Role", &["web", "api"])
            && has("tag:Env", &["prod"])
            && has("PingStatus", &["Online"])
            && has("ResourceType", &["EC2Instance"])
            && input.instance_information_filter_list().is_empty()
    }
    let instance = |id: &str| InstanceInformation::builder().instance_id(id).build();
    let first_page = mock!(aws_sdk_ssm::Client::describe_instance_information)
        .match_requests(|input| filtered(input) && input.next_token().is_none())
        .sequence()
        .output(move || {
            DescribeInstanceInformationOutput::builder()
                .instance_information_list(instance("i-0b"))
                .instance_information_list(instance("i-0a"))
                .next_token("page-2")
                .build()
        })
        .times(2)
        .build();
    let second_page = mock!(aws_sdk_ssm::Client::describe_instance_information)
        .match_requests(|input| filtered(input) && input.next_token() == Some("page-2"))
        .sequence()
        .output(move || {
            DescribeInstanceInformationOutput::builder()
                .instance_information_list(instance("i-0c"))
                .build()
        })
        .times(2)
        .build();
    let client = mock_client!(
        aws_sdk_ssm,
        RuleMode::MatchAny,
        &[&first_page, &second_page]
    );
    let executor = SsmCommandExecutor::new(client);
    let mut tagged = request();
    tagged.targets = Targets::Tags(BTreeMap::from([
        ("Role".into(), vec!["web".into(), "api".into()]),
        ("Env".into(), vec!["prod".into()]),
    ]));
    let Pinned::Instances(pinned) = pin_tag_targets(&executor, &tagged, Some(3)).await.unwrap()
    else {
        panic!("three instances are within a limit of three");
    };
    assert_eq!(
        pinned.targets,
        Targets::InstanceIds(vec!["i-0a".into(), "i-0b".into(), "i-0c".into()])
    );
    let Pinned::Refused(reason) = pin_tag_targets(&executor, &tagged, Some(2)).await.unwrap()
    else {
        panic!("three instances exceed a limit of two");
    };
    assert!(reason.contains("3 instances carry"), "{reason}");
    assert_eq!((first_page.num_calls(), second_page.num_calls()), (2, 2));
    // Instance ids, or no limit: nothing to resolve, no call.
    assert_eq!(
        pin_tag_targets(&executor, &tagged, None).await.unwrap(),
        Pinned::AsIs
    );
}

/// Deleted, then throttled: the value read before the deletion is never trusted again, and an
/// unreadable switch says whether a retry may read it (transient) or not.
#[tokio::test]
async fn a_deleted_then_throttled_kill_switch_stays_stopped() {
    use aws_sdk_ssm::operation::get_parameter::GetParameterError;
    use aws_sdk_ssm::types::error::ParameterNotFound;
    use chrono::Duration;
    use remediate_adapters::aws::kill_switch::parameter_switch;
    use remediate_core::kill_switch::SwitchReading;
    use remediate_core::testing::ManualClock;
    use std::sync::Arc;

    let reads = mock!(aws_sdk_ssm::Client::get_parameter)
        .sequence()
        .output(|| switch_value("off"))
        .error(|| GetParameterError::ParameterNotFound(ParameterNotFound::builder().build()))
        .http_status(
            400,
            Some(r#"{"__type":"ThrottlingException","message":"Rate exceeded"}"#.into()),
        )
        .build();
    let client = mock_client!(aws_sdk_ssm, RuleMode::Sequential, &[&reads], |config| {
        config.retry_config(aws_sdk_ssm::config::retry::RetryConfig::disabled())
    });
    let clock = Arc::new(ManualClock::new(chrono::Utc::now()));
    let switch = parameter_switch(client, "/remediate/kill-switch".into(), clock.clone());
    assert_eq!(switch.read().await, SwitchReading::Off);
    clock.advance(Duration::seconds(31));
    assert!(matches!(
        switch.read().await,
        SwitchReading::Unreadable {
            transient: false,
            ..
        }
    ));
    clock.advance(Duration::seconds(5));
    let reading = switch.read().await;
    assert!(
        matches!(
            reading,
            SwitchReading::Unreadable {
                transient: true,
                ..
            }
        ),
        "the 'off' read before the deletion must not come back: {reading:?}"
    );
    assert_eq!(reads.num_calls(), 3);
}

/// A clock that steps backwards does not freeze the switch at its last value.
#[tokio::test]
async fn a_clock_stepping_back_still_reads_the_kill_switch() {
    use chrono::Duration;
    use remediate_adapters::aws::kill_switch::parameter_switch;
    use remediate_core::testing::ManualClock;
    use std::sync::Arc;

    let reads = mock!(aws_sdk_ssm::Client::get_parameter)
        .sequence()
        .output(|| switch_value("off"))
        .output(|| switch_value("on"))
        .build();
    let client = mock_client!(aws_sdk_ssm, RuleMode::Sequential, &[&reads], |config| {
        config.retry_config(aws_sdk_ssm::config::retry::RetryConfig::disabled())
    });
    let clock = Arc::new(ManualClock::new(chrono::Utc::now()));
    let switch = parameter_switch(client, "/remediate/kill-switch".into(), clock.clone());
    assert_eq!(switch.reason().await, None);
    clock.advance(-Duration::hours(1));
    assert!(
        switch.reason().await.is_some(),
        "the switch turned on while the clock went back an hour"
    );
}
