//! The one error type of the library.
//!
//! Every variant says whether a retry can help ([`Error::is_transient`]): that single bit decides
//! between "answer 5xx so the sender retries" and "record the failure and answer 2xx".

use aws_sdk_ssm::config::http::HttpResponse;
use aws_sdk_ssm::error::{DisplayErrorContext, ProvideErrorMetadata, SdkError};
use std::time::Duration;

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
    aws_sdk_ssm::operation::get_parameter::GetParameterError => |e| e.is_internal_server_error();
    aws_sdk_ssm::operation::list_commands::ListCommandsError => |e| e.is_internal_server_error();
    aws_sdk_ssm::operation::describe_instance_information::DescribeInstanceInformationError => |e| e.is_internal_server_error();
    aws_sdk_s3::operation::get_object::GetObjectError => |_e| false;
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
    "TooManyRequestsException",
    "RequestLimitExceeded",
    "ProvisionedThroughputExceededException",
    "RequestThrottled",
    "LimitExceededException",
];

pub type Result<T, E = Error> = std::result::Result<T, E>;

#[derive(Debug, Clone, thiserror::Error)]
pub enum Error {
    /// A setting in the environment is missing or wrong. Fails the cold start.
    #[error("configuration: {name}: {reason}")]
    Config { name: &'static str, reason: String },

    /// The runbook catalog does not load; each problem names its line.
    #[error("catalog {source_name} is invalid:\n{}", problems.join("\n"))]
    Catalog {
        source_name: String,
        problems: Vec<String>,
    },

    /// A call to an AWS service failed.
    #[error("{service} {operation} failed: {message}")]
    Aws {
        service: &'static str,
        operation: &'static str,
        message: String,
        transient: bool,
    },

    /// A call to PagerDuty's REST API failed (after the retries the time budget allowed).
    #[error("PagerDuty {operation} failed: {message}")]
    PagerDuty {
        operation: &'static str,
        status: Option<u16>,
        message: String,
        transient: bool,
    },

    /// A secret parameter exists but holds nothing usable.
    #[error("secret parameter {parameter} is empty or malformed")]
    SecretMalformed { parameter: String },

    /// A call whose request may have reached the service although no answer came back (a
    /// timeout, a broken connection, a 5xx): whatever it asked for may have happened.
    #[error(
        "{service} {operation}: no answer, and the request may have been carried out: {message}"
    )]
    Ambiguous {
        service: &'static str,
        operation: &'static str,
        message: String,
    },

    /// The time budget for answering the sender ran out before the work was done.
    #[error("{operation} did not finish within the {budget:?} budget")]
    DeadlineExceeded {
        operation: &'static str,
        budget: Duration,
    },
}

impl Error {
    /// Whether retrying the same request later can succeed.
    pub fn is_transient(&self) -> bool {
        match self {
            Error::Aws { transient, .. } | Error::PagerDuty { transient, .. } => *transient,
            Error::DeadlineExceeded { .. } | Error::Ambiguous { .. } => true,
            Error::Config { .. } | Error::Catalog { .. } | Error::SecretMalformed { .. } => false,
        }
    }

    /// Turn an AWS SDK error into ours, deciding whether a retry can help: timeouts, connection
    /// failures, 5xx and throttling can; anything else the service said no to cannot. The
    /// decision reads the error's code and HTTP status, never its message.
    pub fn from_sdk<E>(
        service: &'static str,
        operation: &'static str,
        error: SdkError<E, HttpResponse>,
    ) -> Self
    where
        E: ProvideErrorMetadata + ModeledTransient + std::error::Error + 'static,
    {
        let transient = match &error {
            SdkError::TimeoutError(_)
            | SdkError::DispatchFailure(_)
            | SdkError::ResponseError(_) => true,
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

    pub(crate) fn config(name: &'static str, reason: impl Into<String>) -> Self {
        Error::Config {
            name,
            reason: reason.into(),
        }
    }
}
