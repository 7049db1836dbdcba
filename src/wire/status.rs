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

/// An error body: the operation's response DTO with only `ResponseStatus` set, as
/// ServiceStack's `DtoUtils.CreateErrorResponse` builds it (the response type of the request,
/// `WebRequestUtils.GetErrorResponseDtoType`), or `ErrorResponse` when no operation was
/// reached. Serialized as a struct named `type_name`, so every format (XML's root element
/// included) names the type a client deserializes the error into.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ErrorBody {
    pub type_name: &'static str,
    pub status: ResponseStatus,
}

impl Serialize for ErrorBody {
    fn serialize<S: serde::Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        use serde::ser::SerializeStruct;
        let mut body = serializer.serialize_struct(self.type_name, 1)?;
        body.serialize_field("ResponseStatus", &self.status)?;
        body.end()
    }
}

/// For CSV, whose columns come from the type: every error body has the shape of
/// `ErrorResponse` (only `ResponseStatus` is set), whatever its name.
impl JsonSchema for ErrorBody {
    fn schema_name() -> std::borrow::Cow<'static, str> {
        ErrorResponse::schema_name()
    }

    fn json_schema(generator: &mut schemars::SchemaGenerator) -> schemars::Schema {
        ErrorResponse::json_schema(generator)
    }
}

/// The CLR namespace of the service's DTOs (what .NET prints before a type name, e.g. in
/// `Could not deserialize … using CRM.AgencyPlatform.API.Internal.CustomerLinkCreateRequest'`).
pub const DTO_NAMESPACE: &str = "CRM.AgencyPlatform.API.Internal";

/// One FluentValidation failure, to be written as ServiceStack writes it
/// (`ValidationException.ToResponseStatus`: `Meta` = the message formatter's placeholder values).
#[derive(Debug, Clone)]
pub struct Failure<'a> {
    /// The C# property name (`FieldName`).
    pub field: &'a str,
    /// The name in messages; FluentValidation splits the property name (`Recipient Email`).
    pub display: Option<&'a str>,
    pub code: &'a str,
    /// The message with `{PropertyName}`, `{PropertyValue}` and the validator's placeholders.
    pub template: &'a str,
    /// `PropertyValue`, omitted from `Meta` when null (ServiceStack omits null map values).
    pub value: Option<&'a str>,
    /// The validator's own placeholders (`From`/`To`, `ComparisonValue`, `MinLength`, …).
    pub args: Vec<(&'static str, String)>,
}

impl Failure<'_> {
    /// The `ResponseError`: message formatted, `Meta` carrying every placeholder value.
    pub fn to_error(&self) -> ResponseError {
        let display = self
            .display
            .map_or_else(|| split_pascal_case(self.field), str::to_owned);
        let mut meta: BTreeMap<String, String> = self
            .args
            .iter()
            .map(|(k, v)| ((*k).to_owned(), v.clone()))
            .collect();
        meta.insert("PropertyName".into(), display);
        if let Some(value) = self.value {
            meta.insert("PropertyValue".into(), value.to_owned());
        }
        ResponseError {
            ErrorCode: self.code.to_owned(),
            FieldName: self.field.to_owned(),
            Message: format_placeholders(self.template, &meta),
            Meta: Some(meta),
        }
    }
}

/// Replaces each `{Name}` whose name is a placeholder; other braces stay as written
/// (FluentValidation's `MessageFormatter.BuildMessage`). One pass, so placeholder values are
/// never themselves formatted.
fn format_placeholders(template: &str, values: &BTreeMap<String, String>) -> String {
    let mut out = String::with_capacity(template.len() + 32);
    let mut rest = template;
    while let Some(open) = rest.find('{') {
        out.push_str(&rest[..open]);
        let after = &rest[open + 1..];
        let value = after
            .find('}')
            .and_then(|close| values.get(&after[..close]).map(|v| (v, close)));
        match value {
            Some((v, close)) => {
                out.push_str(v);
                rest = &after[close + 1..];
            }
            None => {
                out.push('{');
                rest = after;
            }
        }
    }
    out.push_str(rest);
    out
}

/// FluentValidation's `SplitPascalCase` (its default display name): a space before a capital
/// that follows a non-capital or starts a new word (`CustomerLinkUID` → `Customer Link UID`).
pub fn split_pascal_case(name: &str) -> String {
    let chars: Vec<char> = name.chars().collect();
    let mut out = String::with_capacity(name.len() + 4);
    for (i, c) in chars.iter().enumerate() {
        let upper = |j: usize| chars.get(j).is_some_and(|c| c.is_uppercase());
        let next_is_lower = i + 1 < chars.len() && !upper(i + 1);
        if c.is_uppercase() && ((i > 1 && !upper(i - 1)) || next_is_lower) {
            out.push(' ');
        }
        if *c != '.' || i + 1 == chars.len() || !upper(i + 1) {
            out.push(*c);
        }
    }
    out.trim().to_owned()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn property_names_split_as_fluent_validation_does() {
        for (name, split) in [
            ("RecipientEmail", "Recipient Email"),
            ("CustomerLinkUID", "Customer Link UID"),
            ("ContactId", "Contact Id"),
            ("Take", "Take"),
            ("ExpiresInHours", "Expires In Hours"),
        ] {
            assert_eq!(split_pascal_case(name), split);
        }
    }

    #[test]
    fn failures_format_their_placeholders_and_carry_them_in_meta() {
        let failure = Failure {
            field: "MaxViews",
            display: None,
            code: "InclusiveBetween",
            template: "'{PropertyName}' must be between {From} and {To}. You entered {PropertyValue}. {x}",
            value: Some("{From}"),
            args: vec![("From", "1".into()), ("To", "25".into())],
        };
        let error = failure.to_error();
        assert_eq!(
            error.Message,
            "'Max Views' must be between 1 and 25. You entered {From}. {x}"
        );
        let meta = error.Meta.unwrap_or_default();
        assert_eq!(
            meta.get("PropertyName").map(String::as_str),
            Some("Max Views")
        );
        assert_eq!(
            meta.get("PropertyValue").map(String::as_str),
            Some("{From}")
        );
        assert_eq!(meta.get("To").map(String::as_str), Some("25"));
    }
}
