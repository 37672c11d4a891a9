//! AWS SDK errors turned into the core's [`Error`], with their [`Kind`](remediate_core::error::Kind)
//! decided from the SDK's typed checks and the HTTP status, never from message text.

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

/// Turn an AWS SDK error into ours, deciding whether a retry can help: timeouts, connection
/// failures, 5xx and throttling can; anything else the service said no to cannot. The
/// decision reads the error's code and HTTP status, never its message.
pub fn from_sdk<E>(
    service: &'static str,
    operation: &'static str,
    error: SdkError<E, HttpResponse>,
) -> Error
where
    E: ProvideErrorMetadata + ModeledTransient + std::error::Error + 'static,
{
    let transient = match &error {
        SdkError::TimeoutError(_) | SdkError::DispatchFailure(_) | SdkError::ResponseError(_) => {
            true
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
