//! domain: the pure rules of customer links — records, status, creation rules, policy tiers,
//! tokens and keyed hashes. No I/O here: the store persists these types, the api layer maps
//! them to wire DTOs, and every rule can be unit-tested without a server.

pub mod contact;
pub mod delivery;
pub mod link;
pub mod otp;
pub mod policy;
pub mod portal;
pub mod recipient;
pub mod resource_type;
pub mod tenant;
pub mod text;
pub mod token;

/// One rejected input field, named as the wire names it (PascalCase).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FieldError {
    pub field: &'static str,
    /// A FluentValidation-style code: `NotEmpty`, `Email`, `InclusiveBetween`, …
    pub code: &'static str,
    pub message: String,
}

impl FieldError {
    pub fn new(field: &'static str, code: &'static str, message: impl Into<String>) -> Self {
        Self {
            field,
            code,
            message: message.into(),
        }
    }
}
