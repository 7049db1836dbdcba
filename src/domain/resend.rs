//! Resend rules: which channels a resend goes out on, whether the link may be re-sent now
//! (active, outside the cooldown, under the hourly count), and the resend window it keeps.
//! Pure: the api asks for the channels, the store applies [`resend`] inside its transaction.

use super::link::{LinkRecord, LinkStatus, missing_addresses};
use super::policy::Channel;
use super::{FieldError, HOUR_MS, UnixMillis};

/// How often a link may be re-sent.
#[derive(Debug, Clone, Copy)]
pub struct ResendRules {
    /// Minimum time between two resends.
    pub cooldown_ms: i64,
    /// Resends in any hour.
    pub per_hour: u32,
}

/// Why a resend was refused.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ResendRefusal {
    /// Revoked, expired or exhausted links are not re-sent.
    NotActive(LinkStatus),
    /// Too soon after the previous resend, or too many in the last hour.
    RateLimited { retry_after_ms: i64 },
}

/// The channels (email, sms) a resend goes out on: those asked for, else the ones the link
/// last went out on, else email if it has an address, else sms. A channel asked for without
/// an address is a field error.
pub fn channels(
    link: &LinkRecord,
    email: Option<bool>,
    sms: Option<bool>,
) -> Result<(bool, bool), Vec<FieldError>> {
    let sent = &link.delivery_channels;
    let wanted = match (email, sms) {
        (None, None) if sent.is_empty() => (
            link.recipient_email.is_some(),
            link.recipient_email.is_none(),
        ),
        (None, None) => (sent.contains(Channel::Email), sent.contains(Channel::Sms)),
        (email, sms) => (email.unwrap_or(false), sms.unwrap_or(false)),
    };
    let has = (
        link.recipient_email.is_some(),
        link.recipient_phone.is_some(),
    );
    let errors = missing_addresses(wanted, has);
    if errors.is_empty() {
        Ok(wanted)
    } else {
        Err(errors)
    }
}

/// Re-sends `link` at `at` if the rules allow: records the resend in its one-hour window.
/// Changes nothing when refused.
pub fn resend(
    link: &mut LinkRecord,
    at: UnixMillis,
    rules: ResendRules,
) -> Result<(), ResendRefusal> {
    let status = link.status(at);
    if status != LinkStatus::Active {
        return Err(ResendRefusal::NotActive(status));
    }
    count_resend(link, at, rules)
}

/// Re-issues an expired or used-up link at its recipient's request, within the same resend
/// rules: a fresh life until `expires_at` and a fresh view budget (the views so far stay in
/// the access log). Revoked and locked links are never re-issued, nor active ones (there is
/// nothing to renew). Changes nothing when refused.
pub fn reissue(
    link: &mut LinkRecord,
    at: UnixMillis,
    rules: ResendRules,
    expires_at: UnixMillis,
) -> Result<(), ResendRefusal> {
    if !reissuable(link, at) {
        return Err(ResendRefusal::NotActive(link.status(at)));
    }
    count_resend(link, at, rules)?;
    link.expires_at = expires_at;
    link.view_count = 0;
    link.otp = None;
    Ok(())
}

/// Whether a recipient may have `link` re-issued at `at`: expired or used up, and neither
/// revoked nor locked.
pub fn reissuable(link: &LinkRecord, at: UnixMillis) -> bool {
    let status = link.status(at);
    matches!(status, LinkStatus::Expired | LinkStatus::Exhausted) && link.locked_at.is_none()
}

/// Records a resend at `at` in the link's one-hour window, unless the cooldown or the hourly
/// count forbids it.
fn count_resend(
    link: &mut LinkRecord,
    at: UnixMillis,
    rules: ResendRules,
) -> Result<(), ResendRefusal> {
    let mut recent: Vec<UnixMillis> = link
        .resent_at
        .iter()
        .copied()
        .filter(|t| at.ms_since(*t) < HOUR_MS)
        .collect();
    if let Some(last) = recent.iter().copied().max()
        && at.ms_since(last) < rules.cooldown_ms
    {
        let retry_after_ms = rules.cooldown_ms - at.ms_since(last);
        return Err(ResendRefusal::RateLimited { retry_after_ms });
    }
    if recent.len() >= rules.per_hour as usize {
        let oldest = recent.iter().copied().min().unwrap_or(at);
        let retry_after_ms = oldest.plus_ms(HOUR_MS).ms_since(at);
        return Err(ResendRefusal::RateLimited { retry_after_ms });
    }
    recent.push(at);
    link.resent_at = recent;
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::domain::millis::ms;

    fn link(email: Option<&str>, phone: Option<&str>, channels: &str) -> LinkRecord {
        LinkRecord {
            recipient_email: email.map(str::to_owned),
            recipient_phone: phone.map(str::to_owned),
            delivery_channels: channels.parse().unwrap(),
            expires_at: UnixMillis::from_millis(i64::MAX),
            max_views: 10,
            ..crate::domain::link::tests_support::record()
        }
    }

    const RULES: ResendRules = ResendRules {
        cooldown_ms: 60_000,
        per_hour: 3,
    };

    #[test]
    fn channels_default_to_the_last_ones_then_to_email() {
        let l = link(Some("a@b.co"), Some("+15550100"), "Sms");
        assert_eq!(channels(&l, None, None), Ok((false, true)));
        let l = link(Some("a@b.co"), None, "");
        assert_eq!(channels(&l, None, None), Ok((true, false)));
        let l = link(None, Some("+15550100"), "");
        assert_eq!(channels(&l, None, None), Ok((false, true)));
        assert_eq!(channels(&l, Some(false), Some(true)), Ok((false, true)));
    }

    #[test]
    fn a_channel_without_an_address_is_a_field_error() {
        let l = link(Some("a@b.co"), None, "Email");
        let errors = channels(&l, Some(true), Some(true)).unwrap_err();
        let fields: Vec<&str> = errors.iter().map(|e| e.field).collect();
        assert_eq!(fields, ["DeliverSms"]);
    }

    #[test]
    fn resends_keep_the_cooldown_and_the_hourly_count() {
        let mut l = link(Some("a@b.co"), None, "Email");
        assert_eq!(resend(&mut l, ms(0), RULES), Ok(()));
        assert_eq!(
            resend(&mut l, ms(1_000), RULES),
            Err(ResendRefusal::RateLimited {
                retry_after_ms: 59_000
            })
        );
        assert_eq!(resend(&mut l, ms(60_000), RULES), Ok(()));
        assert_eq!(resend(&mut l, ms(120_000), RULES), Ok(()));
        assert_eq!(
            resend(&mut l, ms(180_000), RULES),
            Err(ResendRefusal::RateLimited {
                retry_after_ms: HOUR_MS - 180_000
            })
        );
        assert_eq!(l.resent_at, [ms(0), ms(60_000), ms(120_000)]);
        assert_eq!(resend(&mut l, ms(HOUR_MS + 1), RULES), Ok(()));
        assert_eq!(l.resent_at, [ms(60_000), ms(120_000), ms(HOUR_MS + 1)]);
    }

    #[test]
    fn only_expired_or_used_up_links_are_re_issued_with_a_fresh_life_and_budget() {
        let mut l = link(Some("a@b.co"), None, "Email");
        l.expires_at = ms(100);
        l.view_count = 2;
        assert_eq!(reissue(&mut l, ms(200), RULES, ms(5_000)), Ok(()));
        assert_eq!((l.expires_at, l.view_count), (ms(5_000), 0));
        assert_eq!(
            reissue(&mut l, ms(300), RULES, ms(9_000)),
            Err(ResendRefusal::NotActive(LinkStatus::Active))
        );
        l.view_count = l.max_views;
        l.locked_at = Some(ms(250));
        assert_eq!(
            reissue(&mut l, ms(400), RULES, ms(200_000)),
            Err(ResendRefusal::NotActive(LinkStatus::Exhausted))
        );
        l.locked_at = None;
        l.revoked_at = Some(ms(250));
        assert_eq!(
            reissue(&mut l, ms(400), RULES, ms(200_000)),
            Err(ResendRefusal::NotActive(LinkStatus::Revoked))
        );
        assert_eq!(l.expires_at, ms(5_000), "nothing changed when refused");
    }

    #[test]
    fn only_active_links_are_re_sent() {
        let mut l = link(Some("a@b.co"), None, "Email");
        l.revoked_at = Some(ms(5));
        assert_eq!(
            resend(&mut l, ms(10), RULES),
            Err(ResendRefusal::NotActive(LinkStatus::Revoked))
        );
        assert!(l.resent_at.is_empty());
    }
}
