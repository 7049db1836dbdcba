//! Document shares: the sibling of customer links that points at one stored file (an
//! attachment) instead of a resource an application renders. A share *is* a link — the same
//! record, token, passcodes, views, outbox, access log and purge — so every guarantee of
//! links holds for it by construction; what differs is decided here: which family a record
//! belongs to, and how the caller's choice of tier is bounded by the policy.

use super::FieldError;
use super::Rule;
use super::channel_set::ChannelSet;
use super::link::{CreateLink, LinkRecord};
use super::policy::{Channel, Policy, Tier};
use super::token::{LinkToken, TOKEN_CHARS};

/// The resource type a share's record carries (its `resource_uid` is the attachment id).
/// Not printable ASCII, so no customer link can ever be created, listed or handed off
/// under it: `resource_type::clean` refuses it.
pub const SHARED_DOCUMENT: &str = "§DocumentShare";

/// The resource type whose policy tier is a share's floor.
pub const POLICY_RESOURCE_TYPE: &str = "Document";

/// Which API a link belongs to. Each family hashes its tokens under its own key, so a share's
/// token means nothing at `/portal/…` and a customer link's nothing at `/share/…`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Family {
    CustomerLink,
    DocumentShare,
}

impl Family {
    /// The family of a stored link.
    pub fn of(link: &LinkRecord) -> Family {
        if link.resource_type == SHARED_DOCUMENT {
            Family::DocumentShare
        } else {
            Family::CustomerLink
        }
    }

    /// The recipient's path segment: `/portal/{Token}` or `/share/{Token}`.
    pub fn path(self) -> &'static str {
        match self {
            Family::CustomerLink => "portal",
            Family::DocumentShare => "share",
        }
    }

    /// Whether `link` is one of this family's.
    pub fn owns(self, link: &LinkRecord) -> bool {
        Family::of(link) == self
    }

    /// The URL the recipient opens: `{public_url}/portal/{Token}` or `…/share/{Token}`.
    /// Built in one allocation: it is on every create's reply.
    pub fn recipient_url(self, public_url: &str, token: &LinkToken) -> String {
        let path = self.path();
        let mut url = String::with_capacity(public_url.len() + path.len() + 2 + TOKEN_CHARS);
        url.push_str(public_url);
        url.push('/');
        url.push_str(path);
        url.push('/');
        token.encode_into(&mut url);
        url
    }
}

/// What a message calls the thing shared: the resource type, or "document" for a share.
pub fn shown_type(link: &LinkRecord) -> &str {
    match Family::of(link) {
        Family::CustomerLink => &link.resource_type,
        Family::DocumentShare => "document",
    }
}

/// What a `DocumentShareCreateRequest` asks of the tier, beside what a link create asks.
#[derive(Debug, Clone, Default)]
pub struct TierChoice {
    /// `SensitivityTier`; empty takes the policy's tier for documents.
    pub tier: Option<String>,
    /// `RequireOtp`: `true` adds a passcode to a tier without one; `false` (what clients with
    /// a non-nullable bool always send) never removes one.
    pub require_otp: bool,
    /// `OtpChannel`: the one channel passcodes go over, if the tier allows it.
    pub otp_channel: Option<String>,
}

/// The tier a share is created in: the caller's choice, if it is at least as strict as the
/// policy's tier for documents, tightened by `RequireOtp` and `OtpChannel`.
pub fn choose_tier(policy: &Policy, choice: &TierChoice) -> Result<(String, Tier), FieldError> {
    let (floor_name, floor) = policy.tier_for(POLICY_RESOURCE_TYPE).ok_or_else(|| {
        FieldError::new("AttachmentId", Rule::Predicate)
            .message("The policy does not allow documents to be shared.")
    })?;
    let (name, chosen) = match choice
        .tier
        .as_deref()
        .map(str::trim)
        .filter(|t| !t.is_empty())
    {
        None => (floor_name, floor),
        Some(asked) => policy
            .tiers
            .iter()
            .find(|(name, _)| name.eq_ignore_ascii_case(asked))
            .map(|(name, tier)| (name.as_str(), tier))
            .ok_or_else(|| FieldError::new("SensitivityTier", Rule::Enum).value(asked))?,
    };
    if !chosen.is_at_least_as_strict_as(floor) {
        return Err(FieldError::new("SensitivityTier", Rule::Predicate)
            .value(name)
            .message(format!(
                "Tier '{{PropertyValue}}' is weaker than the policy's tier for documents \
                 ('{floor_name}')."
            )));
    }
    let mut tier = chosen.clone();
    tighten(&mut tier, choice)?;
    Ok((name.to_owned(), tier))
}

/// Applies `RequireOtp` and `OtpChannel` to the chosen tier.
fn tighten(tier: &mut Tier, choice: &TierChoice) -> Result<(), FieldError> {
    if choice.require_otp && !tier.require_otp {
        tier.require_otp = true;
        tier.otp_channels = vec![Channel::Email, Channel::Sms];
    }
    let Some(asked) = choice
        .otp_channel
        .as_deref()
        .map(str::trim)
        .filter(|c| !c.is_empty())
    else {
        return Ok(());
    };
    let channel = [Channel::Email, Channel::Sms]
        .into_iter()
        .find(|c| c.as_str().eq_ignore_ascii_case(asked))
        .ok_or_else(|| FieldError::new("OtpChannel", Rule::Enum).value(asked))?;
    if !tier.require_otp {
        // No passcode is asked for, so there is no channel to choose.
        return Ok(());
    }
    if !tier.otp_channels.contains(&channel) {
        return Err(FieldError::new("OtpChannel", Rule::Predicate)
            .value(asked)
            .message("'{PropertyName}' '{PropertyValue}' is not a channel of the tier."));
    }
    tier.otp_channels = vec![channel];
    Ok(())
}

/// `DeliveryChannels` (`Email`, `Sms`, `Email,Sms`, empty): which deliveries the create
/// makes, as a link create's `DeliverEmail`/`DeliverSms`.
pub fn delivery_wanted(text: Option<&str>) -> Result<(bool, bool), FieldError> {
    let text = text.map(str::trim).unwrap_or_default();
    let mut set = ChannelSet::default();
    for name in text.split(',').map(str::trim).filter(|n| !n.is_empty()) {
        let channel = [Channel::Email, Channel::Sms]
            .into_iter()
            .find(|c| c.as_str().eq_ignore_ascii_case(name))
            .ok_or_else(|| FieldError::new("DeliveryChannels", Rule::Enum).value(text))?;
        set = set.with(channel);
    }
    Ok((set.contains(Channel::Email), set.contains(Channel::Sms)))
}

/// A share's create as the link rules read it: the attachment is its resource; `0` for a
/// non-nullable count means "the tier's default".
pub fn as_link_request(mut req: CreateLink) -> CreateLink {
    req.resource_type = Some(SHARED_DOCUMENT.to_owned());
    req.expires_in_hours = req.expires_in_hours.filter(|h| *h != 0);
    req.max_views = req.max_views.filter(|v| *v != 0);
    req
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::domain::policy::DEFAULT_POLICY;

    fn policy() -> Policy {
        Policy::parse(DEFAULT_POLICY).unwrap()
    }

    fn choice(tier: &str, otp: bool, channel: &str) -> TierChoice {
        TierChoice {
            tier: Some(tier.into()),
            require_otp: otp,
            otp_channel: Some(channel.into()),
        }
    }

    #[test]
    fn a_recipient_url_is_the_public_url_the_family_path_and_the_token() {
        let token = LinkToken::generate().unwrap();
        for family in [Family::CustomerLink, Family::DocumentShare] {
            let url = family.recipient_url("https://links.example.com", &token);
            let want = format!(
                "https://links.example.com/{}/{}",
                family.path(),
                token.encode()
            );
            assert_eq!(url, want);
            assert_eq!(url.capacity(), url.len(), "one allocation, exactly sized");
        }
    }

    #[test]
    fn the_floor_is_the_policys_tier_for_documents() {
        let (name, tier) = choose_tier(&policy(), &TierChoice::default()).unwrap();
        assert_eq!(name, "Confidential");
        assert!(tier.require_otp);
    }

    #[test]
    fn a_weaker_tier_is_refused_and_a_stricter_one_taken() {
        let err = choose_tier(&policy(), &choice("Standard", false, "")).unwrap_err();
        assert_eq!(err.field, "SensitivityTier");
        let (name, tier) = choose_tier(&policy(), &choice("restricted", false, "")).unwrap();
        assert_eq!((name.as_str(), tier.max_views), ("Restricted", 3));
        let err = choose_tier(&policy(), &choice("Nope", false, "")).unwrap_err();
        assert_eq!(err.field, "SensitivityTier");
    }

    #[test]
    fn otp_channel_narrows_within_the_tier() {
        let (_, tier) = choose_tier(&policy(), &choice("", false, "Sms")).unwrap();
        assert_eq!(tier.otp_channels, vec![Channel::Sms]);
        let err = choose_tier(&policy(), &choice("", false, "Fax")).unwrap_err();
        assert_eq!(err.field, "OtpChannel");
    }

    #[test]
    fn require_otp_adds_a_passcode_and_false_never_removes_one() {
        let mut p = policy();
        p.resource_types
            .insert("Document".into(), "Standard".into());
        let (_, tier) = choose_tier(&p, &TierChoice::default()).unwrap();
        assert!(!tier.require_otp);
        let (_, tier) = choose_tier(&p, &choice("", true, "Email")).unwrap();
        assert!(tier.require_otp);
        assert_eq!(tier.otp_channels, vec![Channel::Email]);
        let (_, tier) = choose_tier(&policy(), &choice("", false, "")).unwrap();
        assert!(tier.require_otp);
    }

    #[test]
    fn delivery_channels_parse_both_ways() {
        assert_eq!(delivery_wanted(Some("Email,Sms")), Ok((true, true)));
        assert_eq!(delivery_wanted(Some(" sms ")), Ok((false, true)));
        assert_eq!(delivery_wanted(None), Ok((false, false)));
        assert!(delivery_wanted(Some("Email,Pigeon")).is_err());
    }

    #[test]
    fn the_marker_type_can_never_be_a_customer_links() {
        assert!(crate::domain::resource_type::clean(SHARED_DOCUMENT).is_err());
    }
}
