//! `GET /v1/customerlink/{CustomerLinkUID}/evidence` and `GET /v1/evidence/key` (our own
//! operations; the platform had none). The document is made of plain strings, integers and
//! booleans only, so every format carries the same values and the signed bytes
//! (`evidence::canonical_json` of the JSON form) are re-derivable from a JSON reply.

use schemars::JsonSchema;
use serde::{Deserialize, Serialize};
use serde_json::Value;

use crate::domain::portal::AccessLogEntry;
use crate::evidence::{CHAINED, UNCHAINED};
use crate::wire::status::ResponseStatus;
use crate::wire::types::UtcDateTime;

/// A signed evidence document (docs/evidence.md): the link's facts, its deliveries and its
/// complete access log with each row's place in the hash chain.
#[derive(Debug, Clone, Serialize, JsonSchema)]
pub struct CustomerLinkEvidenceResponse {
    #[serde(skip_serializing_if = "Option::is_none")]
    pub ResponseStatus: Option<ResponseStatus>,
    /// `customerlink-evidence/1`.
    pub Format: String,
    pub IssuedAtUtc: String,
    /// The link's uid, hyphenated lowercase (also part of every row's hash).
    pub CustomerLinkUID: String,
    pub CustomerLinkId: u64,
    pub TenantId: String,
    /// The link as `GET /v1/customerlink/{uid}` shows it (created by, for whom, tier, expiry,
    /// views, status).
    pub Link: Value,
    /// Every log row, in id order (the first list, so a CSV reply is the log's rows).
    pub AccessLog: Vec<EvidenceLogRow>,
    /// Its deliveries with their relay responses and last errors.
    pub Deliveries: Vec<Value>,
    /// Base64 Ed25519 signature over the canonical bytes of everything else.
    pub Signature: String,
}

/// One access-log row of an evidence document. `Hash` and `PrevHash` (hex) are absent on a
/// row written before chains existed (`Chain: Unchained`). For an `Aggregated` row the hash
/// does not cover `Count`, `LastAtUtc`, `DetailMessage`, `UserAgent` or `AtUnixMs`, which change
/// as repeats are folded in.
#[derive(Debug, Clone, Serialize, JsonSchema)]
pub struct EvidenceLogRow {
    pub Id: u64,
    pub EventType: String,
    pub Outcome: String,
    pub DetailMessage: Option<String>,
    pub IpAddress: Option<String>,
    pub UserAgent: Option<String>,
    /// Hyphenated lowercase.
    pub ActorUserId: Option<String>,
    pub AtUnixMs: i64,
    pub AtUtc: String,
    pub Aggregated: bool,
    pub Count: u64,
    pub LastAtUtc: Option<String>,
    /// `Chained` or `Unchained`.
    pub Chain: String,
    pub Hash: Option<String>,
    pub PrevHash: Option<String>,
}

impl EvidenceLogRow {
    pub fn from_entry(e: &AccessLogEntry) -> Self {
        let hex = |bytes: &[u8; 32]| blake3::Hash::from_bytes(*bytes).to_hex().to_string();
        Self {
            Id: e.id,
            EventType: e.event.as_str().to_owned(),
            Outcome: e.outcome.as_str().to_owned(),
            DetailMessage: e.detail.clone(),
            IpAddress: e.actor.ip.clone(),
            UserAgent: e.actor.user_agent.clone(),
            ActorUserId: e.actor.user_id.map(|u| u.as_uuid().to_string()),
            AtUnixMs: e.at.as_i64(),
            AtUtc: UtcDateTime::from(e.at).to_wire(),
            Aggregated: e.is_aggregated(),
            Count: e.count,
            LastAtUtc: e.last_at.map(|t| UtcDateTime::from(t).to_wire()),
            Chain: if e.chain.is_some() {
                CHAINED
            } else {
                UNCHAINED
            }
            .to_owned(),
            Hash: e.chain.map(|c| hex(&c.hash)),
            PrevHash: e.chain.map(|c| hex(&c.prev_hash)),
        }
    }
}

/// `GET /v1/evidence/key`: no members.
#[derive(Debug, Clone, Default, Deserialize, JsonSchema)]
pub struct EvidenceKeyRequest {}

/// The service's evidence-signing public key (32 bytes Ed25519, base64).
#[derive(Debug, Clone, Serialize, JsonSchema)]
pub struct EvidenceKeyResponse {
    #[serde(skip_serializing_if = "Option::is_none")]
    pub ResponseStatus: Option<ResponseStatus>,
    pub PublicKey: String,
}
