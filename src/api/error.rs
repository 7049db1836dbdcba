//! The api layer's one error type and the single place it becomes an HTTP status and a
//! ResponseStatus (servicestack-wire.md §4). Internal details go to the log, never to clients.

use hyper::StatusCode;

use crate::domain::FieldError;
use crate::store::StoreError;
use crate::wire::bind::BindError;
use crate::wire::status::{ResponseError, ResponseStatus};

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
    MethodNotAllowed {
        method: String,
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
    pub fn to_response(&self) -> (StatusCode, ResponseStatus) {
        let (status, code, message, errors) = match self {
            ApiError::Invalid(fields) => {
                let first = fields.first();
                let code = first.map_or("ValidationException", |f| f.code);
                let message =
                    first.map_or_else(|| "Validation failed.".to_owned(), |f| f.message.clone());
                let errors = fields
                    .iter()
                    .map(|f| ResponseError {
                        ErrorCode: f.code.to_owned(),
                        FieldName: f.field.to_owned(),
                        Message: f.message.clone(),
                        Meta: None,
                    })
                    .collect();
                (StatusCode::BAD_REQUEST, code, message, errors)
            }
            ApiError::Bind(e) => {
                let errors = e
                    .field
                    .iter()
                    .map(|f| ResponseError {
                        ErrorCode: "SerializationException".into(),
                        FieldName: f.clone(),
                        Message: e.message.clone(),
                        Meta: None,
                    })
                    .collect();
                (
                    StatusCode::BAD_REQUEST,
                    "SerializationException",
                    e.message.clone(),
                    errors,
                )
            }
            ApiError::Unauthorized => (
                StatusCode::UNAUTHORIZED,
                "Unauthorized",
                "Not Authenticated".into(),
                vec![],
            ),
            ApiError::NotFound(m) => (StatusCode::NOT_FOUND, "NotFound", m.clone(), vec![]),
            ApiError::Forbidden(m) => (StatusCode::FORBIDDEN, "Forbidden", m.clone(), vec![]),
            ApiError::Conflict(m) => (StatusCode::CONFLICT, "Conflict", m.clone(), vec![]),
            ApiError::TooManyRequests { message, .. } => (
                StatusCode::TOO_MANY_REQUESTS,
                "TooManyRequests",
                message.clone(),
                vec![],
            ),
            ApiError::MethodNotAllowed { method, operation } => (
                StatusCode::METHOD_NOT_ALLOWED,
                "NotImplementedException",
                format!("Could not find method named {method}({operation}) or Any({operation})"),
                vec![],
            ),
            ApiError::PayloadTooLarge { limit } => (
                StatusCode::PAYLOAD_TOO_LARGE,
                "RequestEntityTooLarge",
                format!("The request body is larger than {limit} bytes."),
                vec![],
            ),
            ApiError::UnsupportedMediaType(ct) => (
                StatusCode::UNSUPPORTED_MEDIA_TYPE,
                "UnsupportedMediaType",
                format!("Content-Type '{ct}' is not supported; send application/json."),
                vec![],
            ),
            ApiError::RequestTimeout => (
                StatusCode::REQUEST_TIMEOUT,
                "RequestTimeout",
                "The request body did not arrive in time.".into(),
                vec![],
            ),
            ApiError::Unavailable(m) => (
                StatusCode::SERVICE_UNAVAILABLE,
                "ServiceUnavailable",
                m.clone(),
                vec![],
            ),
            ApiError::StorageUnavailable { .. } => (
                StatusCode::SERVICE_UNAVAILABLE,
                "ServiceUnavailable",
                "Storage is temporarily failing; retry later (send an Idempotency-Key with \
                 creates so a retry cannot make a second link)."
                    .into(),
                vec![],
            ),
            ApiError::Unprocessable(m) => (
                StatusCode::UNPROCESSABLE_ENTITY,
                "UnprocessableEntity",
                m.clone(),
                vec![],
            ),
            ApiError::Internal(_) => (
                StatusCode::INTERNAL_SERVER_ERROR,
                "InternalServerError",
                "The server could not complete the request.".into(),
                vec![],
            ),
        };
        let status_body = ResponseStatus {
            ErrorCode: code.to_owned(),
            Message: Some(message),
            StackTrace: None,
            Errors: errors,
            Meta: None,
        };
        (status, status_body)
    }
}
