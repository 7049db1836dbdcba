//! The offline check of an evidence document: its Ed25519 signature over the canonical bytes,
//! then its access log's hash chain, re-derived from the document's own fields. Every fault
//! is reported (not only the first), each naming what failed, so a reader of a dispute sees
//! which row was changed or removed.

use base64::Engine as _;
use base64::engine::general_purpose::STANDARD;
use ring::signature::{ED25519, UnparsedPublicKey};
use serde_json::Value;
use uuid::Uuid;

use super::canonical_json;
use crate::domain::evidence::{ChainLink, ChainRow, RowFacts, check_chain};

/// What the check found.
#[derive(Debug, Default)]
pub struct Verdict {
    /// One line per fault; empty when the document verifies.
    pub faults: Vec<String>,
    /// Access-log rows in the document.
    pub rows: usize,
    /// Of them, rows written before chains existed.
    pub unchained: usize,
}

impl Verdict {
    pub fn holds(&self) -> bool {
        self.faults.is_empty()
    }
}

/// Checks `doc` against the 32-byte Ed25519 `public_key`.
pub fn verify(doc: &Value, public_key: &[u8]) -> Verdict {
    let mut verdict = Verdict::default();
    if let Some(fault) = signature_fault(doc, public_key) {
        verdict.faults.push(fault);
    }
    let Some(rows) = doc.get("AccessLog").and_then(Value::as_array) else {
        verdict.faults.push("AccessLog: missing".into());
        return verdict;
    };
    verdict.rows = rows.len();
    match chain_rows(doc, rows) {
        Ok(rows) => {
            verdict.unchained = rows.iter().filter(|r| r.chain.is_none()).count();
            verdict.faults.extend(check_chain(&rows));
        }
        Err(fault) => verdict.faults.push(fault),
    }
    verdict
}

fn signature_fault(doc: &Value, public_key: &[u8]) -> Option<String> {
    let Some(text) = doc.get("Signature").and_then(Value::as_str) else {
        return Some("Signature: missing".into());
    };
    let Ok(signature) = STANDARD.decode(text) else {
        return Some("Signature: not base64".into());
    };
    let key = UnparsedPublicKey::new(&ED25519, public_key);
    match key.verify(&canonical_json(doc), &signature) {
        Ok(()) => None,
        Err(_) => Some(
            "Signature: does not verify with this key (the document was changed after \
             signing, or another key signed it)"
                .into(),
        ),
    }
}

/// The document's rows as the chain check reads them; the link's ids come from the top.
fn chain_rows<'a>(doc: &'a Value, rows: &'a [Value]) -> Result<Vec<ChainRow<'a>>, String> {
    let link_uid = uuid_at(doc, "CustomerLinkUID")?.ok_or("CustomerLinkUID: missing")?;
    let tenant_id = uuid_at(doc, "TenantId")?.ok_or("TenantId: missing")?;
    let link_id = doc
        .get("CustomerLinkId")
        .and_then(Value::as_u64)
        .ok_or("CustomerLinkId: missing or not a number")?;
    rows.iter()
        .enumerate()
        .map(|(n, row)| {
            chain_row(row, link_uid, link_id, tenant_id).map_err(|e| format!("row {n}: {e}"))
        })
        .collect()
}

fn chain_row(
    row: &Value,
    link_uid: [u8; 16],
    link_id: u64,
    tenant_id: [u8; 16],
) -> Result<ChainRow<'_>, String> {
    let text = |name: &str| row.get(name).and_then(Value::as_str);
    let number = |name: &str| row.get(name).ok_or(format!("{name}: missing"));
    let facts = RowFacts {
        id: number("Id")?.as_u64().ok_or("Id: not a number")?,
        link_uid,
        link_id,
        tenant_id,
        event: text("EventType").ok_or("EventType: missing")?,
        outcome: text("Outcome").ok_or("Outcome: missing")?,
        aggregated: row
            .get("Aggregated")
            .and_then(Value::as_bool)
            .unwrap_or(false),
        ip: text("IpAddress"),
        user_id: uuid_at(row, "ActorUserId")?,
        detail: text("DetailMessage"),
        user_agent: text("UserAgent"),
        at: number("AtUnixMs")?
            .as_i64()
            .ok_or("AtUnixMs: not a number")?,
    };
    let chain = match (hex_at(row, "Hash")?, hex_at(row, "PrevHash")?) {
        (Some(hash), Some(prev_hash)) => Some(ChainLink { prev_hash, hash }),
        (None, None) => None,
        _ => return Err("Hash and PrevHash: one without the other".into()),
    };
    Ok(ChainRow { facts, chain })
}

fn uuid_at(value: &Value, name: &str) -> Result<Option<[u8; 16]>, String> {
    match value.get(name).and_then(Value::as_str) {
        None => Ok(None),
        Some(text) => Uuid::parse_str(text)
            .map(|u| Some(*u.as_bytes()))
            .map_err(|_| format!("{name}: not a uuid")),
    }
}

fn hex_at(row: &Value, name: &str) -> Result<Option<[u8; 32]>, String> {
    match row.get(name).and_then(Value::as_str) {
        None => Ok(None),
        Some(text) => blake3::Hash::from_hex(text)
            .map(|h| Some(*h.as_bytes()))
            .map_err(|_| format!("{name}: not 64 hex digits")),
    }
}
