//! The access log's hash chain (issue 15 §3), pure: the bytes a row's hash covers, how a row's
//! hash follows from the chain's head, and how a chain is checked. The writers
//! (`store/writer/access_log.rs`, `store/postgres/access_log.rs`) seal every new row in the
//! transaction that writes it; the evidence document carries the hashes, and its verifier
//! re-derives them from the document alone. docs/evidence.md specifies the same bytes.

use serde::{Deserialize, Serialize};

use super::portal::AccessLogEntry;

/// The `PrevHash` of a link's first chained row.
pub const GENESIS: [u8; 32] = [0; 32];

/// The first byte of every row encoding: its layout's version.
const ROW_FORMAT: u8 = 1;

/// A row's place in its link's chain: the head it followed and its own hash.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct ChainLink {
    #[serde(with = "super::bin::hash")]
    pub prev_hash: [u8; 32],
    #[serde(with = "super::bin::hash")]
    pub hash: [u8; 32],
}

/// What a row's hash covers, from a stored entry or from a document's row. An aggregated
/// (noise) row keeps a count that grows later and takes the latest detail, User-Agent and
/// earliest time, so for it only the fields fixed at its first write are covered.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RowFacts<'a> {
    pub id: u64,
    pub link_uid: [u8; 16],
    pub link_id: u64,
    pub tenant_id: [u8; 16],
    pub event: &'a str,
    pub outcome: &'a str,
    pub aggregated: bool,
    pub ip: Option<&'a str>,
    pub user_id: Option<[u8; 16]>,
    /// Covered only for a lifecycle row (not aggregated).
    pub detail: Option<&'a str>,
    /// Covered only for a lifecycle row.
    pub user_agent: Option<&'a str>,
    /// Unix milliseconds; covered only for a lifecycle row.
    pub at: i64,
}

impl RowFacts<'_> {
    /// The canonical encoding (docs/evidence.md "Row encoding"): integers little-endian,
    /// strings as a u32 length and UTF-8, optional values as 0 (absent) or 1 and the value.
    pub fn encode(&self) -> Vec<u8> {
        let mut out = vec![ROW_FORMAT];
        out.extend_from_slice(&self.id.to_le_bytes());
        out.extend_from_slice(&self.link_uid);
        out.extend_from_slice(&self.link_id.to_le_bytes());
        out.extend_from_slice(&self.tenant_id);
        put_str(&mut out, self.event);
        put_str(&mut out, self.outcome);
        out.push(u8::from(self.aggregated));
        put_opt(&mut out, self.ip.map(str::as_bytes), true);
        put_opt(&mut out, self.user_id.as_ref().map(|u| &u[..]), false);
        if !self.aggregated {
            put_opt(&mut out, self.detail.map(str::as_bytes), true);
            put_opt(&mut out, self.user_agent.map(str::as_bytes), true);
            out.extend_from_slice(&self.at.to_le_bytes());
        }
        out
    }

    /// BLAKE3(prev ‖ encoding): the row's hash when it follows `prev`.
    pub fn hash_after(&self, prev: &[u8; 32]) -> [u8; 32] {
        let mut hasher = blake3::Hasher::new();
        hasher.update(prev);
        hasher.update(&self.encode());
        *hasher.finalize().as_bytes()
    }
}

fn put_str(out: &mut Vec<u8>, text: &str) {
    let len = u32::try_from(text.len()).unwrap_or(u32::MAX);
    out.extend_from_slice(&len.to_le_bytes());
    out.extend_from_slice(text.as_bytes());
}

/// `sized` values carry their length (strings); fixed-size ones (uuids) do not.
fn put_opt(out: &mut Vec<u8>, value: Option<&[u8]>, sized: bool) {
    match value {
        None => out.push(0),
        Some(bytes) => {
            out.push(1);
            if sized {
                let len = u32::try_from(bytes.len()).unwrap_or(u32::MAX);
                out.extend_from_slice(&len.to_le_bytes());
            }
            out.extend_from_slice(bytes);
        }
    }
}

impl AccessLogEntry {
    /// An aggregated noise row (its count and last sighting change after the first write).
    pub fn is_aggregated(&self) -> bool {
        self.last_at.is_some()
    }

    /// What this row's hash covers.
    pub fn facts(&self) -> RowFacts<'_> {
        RowFacts {
            id: self.id,
            link_uid: *self.link_uid.as_uuid().as_bytes(),
            link_id: self.link_id,
            tenant_id: *self.tenant_id.as_uuid().as_bytes(),
            event: self.event.as_str(),
            outcome: self.outcome.as_str(),
            aggregated: self.is_aggregated(),
            ip: self.actor.ip.as_deref(),
            user_id: self.actor.user_id.map(|u| *u.as_uuid().as_bytes()),
            detail: self.detail.as_deref(),
            user_agent: self.actor.user_agent.as_deref(),
            at: self.at.as_i64(),
        }
    }

    /// Chains this new row after `head` (call once every covered field is final).
    pub fn seal(&mut self, head: [u8; 32]) {
        let hash = self.facts().hash_after(&head);
        self.chain = Some(ChainLink {
            prev_hash: head,
            hash,
        });
    }

    /// The head this row leaves the chain at, if it advances it: a chained lifecycle row.
    /// Aggregated rows hang off the chain without advancing it, so evicting one (the cap on
    /// noise rows) never breaks the chain.
    pub fn advances_chain(&self) -> Option<[u8; 32]> {
        self.chain.filter(|_| !self.is_aggregated()).map(|c| c.hash)
    }
}

/// One row of a chain under check, in id order.
pub struct ChainRow<'a> {
    pub facts: RowFacts<'a>,
    pub chain: Option<ChainLink>,
}

/// Checks a link's rows in id order; returns one message per fault (empty: the chain holds).
/// Rows before the first chained one are legacy (written before chains existed); a row
/// without a hash after it means a hash was removed.
pub fn check_chain(rows: &[ChainRow<'_>]) -> Vec<String> {
    let mut faults = Vec::new();
    let (mut head, mut started, mut last_id) = (GENESIS, false, None);
    for row in rows {
        let id = row.facts.id;
        if last_id.is_some_and(|last| id <= last) {
            faults.push(format!("row Id {id}: out of order (Ids must increase)"));
        }
        last_id = Some(id);
        let Some(link) = row.chain else {
            if started {
                faults.push(format!("row Id {id}: has no hash, after the chain began"));
            }
            continue;
        };
        started = true;
        if link.prev_hash != head {
            faults.push(format!(
                "row Id {id}: PrevHash is not the Hash of the chained row before it \
                 (a row was removed, inserted or reordered)"
            ));
        }
        if row.facts.hash_after(&link.prev_hash) != link.hash {
            faults.push(format!(
                "row Id {id}: Hash does not match the row's contents (the row was changed)"
            ));
        }
        if !row.facts.aggregated {
            head = link.hash;
        }
    }
    faults
}

/// [`check_chain`] over one link's stored rows (in id order), each fault prefixed with the
/// link: what `customerlink check` reports.
pub fn stored_chain_faults(link_uid: uuid::Uuid, rows: &[AccessLogEntry]) -> Vec<String> {
    let chain: Vec<ChainRow<'_>> = rows
        .iter()
        .map(|r| ChainRow {
            facts: r.facts(),
            chain: r.chain,
        })
        .collect();
    check_chain(&chain)
        .into_iter()
        .map(|fault| {
            format!(
                "access log of {}: chain broken at {fault}",
                link_uid.simple()
            )
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn facts(id: u64, detail: Option<&str>) -> RowFacts<'_> {
        RowFacts {
            id,
            link_uid: [1; 16],
            link_id: 7,
            tenant_id: [2; 16],
            event: "Created",
            outcome: "Success",
            aggregated: false,
            ip: None,
            user_id: Some([3; 16]),
            detail,
            user_agent: None,
            at: 1_000,
        }
    }

    fn chained(rows: Vec<RowFacts<'_>>) -> Vec<ChainRow<'_>> {
        let mut head = GENESIS;
        rows.into_iter()
            .map(|facts| {
                let hash = facts.hash_after(&head);
                let chain = Some(ChainLink {
                    prev_hash: head,
                    hash,
                });
                head = hash;
                ChainRow { facts, chain }
            })
            .collect()
    }

    #[test]
    fn an_intact_chain_holds_and_an_edit_or_a_removal_shows() {
        let rows = chained(vec![facts(1, None), facts(2, Some("a")), facts(3, None)]);
        assert!(check_chain(&rows).is_empty());
        let mut edited = chained(vec![facts(1, None), facts(2, Some("a")), facts(3, None)]);
        edited[1].facts.detail = Some("b");
        let faults = check_chain(&edited);
        assert_eq!(faults.len(), 1, "{faults:?}");
        assert!(faults[0].starts_with("row Id 2: Hash"), "{faults:?}");
        let mut removed = chained(vec![facts(1, None), facts(2, Some("a")), facts(3, None)]);
        removed.remove(1);
        assert!(check_chain(&removed)[0].starts_with("row Id 3: PrevHash"));
    }

    #[test]
    fn the_encoding_marks_absent_values_and_lengths() {
        let some = facts(1, Some("")).encode();
        let none = facts(1, None).encode();
        assert_ne!(some, none);
        assert_eq!(
            none.len(),
            1 + 8 + 16 + 8 + 16 + 11 + 11 + 1 + 1 + 17 + 1 + 1 + 8
        );
    }
}
