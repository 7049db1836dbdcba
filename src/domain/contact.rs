//! Contacts: the tenant's known recipients. A link to a contact copies its addresses and its
//! SMS consent at creation, so later edits of the contact do not change what a link promised.

use serde::{Deserialize, Serialize};
use uuid::Uuid;

use super::recipient::{is_plausible_email, normalise_phone};
use super::text::name_error;
use super::{ContactId, FieldError, Rule, TenantId, UnixMillis};

/// A stored contact (the recipient-relevant subset of the platform's Contact DTO).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Contact {
    pub tenant_id: TenantId,
    pub contact_id: ContactId,
    pub contact_guid: Uuid,
    pub first_name: Option<String>,
    pub last_name: Option<String>,
    pub name: Option<String>,
    pub email_work: Option<String>,
    pub email_personal: Option<String>,
    pub phone: Option<String>,
    pub sms_opt_in: bool,
    pub do_not_contact: bool,
    pub active: bool,
    pub deleted: bool,
    #[serde(default)]
    pub updated_at: UnixMillis,
}

impl Contact {
    /// The name a person would recognise: `Name`, else first + last, else an address.
    pub fn display_name(&self) -> Option<String> {
        let joined = [self.first_name.as_deref(), self.last_name.as_deref()]
            .into_iter()
            .flatten()
            .filter(|s| !s.trim().is_empty())
            .collect::<Vec<_>>()
            .join(" ");
        non_empty(self.name.as_deref())
            .map(str::to_owned)
            .or_else(|| (!joined.is_empty()).then_some(joined))
            .or_else(|| self.email().map(str::to_owned))
    }

    /// The address links go to: work email first, then personal.
    pub fn email(&self) -> Option<&str> {
        non_empty(self.email_work.as_deref()).or_else(|| non_empty(self.email_personal.as_deref()))
    }

    pub fn phone(&self) -> Option<&str> {
        non_empty(self.phone.as_deref())
    }

    /// Whether the contact agreed to SMS and has not asked to be left alone.
    pub fn sms_consent(&self) -> bool {
        self.sms_opt_in && !self.do_not_contact
    }

    /// Whether a link may be created for this contact at all.
    pub fn is_usable(&self) -> bool {
        self.active && !self.deleted
    }

    /// Checks names (nothing that cannot go into a mail header) and checks and normalises
    /// addresses before the contact is stored.
    pub fn validate(mut self) -> Result<Self, Vec<FieldError>> {
        let mut errors: Vec<FieldError> = [
            ("Name", &self.name),
            ("FirstName", &self.first_name),
            ("LastName", &self.last_name),
        ]
        .into_iter()
        .filter_map(|(field, value)| name_error(field, value.as_deref()))
        .collect();
        for (field, value) in [
            ("EmailWork", &self.email_work),
            ("EmailPersonal", &self.email_personal),
        ] {
            if let Some(bad) = non_empty(value.as_deref()).filter(|e| !is_plausible_email(e)) {
                errors.push(FieldError::new(field, Rule::Email).value(bad));
            }
        }
        if let Some(phone) = self.phone() {
            match normalise_phone(phone) {
                Some(p) => self.phone = Some(p),
                None => errors.push(phone_error("Phone", phone)),
            }
        }
        if self.contact_id.get() <= 0 {
            errors.push(FieldError::new("ContactId", Rule::GreaterThan(0)).value(self.contact_id));
        }
        if errors.is_empty() {
            Ok(self)
        } else {
            Err(errors)
        }
    }
}

/// The error for a phone number that is not plausible E.164.
pub fn phone_error(field: &'static str, value: &str) -> FieldError {
    FieldError::new(field, Rule::Custom("Phone"))
        .value(value)
        .message(
            "'{PropertyName}' is not a valid phone number: use international form, e.g. \
             +15551234567.",
        )
}

fn non_empty(s: Option<&str>) -> Option<&str> {
    s.map(str::trim).filter(|s| !s.is_empty())
}
