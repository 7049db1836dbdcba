//! One-time passcodes: generation, the live-code state kept on a link, and the rules for
//! sending and checking codes. Codes are stored only as keyed hashes (plus a sealed copy so a
//! resend within the validity re-sends the *same* code instead of killing one in transit).

use serde::{Deserialize, Serialize};

use super::link::LinkRecord;
use super::token::{Secret, SecretHash, random_bytes};
use super::{HOUR_MS, UnixMillis};

/// A code is valid this long after it was issued.
pub const CODE_TTL_MS: i64 = 10 * 60_000;
/// Minimum time between two sends for one link.
pub const SEND_COOLDOWN_MS: i64 = 60_000;
/// Sends per link per hour.
pub const SENDS_PER_HOUR: usize = 5;
/// Wrong entries one code survives.
pub const TRIES_PER_CODE: u32 = 5;
/// Wrong entries a link survives before it is locked until staff unlock it.
pub const FAILURES_PER_LINK: u32 = 10;

/// The live code of a link.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct OtpState {
    pub code_hash: SecretHash,
    /// The code sealed to the link (for re-sending the same live code).
    #[serde(with = "super::bin::bytes")]
    pub sealed_code: Vec<u8>,
    pub issued_at: UnixMillis,
    pub expires_at: UnixMillis,
    /// Wrong entries of this code.
    pub tries: u32,
    /// When codes were sent within the last hour.
    pub sent_at: Vec<UnixMillis>,
}

impl OtpState {
    /// Whether this code can still be entered.
    pub fn is_live(&self, now: UnixMillis) -> bool {
        now < self.expires_at && self.tries < TRIES_PER_CODE
    }
}

/// What a request for a code leads to.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SendDecision {
    /// Issue the freshly generated code.
    NewCode,
    /// Re-send the live code.
    SameCode,
    /// Too soon, or too many sends this hour; nothing is sent.
    Refused { retry_after_ms: i64 },
}

/// Decides what a code request does, given the link's current state.
pub fn decide_send(state: Option<&OtpState>, now: UnixMillis) -> SendDecision {
    let recent: Vec<UnixMillis> = state
        .map(|s| {
            s.sent_at
                .iter()
                .copied()
                .filter(|t| now.ms_since(*t) < HOUR_MS)
                .collect()
        })
        .unwrap_or_default();
    if let Some(last) = recent
        .iter()
        .copied()
        .max()
        .filter(|last| now.ms_since(*last) < SEND_COOLDOWN_MS)
    {
        return SendDecision::Refused {
            retry_after_ms: SEND_COOLDOWN_MS - now.ms_since(last),
        };
    }
    if recent.len() >= SENDS_PER_HOUR {
        let oldest = recent.iter().copied().min().unwrap_or(now);
        return SendDecision::Refused {
            retry_after_ms: oldest.plus_ms(HOUR_MS).ms_since(now),
        };
    }
    match state {
        Some(s) if s.is_live(now) => SendDecision::SameCode,
        _ => SendDecision::NewCode,
    }
}

/// What a code request did to the link's passcode state.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum CodeRequest {
    /// Nothing sent: cooldown or hourly limit.
    Refused { retry_after_ms: i64 },
    /// Send this code (sealed): the live one again, or the fresh one now live.
    Send { sealed_code: Vec<u8> },
}

/// A code request at `at`: refused ([`decide_send`]), the live code re-sent, or `fresh` (the
/// new code's hash and sealed copy) made the live code. Every send is counted in the link's
/// one-hour window, which forgets older sends.
pub fn request_code(
    state: &mut Option<OtpState>,
    fresh: (&SecretHash, &[u8]),
    at: UnixMillis,
) -> CodeRequest {
    let decision = decide_send(state.as_ref(), at);
    if let SendDecision::Refused { retry_after_ms } = decision {
        return CodeRequest::Refused { retry_after_ms };
    }
    let mut sent_at = state
        .as_ref()
        .map(|s| s.sent_at.clone())
        .unwrap_or_default();
    sent_at.retain(|t| at.ms_since(*t) < HOUR_MS);
    sent_at.push(at);
    if let Some(live) = state
        .as_mut()
        .filter(|_| decision == SendDecision::SameCode)
    {
        live.sent_at = sent_at;
        return CodeRequest::Send {
            sealed_code: live.sealed_code.clone(),
        };
    }
    *state = Some(OtpState {
        code_hash: *fresh.0,
        sealed_code: fresh.1.to_vec(),
        issued_at: at,
        expires_at: at.plus_ms(CODE_TTL_MS),
        tries: 0,
        sent_at,
    });
    CodeRequest::Send {
        sealed_code: fresh.1.to_vec(),
    }
}

/// What one entered code did.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum CodeEntry {
    Verified,
    /// Wrong or dead code; `locked` when this entry used up the link's budget.
    Wrong {
        locked: bool,
    },
}

/// Counts the entry first, then compares `candidate` (the keyed hash of what was typed) with
/// the live code in constant time. A match clears the code and the link's failures; a miss
/// counts against the code and the link, and locks the link once its budget is spent.
pub fn enter_code(link: &mut LinkRecord, candidate: &SecretHash, at: UnixMillis) -> CodeEntry {
    link.otp_failures += 1;
    let matched = match link.otp.as_mut().filter(|s| s.is_live(at)) {
        Some(state) => {
            state.tries += 1;
            blake3::Hash::from_bytes(state.code_hash.0) == blake3::Hash::from_bytes(candidate.0)
        }
        None => false,
    };
    if matched {
        link.otp_failures = 0;
        link.otp = None;
        return CodeEntry::Verified;
    }
    let locked = link.otp_failures >= FAILURES_PER_LINK;
    if locked {
        link.locked_at = Some(at);
    }
    CodeEntry::Wrong { locked }
}

/// A new code of `digits` decimal digits, uniformly distributed.
pub fn generate_code(digits: u8) -> Result<Secret<String>, getrandom::Error> {
    let digits = u32::from(digits.clamp(4, 10));
    let modulus = 10u64.pow(digits);
    // Rejection sampling: values at or above the largest multiple of `modulus` are redrawn.
    let limit = u64::MAX - (u64::MAX % modulus);
    loop {
        let value = u64::from_le_bytes(random_bytes()?);
        if value < limit {
            let width = digits as usize;
            return Ok(Secret::new(format!("{:0width$}", value % modulus)));
        }
    }
}

/// Normalises what a person typed: digits only (spaces and dashes are common).
pub fn normalise_entry(entry: &str) -> String {
    entry.chars().filter(char::is_ascii_digit).collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::domain::millis::ms;

    fn state(sent_at: Vec<UnixMillis>, issued_at: UnixMillis) -> OtpState {
        OtpState {
            code_hash: SecretHash([0; 32]),
            sealed_code: vec![],
            issued_at,
            expires_at: issued_at.plus_ms(CODE_TTL_MS),
            tries: 0,
            sent_at,
        }
    }

    #[test]
    fn codes_have_the_requested_length_and_only_digits() {
        for digits in [6, 8] {
            for _ in 0..50 {
                let code = generate_code(digits).unwrap();
                assert_eq!(code.expose().len(), usize::from(digits));
                assert!(code.expose().chars().all(|c| c.is_ascii_digit()));
            }
        }
    }

    #[test]
    fn resend_within_validity_keeps_the_code_and_cooldown_applies() {
        assert_eq!(decide_send(None, ms(0)), SendDecision::NewCode);
        let s = state(vec![ms(0)], ms(0));
        assert_eq!(
            decide_send(Some(&s), ms(30_000)),
            SendDecision::Refused {
                retry_after_ms: 30_000
            }
        );
        assert_eq!(decide_send(Some(&s), ms(60_000)), SendDecision::SameCode);
        assert_eq!(
            decide_send(Some(&s), ms(CODE_TTL_MS)),
            SendDecision::NewCode
        );
        let mut dead = state(vec![ms(0)], ms(0));
        dead.tries = TRIES_PER_CODE;
        assert_eq!(decide_send(Some(&dead), ms(60_000)), SendDecision::NewCode);
    }

    #[test]
    fn at_most_five_sends_an_hour() {
        let s = state((0..5).map(|i| ms(i * 120_000)).collect(), ms(480_000));
        assert_eq!(
            decide_send(Some(&s), ms(600_001)),
            SendDecision::Refused {
                retry_after_ms: HOUR_MS - 600_001
            }
        );
        assert_ne!(
            decide_send(Some(&s), ms(HOUR_MS + 1)),
            decide_send(Some(&s), ms(600_001))
        );
    }

    #[test]
    fn entries_are_normalised() {
        assert_eq!(normalise_entry(" 123-456 "), "123456");
    }

    #[test]
    fn a_request_issues_a_fresh_code_then_re_sends_the_live_one() {
        let mut otp = None;
        let fresh = SecretHash([7; 32]);
        let first = request_code(&mut otp, (&fresh, b"sealed-1"), ms(0));
        assert_eq!(
            first,
            CodeRequest::Send {
                sealed_code: b"sealed-1".to_vec()
            }
        );
        let again = request_code(
            &mut otp,
            (&SecretHash([8; 32]), b"sealed-2"),
            ms(SEND_COOLDOWN_MS),
        );
        assert_eq!(
            again,
            CodeRequest::Send {
                sealed_code: b"sealed-1".to_vec()
            }
        );
        let live = otp.clone().unwrap();
        assert_eq!(
            (live.code_hash.0, live.sent_at),
            ([7; 32], vec![ms(0), ms(SEND_COOLDOWN_MS)])
        );
        let too_soon = request_code(&mut otp, (&fresh, b"x"), ms(SEND_COOLDOWN_MS + 1));
        assert_eq!(
            too_soon,
            CodeRequest::Refused {
                retry_after_ms: SEND_COOLDOWN_MS - 1
            }
        );
        let later = ms(CODE_TTL_MS + HOUR_MS);
        let renewed = request_code(&mut otp, (&SecretHash([9; 32]), b"sealed-3"), later);
        assert_eq!(
            renewed,
            CodeRequest::Send {
                sealed_code: b"sealed-3".to_vec()
            }
        );
        assert_eq!(
            otp.unwrap().sent_at,
            [later],
            "sends older than an hour are forgotten"
        );
    }

    #[test]
    fn entries_count_first_and_lock_the_link_when_the_budget_is_spent() {
        let mut link = crate::domain::link::tests_support::record();
        let code = SecretHash([7; 32]);
        request_code(&mut link.otp, (&code, b"s"), ms(0));
        assert_eq!(
            enter_code(&mut link, &SecretHash([1; 32]), ms(1)),
            CodeEntry::Wrong { locked: false }
        );
        assert_eq!(
            (link.otp_failures, link.otp.as_ref().map(|s| s.tries)),
            (1, Some(1))
        );
        assert_eq!(enter_code(&mut link, &code, ms(2)), CodeEntry::Verified);
        assert_eq!((link.otp_failures, link.otp.is_none()), (0, true));
        link.otp_failures = FAILURES_PER_LINK - 1;
        assert_eq!(
            enter_code(&mut link, &code, ms(3)),
            CodeEntry::Wrong { locked: true }
        );
        assert_eq!(
            link.locked_at,
            Some(ms(3)),
            "no live code: the entry is wrong and locks"
        );
    }
}
