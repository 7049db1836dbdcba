//! domain: the pure rules of customer links — records, status, creation rules, policy tiers,
//! tokens and keyed hashes. No I/O here: the store persists these types, the api layer maps
//! them to wire DTOs, and every rule can be unit-tested without a server.

pub mod attachment;
pub mod bin;
pub mod brand;
pub mod catalogue;
pub mod channel_set;
pub mod contact;
pub mod delivery;
pub mod evidence;
pub mod ids;
pub mod link;
pub mod link_filter;
pub mod locale;
pub mod millis;
pub mod otp;
pub mod policy;
pub mod portal;
pub mod recipient;
pub mod resend;
pub mod resource_type;
pub mod share;
pub mod tenant;
pub mod text;
pub mod token;
pub mod webhook;

pub use ids::{ContactId, LinkUid, TenantId, TokenHash, UserId};
pub use millis::UnixMillis;

/// One hour in milliseconds, the unit of every hourly budget (send counters, code and resend
/// limits) and of configured retention; times are Unix milliseconds throughout.
pub const HOUR_MS: i64 = 3_600_000;

/// One rejected input field, named as the wire names it (PascalCase), with the rule it broke
/// in FluentValidation's terms (servicestack-wire.md §4.3). The domain states the rule and its
/// values; the api layer renders ServiceStack's code, message and `Meta` from them, so every
/// message uses the split property name (`'Recipient Email'`) the same way.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FieldError {
    pub field: &'static str,
    pub rule: Rule,
    /// The value as sent (FluentValidation's `PropertyValue`); `None` when absent.
    pub value: Option<String>,
    /// A message replacing the rule's standard one (FluentValidation's `WithMessage`);
    /// `{PropertyName}` in it stands for the field's display name.
    pub message: Option<String>,
    /// The display name when the field is not a DTO member (FluentValidation's `WithName`).
    pub display: Option<&'static str>,
}

/// A FluentValidation validator, with the comparison values its message and `Meta` carry.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Rule {
    NotEmpty,
    Email,
    /// `GreaterThan(than)`.
    GreaterThan(i64),
    /// `InclusiveBetween(from, to)`.
    InclusiveBetween(i64, i64),
    /// A value outside an enumeration.
    Enum,
    /// `Must(...)`: a condition of this service (usually with its own message).
    Predicate,
    /// A check of this service's own with its own error code (`Phone`, `NotFound`, …); it
    /// always carries a message.
    Custom(&'static str),
}

impl FieldError {
    pub fn new(field: &'static str, rule: Rule) -> Self {
        Self {
            field,
            rule,
            value: None,
            message: None,
            display: None,
        }
    }

    /// The offending value, echoed in `Meta.PropertyValue` (never use it for secrets).
    #[must_use]
    pub fn value(mut self, value: impl ToString) -> Self {
        self.value = Some(value.to_string());
        self
    }

    /// A message of this service instead of the rule's standard one.
    #[must_use]
    pub fn message(mut self, message: impl Into<String>) -> Self {
        self.message = Some(message.into());
        self
    }

    /// The name shown in messages, for fields that are not DTO members (e.g. a header).
    #[must_use]
    pub fn display(mut self, display: &'static str) -> Self {
        self.display = Some(display);
        self
    }
}
