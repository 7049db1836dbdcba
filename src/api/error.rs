//! The api layer's one error type and the single place it becomes an HTTP status and a
//! ResponseStatus (servicestack-wire.md §4). Internal details go to the log, never to clients.

use hyper::StatusCode;

use crate::domain::{FieldError, Rule};
use crate::store::StoreError;
use crate::wire::bind::{BadValue, BindError};
use crate::wire::status::{DTO_NAMESPACE, Failure, ResponseError, ResponseStatus};

/// Why an operation did not succeed.
#[derive(Debug)]
pub enum ApiError {
    /// Input broke a rule; one entry per offending field.
    Invalid(Vec<FieldError>),
    /// The request could not be read into its DTO.
    Bind(BindError),
    /// No valid API key.
    Unauthorized,
    NotFound(String),
    /// Authenticated, but this key may not do this.
    Forbidden(String),
    /// The request conflicts with the record's state (e.g. re-sending a revoked link).
    Conflict(String),
    /// A rate limit was hit; retry after the given number of seconds.
    TooManyRequests {
        message: String,
        retry_after_secs: u64,
    },
    /// The path names an operation, but not for this verb.
    MethodNotAllowed {
        method: String,
        /// The request DTO name of the operation the path names.
        operation: String,
    },
    PayloadTooLarge {
        limit: usize,
    },
    UnsupportedMediaType(String),
    /// The body did not arrive within the body read timeout.
    RequestTimeout,
    /// The server is stopping or a limit was hit; try again.
    Unavailable(String),
    /// Storage is failing (e.g. a full disk) and the database is being reopened; retry after
    /// the given number of seconds. A create sent with an `Idempotency-Key` is safe to retry.
    StorageUnavailable {
        retry_after_secs: u64,
    },
    /// The request is well-formed but cannot be applied as sent (an idempotency key reused
    /// for a different request: IETF draft-ietf-httpapi-idempotency-key-header, 422).
    Unprocessable(String),
    /// A bug or an I/O failure; the detail is logged, the client sees a generic message.
    Internal(String),
}

impl From<StoreError> for ApiError {
    fn from(e: StoreError) -> Self {
        match e {
            StoreError::Closed => ApiError::Unavailable("The service is shutting down.".into()),
            StoreError::Unavailable { retry_after_secs } => {
                ApiError::StorageUnavailable { retry_after_secs }
            }
            StoreError::Conflict => ApiError::StorageUnavailable {
                retry_after_secs: 1,
            },
            other => ApiError::Internal(other.to_string()),
        }
    }
}

impl From<BindError> for ApiError {
    fn from(e: BindError) -> Self {
        ApiError::Bind(e)
    }
}

impl From<getrandom::Error> for ApiError {
    fn from(e: getrandom::Error) -> Self {
        ApiError::Internal(format!("random source failed: {e}"))
    }
}

impl ApiError {
    /// Seconds for a `Retry-After` header, for the errors that carry one.
    pub fn retry_after_secs(&self) -> Option<u64> {
        match self {
            ApiError::TooManyRequests {
                retry_after_secs, ..
            }
            | ApiError::StorageUnavailable { retry_after_secs } => Some(*retry_after_secs),
            _ => None,
        }
    }

    /// The status, and the ResponseStatus whose `ErrorCode` is also the HTTP reason phrase.
    /// `operation` is the request DTO name of the operation the request reached (it names the
    /// DTO in bind errors and the service in 405s).
    pub fn to_response(&self, operation: &str) -> (StatusCode, ResponseStatus) {
        let (status, code) = self.status_and_code();
        let (message, errors) = match self {
            ApiError::Invalid(fields) => return (status, invalid(fields)),
            ApiError::Bind(e) => bind_error(e, operation),
            other => (other.message(), Vec::new()),
        };
        (status, response_status(code, message, errors))
    }

    /// The HTTP status and ServiceStack's `ErrorCode` (a validation failure's code is its first
    /// field's rule instead: [`invalid`]).
    fn status_and_code(&self) -> (StatusCode, &'static str) {
        match self {
            ApiError::Invalid(_) => (StatusCode::BAD_REQUEST, "ValidationException"),
            ApiError::Bind(_) => (StatusCode::BAD_REQUEST, "SerializationException"),
            ApiError::Unauthorized => (StatusCode::UNAUTHORIZED, "Unauthorized"),
            ApiError::NotFound(_) => (StatusCode::NOT_FOUND, "NotFound"),
            ApiError::Forbidden(_) => (StatusCode::FORBIDDEN, "Forbidden"),
            ApiError::Conflict(_) => (StatusCode::CONFLICT, "Conflict"),
            ApiError::TooManyRequests { .. } => (StatusCode::TOO_MANY_REQUESTS, "TooManyRequests"),
            ApiError::MethodNotAllowed { .. } => {
                (StatusCode::METHOD_NOT_ALLOWED, "NotImplementedException")
            }
            ApiError::PayloadTooLarge { .. } => {
                (StatusCode::PAYLOAD_TOO_LARGE, "RequestEntityTooLarge")
            }
            ApiError::UnsupportedMediaType(_) => {
                (StatusCode::UNSUPPORTED_MEDIA_TYPE, "UnsupportedMediaType")
            }
            ApiError::RequestTimeout => (StatusCode::REQUEST_TIMEOUT, "RequestTimeout"),
            ApiError::Unavailable(_) | ApiError::StorageUnavailable { .. } => {
                (StatusCode::SERVICE_UNAVAILABLE, "ServiceUnavailable")
            }
            ApiError::Unprocessable(_) => (StatusCode::UNPROCESSABLE_ENTITY, "UnprocessableEntity"),
            ApiError::Internal(_) => (StatusCode::INTERNAL_SERVER_ERROR, "InternalServerError"),
        }
    }

    /// The message the client sees (never an internal detail). Validation and bind failures
    /// are worded by [`invalid`] and [`bind_error`].
    fn message(&self) -> String {
        match self {
            ApiError::Invalid(_) => "Validation failed.".into(),
            ApiError::Bind(_) => "The request could not be read.".into(),
            ApiError::Unauthorized => "Not Authenticated".into(),
            ApiError::NotFound(m)
            | ApiError::Forbidden(m)
            | ApiError::Conflict(m)
            | ApiError::Unavailable(m)
            | ApiError::Unprocessable(m)
            | ApiError::TooManyRequests { message: m, .. } => m.clone(),
            // ServiceStack's `ServiceExec.Execute`: the verb as `Put`, then the service.
            ApiError::MethodNotAllowed { method, operation } => format!(
                "Could not find method named {}({operation}) or Any({operation}) on Service {}",
                verb_name(method),
                super::routes::service_of(operation),
            ),
            ApiError::PayloadTooLarge { limit } => {
                format!("The request body is larger than {limit} bytes.")
            }
            ApiError::UnsupportedMediaType(ct) => {
                format!("Content-Type '{ct}' is not supported; send application/json.")
            }
            ApiError::RequestTimeout => "The request body did not arrive in time.".into(),
            ApiError::StorageUnavailable { .. } => {
                "Storage is temporarily failing; retry later (send an Idempotency-Key with \
                 creates so a retry cannot make a second link)."
                    .into()
            }
            ApiError::Internal(_) => "The server could not complete the request.".into(),
        }
    }
}

fn response_status(code: &str, message: String, errors: Vec<ResponseError>) -> ResponseStatus {
    ResponseStatus {
        ErrorCode: code.to_owned(),
        Message: Some(message),
        StackTrace: None,
        Errors: errors,
        Meta: None,
    }
}

/// FluentValidation's summary (`ValidationException.ToResponseStatus`): the first failure's
/// code and message, then every failure.
fn invalid(fields: &[FieldError]) -> ResponseStatus {
    let errors: Vec<ResponseError> = fields.iter().map(validation_error).collect();
    let (code, message) = match errors.first() {
        Some(e) => (e.ErrorCode.clone(), e.Message.clone()),
        None => (
            "ValidationException".to_owned(),
            "Validation failed.".to_owned(),
        ),
    };
    response_status(&code, message, errors)
}

/// `PUT` → `Put`, as `ServiceExec` names the method it looked for.
fn verb_name(method: &str) -> String {
    let mut chars = method.chars();
    chars.next().map_or_else(String::new, |first| {
        first.to_ascii_uppercase().to_string() + &chars.as_str().to_ascii_lowercase()
    })
}

/// ServiceStack's texts for requests that do not bind (servicestack-wire.md §4.3):
/// `CreateContentTypeRequestAsync` for unreadable bodies, `StringMapTypeDeserializer` and
/// `OnExceptionTypeFilter` for values that do not convert.
fn bind_error(e: &BindError, operation: &str) -> (String, Vec<ResponseError>) {
    match e {
        BindError::Unreadable {
            content_type,
            detail,
        } => {
            let content_type = content_type.as_deref().unwrap_or("application/json");
            let message = format!(
                "Could not deserialize '{content_type}' request using \
                 {DTO_NAMESPACE}.{operation}'\nError: {detail}"
            );
            (message, Vec::new())
        }
        BindError::Invalid(values) => {
            let errors = values.iter().map(bad_value).collect();
            (format!("Unable to bind to request '{operation}'"), errors)
        }
    }
}

fn bad_value(bad: &BadValue) -> ResponseError {
    let name = &bad.name;
    ResponseError {
        ErrorCode: "SerializationException".into(),
        FieldName: name.clone(),
        Message: match &bad.value {
            Some(value) => format!("'{value}' is an Invalid value for '{name}'"),
            None => format!("Invalid Value for '{name}'"),
        },
        Meta: None,
    }
}

/// ServiceStack's error code for a rule: the FluentValidation validator's name without
/// `Validator` (`ValidationFailure.Partial.cs`), or the service's own code.
fn rule_code(rule: &Rule) -> &'static str {
    match rule {
        Rule::NotEmpty => "NotEmpty",
        Rule::Email => "Email",
        Rule::GreaterThan(_) => "GreaterThan",
        Rule::InclusiveBetween(..) => "InclusiveBetween",
        Rule::Enum => "Enum",
        Rule::Predicate => "Predicate",
        Rule::Custom(code) => code,
    }
}

/// A field error as FluentValidation reports it: the English message of the validator
/// (`Resources/Languages/EnglishLanguage.cs`) unless the rule has its own, and `Meta` with the
/// placeholders the validator sets (`From`/`To`, `ComparisonValue`/`ComparisonProperty`).
fn validation_error(f: &FieldError) -> ResponseError {
    let (template, args): (&str, Vec<(&'static str, String)>) = match &f.rule {
        Rule::NotEmpty => ("'{PropertyName}' must not be empty.", vec![]),
        Rule::Email => ("'{PropertyName}' is not a valid email address.", vec![]),
        Rule::GreaterThan(than) => (
            "'{PropertyName}' must be greater than '{ComparisonValue}'.",
            vec![
                ("ComparisonValue", than.to_string()),
                ("ComparisonProperty", String::new()),
            ],
        ),
        Rule::InclusiveBetween(from, to) => (
            "'{PropertyName}' must be between {From} and {To}. You entered {PropertyValue}.",
            vec![("From", from.to_string()), ("To", to.to_string())],
        ),
        Rule::Enum => (
            "'{PropertyName}' has a range of values which does not include '{PropertyValue}'.",
            vec![],
        ),
        Rule::Predicate | Rule::Custom(_) => (
            "The specified condition was not met for '{PropertyName}'.",
            vec![],
        ),
    };
    Failure {
        field: f.field,
        display: f.display,
        code: rule_code(&f.rule),
        template: f.message.as_deref().unwrap_or(template),
        value: f.value.as_deref(),
        args,
    }
    .to_error()
}
