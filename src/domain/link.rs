//! Customer links: the stored record, its computed status, and the rules that turn a staff
//! request into a new link (recipient, tier, expiry, view cap). Pure: the caller supplies
//! the contact, policy, caller and clock reading.

use serde::{Deserialize, Serialize};
use uuid::Uuid;

use super::channel_set::ChannelSet;
use super::contact::{Contact, phone_error};
use super::delivery::{DeliveryRecord, channels_of};
use super::locale::Locale;
use super::policy::{Channel, Policy, Tier};
use super::recipient::{is_plausible_email, normalise_phone};
use super::resource_type::{self, Unusable};
use super::tenant::StaffCaller;
use super::{
    ContactId, FieldError, HOUR_MS, LinkUid, Rule, TenantId, TokenHash, UnixMillis, UserId,
};

/// Who a link was made for.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub enum RecipientType {
    Contact,
    AdHoc,
}

impl RecipientType {
    pub fn as_str(self) -> &'static str {
        match self {
            RecipientType::Contact => "Contact",
            RecipientType::AdHoc => "AdHoc",
        }
    }
}

/// A link as stored. `token_hash` is the only trace of the token.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct LinkRecord {
    pub link_id: u64,
    pub uid: LinkUid,
    pub tenant_id: TenantId,
    pub token_hash: TokenHash,
    pub resource_type: String,
    pub resource_uid: Uuid,
    pub sensitivity_tier: String,
    pub require_otp: bool,
    pub otp_channel: Option<Channel>,
    /// `Email,Sms`: the channels the link last went out on, set only by
    /// [`LinkRecord::sent_over`] from the deliveries actually queued.
    pub delivery_channels: ChannelSet,
    pub recipient_contact_id: Option<ContactId>,
    pub recipient_email: Option<String>,
    pub recipient_phone: Option<String>,
    pub recipient_display_name: Option<String>,
    pub recipient_type: RecipientType,
    pub sms_consent_snapshot: bool,
    pub created_by_user_id: UserId,
    pub created_by_agent_id: Option<i32>,
    pub created_at: UnixMillis,
    pub expires_at: UnixMillis,
    pub max_views: u32,
    pub view_count: u32,
    pub revoked_at: Option<UnixMillis>,
    pub revoked_by_user_id: Option<UserId>,
    /// When the link was re-sent within the last hour (resend rate limit).
    #[serde(default)]
    pub resent_at: Vec<UnixMillis>,
    /// Digits of its one-time passcodes (0 = the default 6).
    #[serde(default)]
    pub otp_digits: u8,
    /// The live passcode, if one was requested.
    #[serde(default)]
    pub otp: Option<super::otp::OtpState>,
    /// Wrong passcode entries since the last success or unlock.
    #[serde(default)]
    pub otp_failures: u32,
    /// Set when the failure budget ran out; cleared by staff (unlock).
    #[serde(default)]
    pub locked_at: Option<UnixMillis>,
    /// The recipient's language, if the creator named one (pages then ignore the browser's
    /// `Accept-Language`; messages are in English without one). Absent from old records.
    #[serde(default)]
    pub locale: Option<Locale>,
}

/// A link's state, computed when read (never stored, so it cannot go stale).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum LinkStatus {
    Active,
    Expired,
    Exhausted,
    Revoked,
    /// Too many wrong passcodes; staff must unlock it.
    Locked,
}

impl LinkStatus {
    pub fn as_str(self) -> &'static str {
        match self {
            LinkStatus::Active => "Active",
            LinkStatus::Expired => "Expired",
            LinkStatus::Exhausted => "Exhausted",
            LinkStatus::Revoked => "Revoked",
            LinkStatus::Locked => "Locked",
        }
    }

    /// Parses a status name case-insensitively (for list filters).
    pub fn parse(text: &str) -> Option<Self> {
        [
            Self::Active,
            Self::Expired,
            Self::Exhausted,
            Self::Revoked,
            Self::Locked,
        ]
        .into_iter()
        .find(|s| s.as_str().eq_ignore_ascii_case(text.trim()))
    }
}

impl LinkRecord {
    /// Revocation wins over expiry, expiry over exhaustion, exhaustion over a lock.
    pub fn status(&self, now: UnixMillis) -> LinkStatus {
        if self.revoked_at.is_some() {
            LinkStatus::Revoked
        } else if now >= self.expires_at {
            LinkStatus::Expired
        } else if self.view_count >= self.max_views {
            LinkStatus::Exhausted
        } else if self.locked_at.is_some() {
            LinkStatus::Locked
        } else {
            LinkStatus::Active
        }
    }

    /// Records the channels the link went out on (`Email,Sms`), from the deliveries just
    /// queued; a resend that queued none keeps the channels of the last one that did.
    pub fn sent_over(&mut self, queued: &[DeliveryRecord]) {
        if !queued.is_empty() {
            self.delivery_channels = channels_of(queued);
        }
    }

    /// Where its passcodes go: the passcode channel and the recipient's address on it (`None`
    /// when the recipient has none).
    pub fn passcode_address(&self) -> (Channel, Option<&str>) {
        let (channel, to) = match self.otp_channel {
            Some(Channel::Sms) => (Channel::Sms, self.recipient_phone.as_deref()),
            _ => (Channel::Email, self.recipient_email.as_deref()),
        };
        (channel, to.filter(|t| !t.is_empty()))
    }

    /// When the link stopped being usable for good (revoked or expired), if it has.
    pub fn retired_at(&self, now: UnixMillis) -> Option<UnixMillis> {
        match (self.revoked_at, now >= self.expires_at) {
            (Some(r), true) => Some(r.min(self.expires_at)),
            (Some(r), false) => Some(r),
            (None, true) => Some(self.expires_at),
            (None, false) => None,
        }
    }
}

/// A staff request to create a link, already bound from the wire.
#[derive(Debug, Clone, Default)]
pub struct CreateLink {
    pub resource_type: Option<String>,
    pub resource_uid: Option<Uuid>,
    pub recipient_contact_id: Option<ContactId>,
    pub recipient_email: Option<String>,
    pub recipient_phone: Option<String>,
    pub deliver_email: bool,
    pub deliver_sms: bool,
    pub expires_in_hours: Option<i32>,
    pub max_views: Option<i32>,
    /// The `Locale` as sent (`en`, `es-MX`, …); checked by the creation rules.
    pub locale: Option<String>,
}

/// The contact lookup result the rules need.
#[derive(Debug, Clone, Copy)]
pub enum ContactLookup<'a> {
    NotRequested,
    Found(&'a Contact),
    Missing,
}

impl<'a> ContactLookup<'a> {
    /// What looking up `asked` found (`found`: the usable contact, if any).
    pub fn of(found: Option<&'a Contact>, asked: Option<ContactId>) -> Self {
        match (found, asked) {
            (Some(c), _) => ContactLookup::Found(c),
            (None, Some(_)) => ContactLookup::Missing,
            (None, None) => ContactLookup::NotRequested,
        }
    }
}

/// Everything of a new link except the id the store assigns.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NewLink {
    pub record: LinkRecord,
}

/// Applies the creation rules. Every offending field is reported, not just the first.
pub fn plan_link(
    req: &CreateLink,
    contact: ContactLookup<'_>,
    policy: &Policy,
    caller: &StaffCaller,
    now: UnixMillis,
    uid: LinkUid,
    token_hash: TokenHash,
) -> Result<NewLink, Vec<FieldError>> {
    let mut errors = Vec::new();
    let resource_type = clean_resource_type(req.resource_type.as_deref(), &mut errors);
    errors.extend(resource_uid_error(req.resource_uid));
    let tier = resource_type
        .as_deref()
        .and_then(|rt| tier_of(policy, rt, &mut errors));
    let (Some(resource_type), Some((name, tier))) = (resource_type, tier) else {
        // The recipient's errors are reported too.
        resolve_recipient(req, contact, &mut errors);
        return Err(errors);
    };
    let planned = Planned {
        resource_type,
        tier_name: name,
        tier,
        uid,
        token_hash,
    };
    plan_in_tier(req, contact, planned, caller, now, errors)
}

/// What decides a link before its recipient and limits: its resource type, its tier (chosen
/// by the policy for customer links, by the caller within the policy for document shares),
/// and its identity.
pub struct Planned<'a> {
    pub resource_type: String,
    pub tier_name: &'a str,
    pub tier: &'a Tier,
    pub uid: LinkUid,
    pub token_hash: TokenHash,
}

/// The rest of the creation rules once the tier is known: recipient, expiry, views, passcode
/// channel. `errors` holds what was already found wrong.
pub fn plan_in_tier(
    req: &CreateLink,
    contact: ContactLookup<'_>,
    planned: Planned<'_>,
    caller: &StaffCaller,
    now: UnixMillis,
    mut errors: Vec<FieldError>,
) -> Result<NewLink, Vec<FieldError>> {
    let (tier_name, tier) = (planned.tier_name, planned.tier);
    let recipient = resolve_recipient(req, contact, &mut errors);
    let (hours, max_views) = tier_limits(req, tier, &mut errors);
    let Some(recipient) = recipient else {
        return Err(errors);
    };
    let otp_channel = otp_channel((tier_name, tier), &recipient, &mut errors);
    let locale = requested_locale(req.locale.as_deref(), &mut errors);
    if !errors.is_empty() {
        return Err(errors);
    }
    Ok(NewLink {
        record: LinkRecord {
            link_id: 0,
            uid: planned.uid,
            tenant_id: caller.tenant_id,
            token_hash: planned.token_hash,
            resource_type: planned.resource_type,
            resource_uid: req.resource_uid.unwrap_or_default(),
            sensitivity_tier: tier_name.to_owned(),
            require_otp: tier.require_otp,
            otp_channel,
            delivery_channels: ChannelSet::default(),
            recipient_contact_id: recipient.contact_id,
            recipient_email: recipient.email,
            recipient_phone: recipient.phone,
            recipient_display_name: recipient.display_name,
            recipient_type: recipient.kind,
            sms_consent_snapshot: recipient.sms_consent,
            created_by_user_id: caller.user_id,
            created_by_agent_id: caller.agent_id,
            created_at: now,
            expires_at: now.plus_ms(i64::from(hours).saturating_mul(HOUR_MS)),
            max_views,
            view_count: 0,
            revoked_at: None,
            revoked_by_user_id: None,
            resent_at: Vec::new(),
            otp_digits: tier.otp_digits,
            otp: None,
            otp_failures: 0,
            locked_at: None,
            locale,
        },
    })
}

/// The locale a create asks for: none when absent or blank; an unsupported one is refused
/// (400) rather than silently sent in English, so the creator learns at once.
fn requested_locale(asked: Option<&str>, errors: &mut Vec<FieldError>) -> Option<Locale> {
    let asked = asked.map(str::trim).filter(|a| !a.is_empty())?;
    let locale = Locale::parse(asked);
    if locale.is_none() {
        let supported: Vec<&str> = Locale::ALL.iter().map(|l| l.tag()).collect();
        errors.push(
            FieldError::new("Locale", Rule::Enum)
                .value(asked)
                .message(format!(
                    "'{{PropertyName}}' must be one of: {}.",
                    supported.join(", ")
                )),
        );
    }
    locale
}

/// The error for a missing or nil resource uid.
fn resource_uid_error(uid: Option<Uuid>) -> Option<FieldError> {
    let error = FieldError::new("ResourceUid", Rule::NotEmpty);
    match uid {
        None => Some(error),
        Some(nil) if nil.is_nil() => Some(error.value(nil.hyphenated())),
        Some(_) => None,
    }
}

/// The policy tier of a resource type; an error when the policy does not allow the type.
fn tier_of<'p>(
    policy: &'p Policy,
    resource_type: &str,
    errors: &mut Vec<FieldError>,
) -> Option<(&'p str, &'p Tier)> {
    let tier = policy.tier_for(resource_type);
    if tier.is_none() {
        errors.push(
            FieldError::new("ResourceType", Rule::Predicate)
                .value(resource_type)
                .message("'{PropertyName}' '{PropertyValue}' is not allowed by the policy."),
        );
    }
    tier
}

/// Expiry (hours) and view cap within the tier's bounds.
fn tier_limits(req: &CreateLink, tier: &Tier, errors: &mut Vec<FieldError>) -> (u32, u32) {
    let hours = bounded(
        req.expires_in_hours,
        tier.default_expires_in_hours,
        tier.max_expires_in_hours,
        "ExpiresInHours",
        errors,
    );
    let views = bounded(
        req.max_views,
        tier.max_views,
        tier.max_views,
        "MaxViews",
        errors,
    );
    (hours, views)
}

/// The passcode channel of a tier that requires one: the first the recipient can receive.
fn otp_channel(
    (tier_name, tier): (&str, &Tier),
    recipient: &Recipient,
    errors: &mut Vec<FieldError>,
) -> Option<Channel> {
    if !tier.require_otp {
        return None;
    }
    let channel = tier
        .otp_channels
        .iter()
        .copied()
        .find(|c| recipient.can_receive(*c));
    if channel.is_none() {
        errors.push(
            FieldError::new("RecipientEmail", Rule::NotEmpty).message(format!(
                "Tier '{tier_name}' requires a one-time passcode, but the recipient has no \
                 address for any of its channels."
            )),
        );
    }
    channel
}

struct Recipient {
    kind: RecipientType,
    contact_id: Option<ContactId>,
    email: Option<String>,
    phone: Option<String>,
    display_name: Option<String>,
    sms_consent: bool,
}

impl Recipient {
    /// The contact's addresses unless the request gave its own, or an ad-hoc recipient.
    fn new(contact: Option<&Contact>, email: Option<String>, phone: Option<String>) -> Self {
        match contact {
            Some(c) => Recipient {
                kind: RecipientType::Contact,
                contact_id: Some(c.contact_id),
                email: email.or_else(|| c.email().map(str::to_owned)),
                phone: phone.or_else(|| c.phone().and_then(normalise_phone)),
                display_name: c.display_name(),
                sms_consent: c.sms_consent(),
            },
            None => Recipient {
                kind: RecipientType::AdHoc,
                contact_id: None,
                display_name: email.clone().or_else(|| phone.clone()),
                email,
                phone,
                sms_consent: false,
            },
        }
    }

    fn can_receive(&self, channel: Channel) -> bool {
        match channel {
            Channel::Email => self.email.is_some(),
            Channel::Sms => self.phone.is_some(),
        }
    }
}

fn resolve_recipient(
    req: &CreateLink,
    contact: ContactLookup<'_>,
    errors: &mut Vec<FieldError>,
) -> Option<Recipient> {
    let before = errors.len();
    let email = non_empty(req.recipient_email.as_deref()).map(str::to_owned);
    if let Some(bad) = email.as_deref().filter(|e| !is_plausible_email(e)) {
        errors.push(FieldError::new("RecipientEmail", Rule::Email).value(bad));
    }
    let phone = match non_empty(req.recipient_phone.as_deref()) {
        Some(p) => normalise_phone(p).or_else(|| {
            errors.push(phone_error("RecipientPhone", p));
            None
        }),
        None => None,
    };
    let contact = match contact {
        ContactLookup::Found(c) => Some(c),
        ContactLookup::Missing => {
            errors.push(
                FieldError::new("RecipientContactId", Rule::Custom("NotFound"))
                    .value(req.recipient_contact_id.map_or(0, ContactId::get))
                    .message("Contact {PropertyValue} does not exist."),
            );
            return None;
        }
        ContactLookup::NotRequested => None,
    };
    let malformed = errors.len() > before;
    if contact.is_none() && email.is_none() && phone.is_none() && !malformed {
        errors.push(
            FieldError::new("RecipientContactId", Rule::NotEmpty).message(
                "A recipient is required: 'Recipient Contact Id', 'Recipient Email' or \
             'Recipient Phone'.",
            ),
        );
    }
    let recipient = Recipient::new(contact, email, phone);
    let wanted = (req.deliver_email, req.deliver_sms);
    let has = (recipient.email.is_some(), recipient.phone.is_some());
    errors.extend(missing_addresses(wanted, has));
    (errors.len() == before).then_some(recipient)
}

/// The errors for delivery channels (email, sms) asked for without an address to deliver to,
/// on create and on resend alike.
pub fn missing_addresses(wanted: (bool, bool), has: (bool, bool)) -> Vec<FieldError> {
    let missing = [
        (wanted.0 && !has.0, "DeliverEmail", "email address"),
        (wanted.1 && !has.1, "DeliverSms", "phone number"),
    ];
    missing
        .into_iter()
        .filter(|m| m.0)
        .map(|(_, field, what)| {
            FieldError::new(field, Rule::Predicate)
                .value("True")
                .message(format!("'{{PropertyName}}' needs a recipient {what}."))
        })
        .collect()
}

fn bounded(
    value: Option<i32>,
    default: u32,
    max: u32,
    field: &'static str,
    errors: &mut Vec<FieldError>,
) -> u32 {
    match value {
        None => default,
        Some(v) => match u32::try_from(v) {
            Ok(v) if (1..=max).contains(&v) => v,
            _ => {
                errors.push(
                    FieldError::new(field, Rule::InclusiveBetween(1, i64::from(max))).value(v),
                );
                default
            }
        },
    }
}

/// The resource type in the form it is stored and looked up in (see [`resource_type::clean`]).
fn clean_resource_type(raw: Option<&str>, errors: &mut Vec<FieldError>) -> Option<String> {
    match raw.map(resource_type::clean) {
        Some(Ok(clean)) => Some(clean),
        Some(Err(Unusable::NotAscii)) => {
            errors.push(
                FieldError::new("ResourceType", Rule::Predicate)
                    .value(raw.unwrap_or_default())
                    .message(
                        "'{PropertyName}' must be printable ASCII (look-alike letters are not \
                         accepted).",
                    ),
            );
            None
        }
        None | Some(Err(Unusable::Empty)) => {
            let error = FieldError::new("ResourceType", Rule::NotEmpty);
            errors.push(match raw {
                Some(text) => error.value(text),
                None => error,
            });
            None
        }
    }
}

fn non_empty(s: Option<&str>) -> Option<&str> {
    s.map(str::trim).filter(|s| !s.is_empty())
}

/// A sample record for other domain modules' unit tests.
#[cfg(test)]
pub(crate) mod tests_support {
    use super::*;
    use crate::domain::millis::ms;
    use crate::domain::policy::DEFAULT_POLICY;

    /// An active Quote link for `a@b.co`, created at 0.
    pub fn record() -> LinkRecord {
        let req = CreateLink {
            resource_type: Some("Quote".into()),
            resource_uid: Some(Uuid::from_u128(5)),
            recipient_email: Some("a@b.co".into()),
            ..CreateLink::default()
        };
        let caller = StaffCaller {
            tenant_id: TenantId::from_u128(7),
            user_id: UserId::from_u128(8),
            agent_id: None,
            roles: vec![],
            casing: None,
        };
        let policy = Policy::parse(DEFAULT_POLICY).unwrap();
        let planned = plan_link(
            &req,
            ContactLookup::NotRequested,
            &policy,
            &caller,
            ms(0),
            LinkUid::from_u128(9),
            TokenHash([1; 32]),
        );
        planned.unwrap().record
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::domain::millis::ms;
    use crate::domain::policy::DEFAULT_POLICY;

    fn caller() -> StaffCaller {
        StaffCaller {
            tenant_id: TenantId::from_u128(7),
            user_id: UserId::from_u128(8),
            agent_id: Some(3),
            roles: vec![],
            casing: None,
        }
    }

    fn plan(req: &CreateLink) -> Result<NewLink, Vec<FieldError>> {
        let policy = Policy::parse(DEFAULT_POLICY).unwrap();
        plan_link(
            req,
            ContactLookup::NotRequested,
            &policy,
            &caller(),
            ms(1_000),
            LinkUid::from_u128(9),
            TokenHash([1; 32]),
        )
    }

    fn quote_for(email: &str) -> CreateLink {
        CreateLink {
            resource_type: Some("Quote".into()),
            resource_uid: Some(Uuid::from_u128(5)),
            recipient_email: Some(email.into()),
            ..CreateLink::default()
        }
    }

    fn fields(r: Result<NewLink, Vec<FieldError>>) -> Vec<&'static str> {
        r.err()
            .unwrap_or_default()
            .into_iter()
            .map(|e| e.field)
            .collect()
    }

    #[test]
    fn ad_hoc_email_link_takes_tier_defaults() {
        let link = plan(&quote_for("a@b.co")).unwrap().record;
        assert_eq!(link.sensitivity_tier, "Standard");
        assert_eq!(link.expires_at, ms(1_000 + 168 * HOUR_MS));
        assert_eq!(link.max_views, 50);
        assert_eq!(link.recipient_type, RecipientType::AdHoc);
        assert_eq!(link.recipient_display_name.as_deref(), Some("a@b.co"));
        assert_eq!(link.status(ms(1_000)), LinkStatus::Active);
    }

    #[test]
    fn every_bad_field_is_reported() {
        let req = CreateLink {
            resource_type: Some("Quote".into()),
            recipient_email: Some("nope".into()),
            recipient_phone: Some("123".into()),
            max_views: Some(0),
            ..CreateLink::default()
        };
        assert_eq!(
            fields(plan(&req)),
            [
                "ResourceUid",
                "RecipientEmail",
                "RecipientPhone",
                "MaxViews"
            ]
        );
    }

    #[test]
    fn limits_follow_the_tier() {
        let mut req = quote_for("a@b.co");
        req.expires_in_hours = Some(721);
        req.max_views = Some(0);
        assert_eq!(fields(plan(&req)), ["ExpiresInHours", "MaxViews"]);
    }

    #[test]
    fn otp_channel_is_the_first_the_recipient_can_receive() {
        let mut req = quote_for("a@b.co");
        req.resource_type = Some("Claim".into());
        let link = plan(&req).unwrap().record;
        assert!(link.require_otp);
        assert_eq!(link.otp_channel, Some(Channel::Email));
        req.recipient_phone = Some("+15551234567".into());
        assert_eq!(plan(&req).unwrap().record.otp_channel, Some(Channel::Sms));
    }

    #[test]
    fn status_precedence() {
        let mut link = plan(&quote_for("a@b.co")).unwrap().record;
        link.view_count = link.max_views;
        assert_eq!(link.status(ms(1_000)), LinkStatus::Exhausted);
        assert_eq!(link.status(link.expires_at), LinkStatus::Expired);
        link.revoked_at = Some(ms(2_000));
        assert_eq!(link.status(ms(1_000)), LinkStatus::Revoked);
        assert_eq!(link.retired_at(ms(1_000)), Some(ms(2_000)));
    }

    #[test]
    fn passcodes_go_to_the_address_on_the_passcode_channel() {
        let mut link = tests_support::record();
        link.otp_channel = Some(Channel::Sms);
        assert_eq!(link.passcode_address(), (Channel::Sms, None));
        link.recipient_phone = Some("+15550100".into());
        assert_eq!(link.passcode_address(), (Channel::Sms, Some("+15550100")));
        link.otp_channel = None;
        assert_eq!(link.passcode_address(), (Channel::Email, Some("a@b.co")));
    }

    #[test]
    fn the_channels_are_those_last_queued() {
        let mut link = tests_support::record();
        assert_eq!(
            link.delivery_channels.to_string(),
            "",
            "nothing is queued before the store writes"
        );
        let new = |channel, to: &str| crate::domain::delivery::NewDelivery {
            channel,
            to: to.into(),
            sealed_token: vec![],
        };
        let kind = crate::domain::delivery::DeliveryKind::Link;
        let email =
            DeliveryRecord::queued(&link, kind, new(Channel::Email, "a@b.co"), ms(0), ms(0));
        let sms = DeliveryRecord::queued(&link, kind, new(Channel::Sms, "+15550100"), ms(0), ms(0));
        link.sent_over(&[email, sms]);
        assert_eq!(link.delivery_channels.to_string(), "Email,Sms");
        link.sent_over(&[]);
        assert_eq!(
            link.delivery_channels.to_string(),
            "Email,Sms",
            "a resend that queued none keeps them"
        );
    }
}
