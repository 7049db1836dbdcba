//! Sensitivity policy: resource types map to tiers, tiers decide OTP, expiry and view caps.
//! Loaded once at start-up and validated as a whole, so a broken policy stops the server
//! before it can mint a link under the wrong rules.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};

use super::resource_type::clean;

/// The policy built into the binary, identical to the repository's `data/policy.toml`.
pub const DEFAULT_POLICY: &str = include_str!("../../data/policy.toml");

/// A channel a code or link can travel over.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub enum Channel {
    Email,
    Sms,
}

impl Channel {
    pub fn as_str(self) -> &'static str {
        match self {
            Channel::Email => "Email",
            Channel::Sms => "Sms",
        }
    }
}

impl std::str::FromStr for Channel {
    type Err = String;

    /// The name as [`Channel::as_str`] writes it, exactly.
    fn from_str(text: &str) -> Result<Self, String> {
        [Channel::Email, Channel::Sms]
            .into_iter()
            .find(|c| c.as_str() == text)
            .ok_or_else(|| format!("unknown channel '{text}'"))
    }
}

/// Rules of one sensitivity tier.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Tier {
    pub require_otp: bool,
    #[serde(default)]
    pub otp_channels: Vec<Channel>,
    pub default_expires_in_hours: u32,
    pub max_expires_in_hours: u32,
    pub max_views: u32,
    /// Digits of this tier's one-time passcodes.
    #[serde(default = "six")]
    pub otp_digits: u8,
    /// What a recipient's "Ask for a new link" on an expired or used-up link does.
    #[serde(default)]
    pub reissue: Reissue,
}

/// A tier's answer to a recipient asking for a new link (`reissue` in the tier's table).
/// Only expired and used-up links qualify; revoked and locked ones never do.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Reissue {
    /// Nothing happens (the recipient still gets the same generic answer).
    #[default]
    Off,
    /// The request is logged (`ReissueRequested`) and raises `link.reissue_requested`.
    Notify,
    /// Also logged; the link is re-sent to its original address with a new token, a fresh
    /// expiry and view budget, within the resend limits.
    Auto,
}

fn six() -> u8 {
    6
}

impl Tier {
    /// Whether this tier protects at least as much as `other` (a document share's tier may be
    /// chosen by the caller, but never weaker than the policy's).
    pub fn is_at_least_as_strict_as(&self, other: &Tier) -> bool {
        self.strictness() >= other.strictness()
    }

    /// Orders tiers from weakest to strictest: a passcode first, then fewer views, a shorter
    /// longest life, a shorter default life, longer codes.
    fn strictness(&self) -> impl Ord {
        (
            self.require_otp,
            std::cmp::Reverse(self.max_views),
            std::cmp::Reverse(self.max_expires_in_hours),
            std::cmp::Reverse(self.default_expires_in_hours),
            self.otp_digits,
        )
    }
}

/// What to do with a resource type the policy does not list.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum UnknownResourceType {
    /// The `default_tier`.
    Default,
    /// The strictest tier (see [`Tier::strictness`]): a misspelt type fails closed.
    Strictest,
    /// Refuse to create the link.
    Reject,
}

/// The whole policy.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Policy {
    pub unknown_resource_type: UnknownResourceType,
    pub default_tier: String,
    #[serde(default)]
    pub resource_types: BTreeMap<String, String>,
    pub tiers: BTreeMap<String, Tier>,
    /// Whether SMS may go to ad-hoc phone numbers, which have no recorded consent.
    #[serde(default)]
    pub allow_adhoc_sms: bool,
    /// Where an opened link hands off to, per resource type (matched case-insensitively):
    /// a URL template with `{ResourceType}`, `{ResourceUid}` and `{TenantId}`.
    #[serde(default)]
    pub resource_urls: BTreeMap<String, String>,
    /// The template for resource types without their own.
    #[serde(default)]
    pub default_resource_url: Option<String>,
}

impl Policy {
    /// Parses and validates a policy file's text.
    pub fn parse(text: &str) -> Result<Policy, String> {
        let policy: Policy = toml::from_str(text).map_err(|e| e.to_string())?;
        policy.validate()?;
        Ok(policy)
    }

    fn validate(&self) -> Result<(), String> {
        if !self.tiers.contains_key(&self.default_tier) {
            return Err(format!(
                "default_tier '{}' is not a tier",
                self.default_tier
            ));
        }
        for (resource, tier) in &self.resource_types {
            if clean(resource).as_deref() != Ok(resource.as_str()) {
                return Err(format!(
                    "resource type '{resource}' must be printable ASCII without edge spaces"
                ));
            }
            if !self.tiers.contains_key(tier) {
                return Err(format!(
                    "resource type '{resource}' maps to unknown tier '{tier}'"
                ));
            }
        }
        for (name, t) in &self.tiers {
            if t.default_expires_in_hours == 0
                || t.default_expires_in_hours > t.max_expires_in_hours
            {
                return Err(format!(
                    "tier '{name}': need 0 < default_expires_in_hours <= max_expires_in_hours"
                ));
            }
            if t.max_views == 0 {
                return Err(format!("tier '{name}': max_views must be at least 1"));
            }
            if !(4..=10).contains(&t.otp_digits) {
                return Err(format!(
                    "tier '{name}': otp_digits must be between 4 and 10"
                ));
            }
            if t.require_otp && t.otp_channels.is_empty() {
                return Err(format!(
                    "tier '{name}': require_otp needs at least one otp_channels entry"
                ));
            }
        }
        Ok(())
    }

    /// Makes `template` the hand-off of every resource type without one of its own (dev mode's
    /// stand-in application). `replace_all`: the policy's templates are only the built-in
    /// examples (nothing listens there), so every type hands off to `template`.
    pub fn hand_off_to(&mut self, template: &str, replace_all: bool) {
        if replace_all {
            self.resource_urls.clear();
            self.default_resource_url = None;
        }
        self.default_resource_url
            .get_or_insert_with(|| template.to_owned());
    }

    /// The hand-off URL for a resource (no grant yet), if the policy has a template for it.
    pub fn resource_url(
        &self,
        resource_type: &str,
        resource_uid: &str,
        tenant_id: &str,
    ) -> Option<String> {
        let template = self
            .resource_urls
            .iter()
            .find(|(k, _)| k.eq_ignore_ascii_case(resource_type))
            .map(|(_, v)| v)
            .or(self.default_resource_url.as_ref())?;
        let encode = |v: &str| form_urlencoded::byte_serialize(v.as_bytes()).collect::<String>();
        Some(
            template
                .replace("{ResourceType}", &encode(resource_type))
                .replace("{ResourceUid}", resource_uid)
                .replace("{TenantId}", tenant_id),
        )
    }

    /// The tier (name and rules) for a resource type, compared in its [`clean`] form and
    /// ignoring ASCII case; `None` when the type is unusable, or unknown and unknown types
    /// are rejected.
    pub fn tier_for(&self, resource_type: &str) -> Option<(&str, &Tier)> {
        let resource_type = clean(resource_type).ok()?;
        let mapped = self
            .resource_types
            .iter()
            .find(|(k, _)| k.eq_ignore_ascii_case(&resource_type))
            .map(|(_, tier)| tier.as_str());
        let name = match (mapped, self.unknown_resource_type) {
            (Some(name), _) => name,
            (None, UnknownResourceType::Default) => self.default_tier.as_str(),
            (None, UnknownResourceType::Strictest) => return self.strictest(),
            (None, UnknownResourceType::Reject) => return None,
        };
        self.tiers.get_key_value(name).map(|(k, t)| (k.as_str(), t))
    }

    fn strictest(&self) -> Option<(&str, &Tier)> {
        self.tiers
            .iter()
            .max_by_key(|(_, t)| t.strictness())
            .map(|(k, t)| (k.as_str(), t))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_channel_reads_back_only_its_exact_name() {
        for c in [Channel::Email, Channel::Sms] {
            assert_eq!(c.as_str().parse(), Ok(c));
        }
        assert!("sms".parse::<Channel>().is_err() && "".parse::<Channel>().is_err());
    }

    #[test]
    fn shipped_policy_is_valid_and_sensible() {
        let p = Policy::parse(DEFAULT_POLICY).unwrap();
        let (name, quote) = p.tier_for("quote").unwrap();
        assert_eq!(name, "Standard");
        assert!(!quote.require_otp);
        assert_eq!(p.tier_for("Document").unwrap().0, "Confidential");
        let (name, claim) = p.tier_for("CLAIM").unwrap();
        assert_eq!(name, "Restricted");
        assert!(claim.require_otp && claim.max_views <= 5);
        assert_eq!(p.tier_for("Spaceship").unwrap().0, "Restricted");
    }

    #[test]
    fn near_misses_never_get_a_weaker_tier() {
        let p = Policy::parse(DEFAULT_POLICY).unwrap();
        for near in ["Claim\u{200b}", "ＣＬＡＩＭ", "Claims", " claim "] {
            assert_eq!(p.tier_for(near).unwrap().0, "Restricted", "{near:?}");
        }
        assert!(p.tier_for("Claım").is_none(), "not ASCII after NFKC");
        let lenient = DEFAULT_POLICY.replace(
            "unknown_resource_type = \"strictest\"",
            "unknown_resource_type = \"default\"",
        );
        let p = Policy::parse(&lenient).unwrap();
        assert_eq!(p.tier_for("Claims").unwrap().0, "Standard");
        assert_eq!(p.tier_for("Claim\u{200b}").unwrap().0, "Restricted");
    }

    #[test]
    fn unknown_types_can_be_rejected() {
        let text = DEFAULT_POLICY.replace(
            "unknown_resource_type = \"strictest\"",
            "unknown_resource_type = \"reject\"",
        );
        let p = Policy::parse(&text).unwrap();
        assert!(p.tier_for("Spaceship").is_none());
        assert!(p.tier_for("Quote").is_some());
    }

    #[test]
    fn broken_policies_are_refused() {
        let bad_default =
            DEFAULT_POLICY.replace("default_tier = \"Standard\"", "default_tier = \"Nope\"");
        assert!(Policy::parse(&bad_default).is_err());
        let bad_map = DEFAULT_POLICY.replace("Claim = \"Restricted\"", "Claim = \"Secret\"");
        assert!(Policy::parse(&bad_map).is_err());
        let look_alike =
            DEFAULT_POLICY.replace("Claim = \"Restricted\"", "\"Claım\" = \"Restricted\"");
        assert!(Policy::parse(&look_alike).is_err());
        let no_channel =
            DEFAULT_POLICY.replace("otp_channels = [\"Sms\", \"Email\"]", "otp_channels = []");
        assert!(Policy::parse(&no_channel).is_err());
    }
}
