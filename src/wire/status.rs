//! ResponseStatus, ServiceStack's error shape (servicestack-wire.md §4.1). `Errors` is always
//! written, `[]` when empty, as `ResponseStatusUtils.CreateResponseStatus` does.
#![allow(
    non_snake_case,
    reason = "members carry the exact ServiceStack wire names"
)]

use std::collections::BTreeMap;

use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

/// One field's failure.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
pub struct ResponseError {
    pub ErrorCode: String,
    pub FieldName: String,
    pub Message: String,
    #[serde(skip_serializing_if = "Option::is_none", default)]
    pub Meta: Option<BTreeMap<String, String>>,
}

/// The error member of every response DTO.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
pub struct ResponseStatus {
    pub ErrorCode: String,
    #[serde(skip_serializing_if = "Option::is_none", default)]
    pub Message: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none", default)]
    pub StackTrace: Option<String>,
    #[serde(default)]
    pub Errors: Vec<ResponseError>,
    #[serde(skip_serializing_if = "Option::is_none", default)]
    pub Meta: Option<BTreeMap<String, String>>,
}

/// The body of an error raised outside an operation (`ErrorResponse` in ServiceStack).
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
pub struct ErrorResponse {
    pub ResponseStatus: ResponseStatus,
}
