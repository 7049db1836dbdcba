//! Which links a bulk revocation takes: every customer link of the tenant that is not yet
//! revoked and matches each given filter. A filter names a *subject* (a resource, a recipient
//! contact, or the staff user who created the links); `Status` alone narrows but is not one,
//! so "revoke everything" cannot be sent by accident. Pure.

use uuid::Uuid;

use super::link::{LinkRecord, LinkStatus};
use super::resource_type;
use super::share::Family;
use super::{ContactId, FieldError, Rule, UnixMillis, UserId};

/// A bulk revocation's filters, already bound from the wire.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct LinkFilter {
    /// The resource type as stored (cleaned) and the resource uid.
    pub resource: Option<(String, Uuid)>,
    pub contact: Option<ContactId>,
    pub created_by: Option<UserId>,
    pub status: Option<LinkStatus>,
}

/// The raw filters of a request.
#[derive(Debug, Clone, Default)]
pub struct FilterInput {
    pub resource_type: Option<String>,
    pub resource_uid: Option<Uuid>,
    pub contact: Option<i32>,
    pub created_by: Option<Uuid>,
    pub status: Option<String>,
}

impl LinkFilter {
    /// Validates the filters: a resource needs both its type and uid, at least one subject is
    /// required, and `Status` must name a status other than `Revoked`.
    pub fn parse(input: FilterInput) -> Result<LinkFilter, Vec<FieldError>> {
        let mut errors = Vec::new();
        let resource = resource(&input, &mut errors);
        let status = match input
            .status
            .as_deref()
            .map(str::trim)
            .filter(|s| !s.is_empty())
        {
            None => None,
            Some(text) => match LinkStatus::parse(text) {
                Some(s) if s != LinkStatus::Revoked => Some(s),
                _ => {
                    errors.push(FieldError::new("Status", Rule::Enum).value(text));
                    None
                }
            },
        };
        let filter = LinkFilter {
            resource,
            contact: input.contact.filter(|c| *c != 0).map(ContactId::from),
            created_by: input.created_by.filter(|u| !u.is_nil()).map(UserId::from),
            status,
        };
        if errors.is_empty() && !filter.has_subject() {
            errors.push(FieldError::new("ResourceUid", Rule::NotEmpty).message(
                "Name what to revoke: 'Resource Type' with 'Resource Uid', \
                 'Recipient Contact Id' or 'Created By User Id'.",
            ));
        }
        if errors.is_empty() {
            Ok(filter)
        } else {
            Err(errors)
        }
    }

    fn has_subject(&self) -> bool {
        self.resource.is_some() || self.contact.is_some() || self.created_by.is_some()
    }

    /// Whether `link` is one to revoke at `now`: a customer link, not revoked yet, matching
    /// every filter.
    pub fn matches(&self, link: &LinkRecord, now: UnixMillis) -> bool {
        let resource = self.resource.as_ref().is_none_or(|(rt, ru)| {
            link.resource_type.eq_ignore_ascii_case(rt) && link.resource_uid == *ru
        });
        Family::CustomerLink.owns(link)
            && link.revoked_at.is_none()
            && resource
            && self
                .contact
                .is_none_or(|c| link.recipient_contact_id == Some(c))
            && self.created_by.is_none_or(|u| link.created_by_user_id == u)
            && self.status.is_none_or(|s| link.status(now) == s)
    }
}

fn resource(input: &FilterInput, errors: &mut Vec<FieldError>) -> Option<(String, Uuid)> {
    let rt = input
        .resource_type
        .as_deref()
        .filter(|t| !t.trim().is_empty());
    let ru = input.resource_uid.filter(|u| !u.is_nil());
    match (rt, ru) {
        (None, None) => None,
        (Some(rt), Some(ru)) => match resource_type::clean(rt) {
            Ok(clean) => Some((clean, ru)),
            Err(_) => {
                errors.push(FieldError::new("ResourceType", Rule::Predicate).value(rt));
                None
            }
        },
        (None, Some(_)) => {
            errors.push(FieldError::new("ResourceType", Rule::NotEmpty));
            None
        }
        (Some(_), None) => {
            errors.push(FieldError::new("ResourceUid", Rule::NotEmpty));
            None
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::domain::link::tests_support::record as sample_link;

    #[test]
    fn a_subject_is_required_and_status_alone_is_not_one() {
        let status_only = FilterInput {
            status: Some("Active".into()),
            ..FilterInput::default()
        };
        assert!(LinkFilter::parse(status_only).is_err());
        assert!(LinkFilter::parse(FilterInput::default()).is_err());
        let half = FilterInput {
            resource_type: Some("Quote".into()),
            ..FilterInput::default()
        };
        let errors = LinkFilter::parse(half).unwrap_err();
        assert_eq!(errors[0].field, "ResourceUid");
        let revoked = FilterInput {
            contact: Some(7),
            status: Some("Revoked".into()),
            ..FilterInput::default()
        };
        assert_eq!(LinkFilter::parse(revoked).unwrap_err()[0].field, "Status");
    }

    #[test]
    fn matches_every_filter_and_never_a_revoked_link() {
        let mut link = sample_link();
        let filter = LinkFilter {
            resource: Some((link.resource_type.to_uppercase(), link.resource_uid)),
            created_by: Some(link.created_by_user_id),
            ..LinkFilter::default()
        };
        let now = link.created_at;
        assert!(filter.matches(&link, now));
        let other_contact = LinkFilter {
            contact: Some(ContactId::from(999)),
            ..filter.clone()
        };
        assert!(!other_contact.matches(&link, now));
        link.revoked_at = Some(now);
        assert!(!filter.matches(&link, now));
    }
}
