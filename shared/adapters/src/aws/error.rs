//! AWS SDK errors turned into the core's [`Error`], with their [`Kind`](remediate_core::error::Kind)
//! decided from the SDK's typed checks and the HTTP status, never from message text.

use super::sdk_http::ResponseTooLarge;
use aws_sdk_ssm::config::http::HttpResponse;
use aws_sdk_ssm::error::{DisplayErrorContext, ProvideErrorMetadata, SdkError};
use remediate_core::Error;

/// Operation errors whose modeled variants say "try again later" (throttling, internal errors).
/// Checked with the SDK's typed `is_*` methods; unmodeled throttling is caught by its error code.
pub trait ModeledTransient {
    fn is_modeled_transient(&self) -> bool;
}

macro_rules! modeled_transient {
    ($($error:ty => |$e:ident| $check:expr;)*) => {
        $(impl ModeledTransient for $error {
            fn is_modeled_transient(&self) -> bool {
                let $e = self;
                $check
            }
        })*
    };
}

modeled_transient! {
    aws_sdk_ssm::operation::send_command::SendCommandError => |e| e.is_internal_server_error();
    aws_sdk_ssm::operation::start_automation_execution::StartAutomationExecutionError => |e| e.is_internal_server_error()
        || e.is_automation_execution_limit_exceeded_exception();
    aws_sdk_ssm::operation::get_parameter::GetParameterError => |e| e.is_internal_server_error();
    aws_sdk_ssm::operation::list_commands::ListCommandsError => |e| e.is_internal_server_error();
    aws_sdk_ssm::operation::list_command_invocations::ListCommandInvocationsError => |e| e.is_internal_server_error();
    aws_sdk_ssm::operation::get_command_invocation::GetCommandInvocationError => |e| e.is_internal_server_error();
    aws_sdk_ssm::operation::get_automation_execution::GetAutomationExecutionError => |e| e.is_internal_server_error();
    aws_sdk_ssm::operation::describe_instance_information::DescribeInstanceInformationError => |e| e.is_internal_server_error();
    aws_sdk_s3::operation::get_object::GetObjectError => |_e| false;
    // Its one modeled error is a bad page token; throttling and 5xx are caught by code and status.
    aws_sdk_cloudwatch::operation::describe_alarms::DescribeAlarmsError => |_e| false;
    aws_sdk_sns::operation::publish::PublishError => |e| e.is_internal_error_exception()
        || e.is_kms_throttling_exception();
    aws_sdk_dynamodb::operation::query::QueryError => |e| e.is_internal_server_error()
        || e.is_provisioned_throughput_exceeded_exception()
        || e.is_request_limit_exceeded()
        || e.is_throttling_exception();
    aws_sdk_dynamodb::operation::create_table::CreateTableError => |e| e.is_internal_server_error();
    aws_sdk_dynamodb::operation::scan::ScanError => |e| e.is_internal_server_error()
        || e.is_provisioned_throughput_exceeded_exception()
        || e.is_request_limit_exceeded()
        || e.is_throttling_exception();
    aws_sdk_dynamodb::operation::put_item::PutItemError => |e| e.is_internal_server_error()
        || e.is_provisioned_throughput_exceeded_exception()
        || e.is_request_limit_exceeded()
        || e.is_throttling_exception()
        || e.is_transaction_conflict_exception();
    aws_sdk_dynamodb::operation::update_item::UpdateItemError => |e| e.is_internal_server_error()
        || e.is_provisioned_throughput_exceeded_exception()
        || e.is_request_limit_exceeded()
        || e.is_throttling_exception()
        || e.is_transaction_conflict_exception();
    aws_sdk_dynamodb::operation::delete_item::DeleteItemError => |e| e.is_internal_server_error()
        || e.is_provisioned_throughput_exceeded_exception()
        || e.is_request_limit_exceeded()
        || e.is_throttling_exception()
        || e.is_transaction_conflict_exception();
}

/// Error codes AWS services use for throttling: retrying later helps.
const THROTTLING_CODES: &[&str] = &[
    "Throttling",
    "ThrottlingException",
    "ThrottledException",
    // SNS: its ThrottledException is sent with this code.
    "Throttled",
    "TooManyRequestsException",
    "RequestLimitExceeded",
    "ProvisionedThroughputExceededException",
    "RequestThrottled",
    "LimitExceededException",
];

/// Whether the request may have reached the service with its answer lost, late or unreadable
/// (an answer over the HTTP client's size limit included): a timeout, a broken or unreadable
/// exchange, any dispatch failure but a request the HTTP client refused to send (a user error).
/// A call that is not idempotent cannot know whether it took effect.
pub fn may_have_been_received<E, R>(error: &SdkError<E, R>) -> bool {
    match error {
        SdkError::DispatchFailure(failure) => !failure.is_user(),
        SdkError::TimeoutError(_) | SdkError::ResponseError(_) => true,
        _ => false,
    }
}

/// The HTTP client's refusal of an answer over its size limit, if that is what `error` is or was
/// caused by: found by walking the chain of sources, not by reading messages.
pub fn response_too_large(error: &(dyn std::error::Error + 'static)) -> Option<ResponseTooLarge> {
    let mut current = Some(error);
    while let Some(error) = current {
        if let Some(too_large) = error.downcast_ref::<ResponseTooLarge>() {
            return Some(*too_large);
        }
        current = error.source();
    }
    None
}

/// Turn an AWS SDK error into ours, deciding whether a retry can help: timeouts, connection
/// failures, 5xx and throttling can; anything else the service said no to cannot. Two dispatch
/// failures are not transient either: a request the HTTP client refused to send (a user error:
/// it would be refused again) and an answer over the client's size limit (the request was
/// answered, and would be answered the same). The decision reads the error's code, HTTP status
/// and types, never its message.
pub fn from_sdk<E>(
    service: &'static str,
    operation: &'static str,
    error: SdkError<E, HttpResponse>,
) -> Error
where
    E: ProvideErrorMetadata + ModeledTransient + std::error::Error + 'static,
{
    if let Some(too_large) = response_too_large(&error) {
        return Error::Aws {
            service,
            operation,
            message: format!(
                "{service} answered with more than {} bytes, which this client refuses to read; \
                 asking again gets the same answer: {}",
                too_large.limit,
                DisplayErrorContext(&error)
            ),
            transient: false,
        };
    }
    let transient = match &error {
        SdkError::DispatchFailure(_) | SdkError::TimeoutError(_) | SdkError::ResponseError(_) => {
            may_have_been_received(&error)
        }
        SdkError::ServiceError(service_error) => {
            let modeled = service_error.err();
            let code = modeled.code().unwrap_or_default();
            modeled.is_modeled_transient()
                || service_error.raw().status().is_server_error()
                || THROTTLING_CODES.contains(&code)
        }
        _ => false,
    };
    Error::Aws {
        service,
        operation,
        message: DisplayErrorContext(&error).to_string(),
        transient,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use aws_sdk_ssm::operation::get_parameter::GetParameterError;
    use aws_smithy_runtime_api::client::result::ConnectorError;
    use remediate_core::error::Kind;

    fn dispatch(failure: ConnectorError) -> SdkError<GetParameterError, HttpResponse> {
        SdkError::dispatch_failure(failure)
    }

    /// An error that only carries another as its source, as layers of wrapping do.
    #[derive(Debug, thiserror::Error)]
    #[error("wrapped")]
    struct Wrapped(#[source] ResponseTooLarge);

    #[test]
    fn an_answer_over_the_size_limit_is_not_transient_and_says_so() {
        let too_large = ResponseTooLarge { limit: 8 };
        for failure in [
            ConnectorError::other(Box::new(too_large), None),
            ConnectorError::other(Box::new(Wrapped(too_large)), None),
        ] {
            let error = from_sdk("ssm", "GetParameter", dispatch(failure));
            assert_eq!(error.kind(), Kind::Permanent, "{error}");
            assert!(!error.is_transient(), "{error}");
            let message = error.to_string();
            assert!(
                message.contains("more than 8 bytes") && message.contains("same answer"),
                "{message}"
            );
        }
    }

    #[test]
    fn dispatch_failures_are_transient_unless_the_request_was_refused_unsent() {
        let io = ConnectorError::io("connection reset".into());
        let timeout = ConnectorError::timeout("read timed out".into());
        let other = ConnectorError::other("something else".into(), None);
        for failure in [io, timeout, other] {
            let error = from_sdk("ssm", "GetParameter", dispatch(failure));
            assert!(error.is_transient(), "{error}");
        }
        let refused = ConnectorError::user("the URL would change what was signed".into());
        let error = from_sdk("ssm", "GetParameter", dispatch(refused));
        assert_eq!(error.kind(), Kind::Permanent, "{error}");
    }

    #[test]
    fn the_size_limit_is_found_through_any_chain_of_sources() {
        let too_large = ResponseTooLarge { limit: 3 };
        assert_eq!(response_too_large(&too_large), Some(too_large));
        assert_eq!(response_too_large(&Wrapped(too_large)), Some(too_large));
        let sdk = dispatch(ConnectorError::other(Box::new(too_large), None));
        assert_eq!(response_too_large(&sdk), Some(too_large));
        let unrelated = dispatch(ConnectorError::io("reset".into()));
        assert_eq!(response_too_large(&unrelated), None);
    }
}
