//! `check`: proves every index agrees with the records, in both directions. Used by the
//! `customerlink check` command, by tests after concurrent load, and after crashes.

use std::collections::HashSet;

use redb::{ReadableTable, ReadableTableMetadata};

use super::StoreError;
use super::codec::decode;
use super::reader::Reader;
use super::tables::*;
use crate::domain::contact::Contact;
use crate::domain::delivery::{DeliveryRecord, DeliveryStatus};
use crate::domain::evidence::stored_chain_faults;
use crate::domain::link::LinkRecord;
use crate::domain::portal::{AccessLogEntry, GrantRecord, NOISE_ROWS_PER_LINK, noise_key};
use crate::domain::tenant::{ApiKeyRecord, Tenant};

/// Counts of what was checked and every inconsistency found.
#[derive(Debug, Default, Clone, PartialEq, Eq)]
pub struct CheckReport {
    pub tenants: u64,
    pub api_keys: u64,
    pub links: u64,
    pub revoked_links: u64,
    pub contacts: u64,
    pub deliveries: u64,
    /// Stored idempotency records (live or not yet purged).
    pub idempotency_keys: u64,
    pub problems: Vec<String>,
}

impl CheckReport {
    pub fn is_consistent(&self) -> bool {
        self.problems.is_empty()
    }
}

pub(super) fn run(r: &Reader) -> Result<CheckReport, StoreError> {
    let mut report = CheckReport::default();
    let links = load_links(r, &mut report)?;
    check_link_indexes(r, &links, &mut report)?;
    check_keys(r, &mut report)?;
    check_outbox(r, &links, &mut report)?;
    check_portal(r, &links, &mut report)?;
    super::idempotency::check(r, &mut report)?;
    check_attachment_index(r, &mut report)?;
    for entry in r.table(TENANTS)?.iter()? {
        let (k, v) = entry?;
        match decode::<Tenant>(v.value()) {
            Ok(t) if t.tenant_id.as_u128() == k.value() => {}
            _ => report.problems.push(format!(
                "tenant {:032x}: record does not match its key",
                k.value()
            )),
        }
        report.tenants += 1;
    }
    for entry in r.table(CONTACTS)?.iter()? {
        let (k, v) = entry?;
        let (tenant, id) = k.value();
        match decode::<Contact>(v.value()) {
            Ok(c) if c.tenant_id.as_u128() == tenant && c.contact_id.get() == id => {}
            _ => report.problems.push(format!(
                "contact {tenant:032x}/{id}: record does not match its key"
            )),
        }
        report.contacts += 1;
    }
    Ok(report)
}

fn load_links(r: &Reader, report: &mut CheckReport) -> Result<Vec<LinkRecord>, StoreError> {
    let mut links = Vec::new();
    for entry in r.table(LINKS)?.iter()? {
        let (k, v) = entry?;
        match decode::<LinkRecord>(v.value()) {
            Ok(l) if l.uid.as_u128() == k.value() => links.push(l),
            Ok(_) => report.problems.push(format!(
                "link {:032x}: record uid differs from key",
                k.value()
            )),
            Err(e) => report
                .problems
                .push(format!("link {:032x}: {e}", k.value())),
        }
    }
    report.links = links.len() as u64;
    report.revoked_links = links.iter().filter(|l| l.revoked_at.is_some()).count() as u64;
    Ok(links)
}

fn check_link_indexes(
    r: &Reader,
    links: &[LinkRecord],
    report: &mut CheckReport,
) -> Result<(), StoreError> {
    let by_token = r.table(LINKS_BY_TOKEN)?;
    let by_tenant = r.table(LINKS_BY_TENANT)?;
    let by_resource = r.table(LINKS_BY_RESOURCE)?;
    let by_expiry = r.table(LINKS_BY_EXPIRY)?;
    let by_revoked = r.table(LINKS_BY_REVOKED)?;
    let mut ids = HashSet::new();
    for l in links {
        let uid = l.uid.as_u128();
        let name = format!("link {uid:032x}");
        let tenant = l.tenant_id.as_u128();
        let rt = l.resource_type.to_lowercase();
        if !ids.insert(l.link_id) {
            report.problems.push(format!(
                "{name}: CustomerLinkId {} is not unique",
                l.link_id
            ));
        }
        let resource_key = (tenant, rt.as_str(), l.resource_uid.as_u128(), l.link_id);
        let token = by_token.get(l.token_hash.0)?.map(|g| g.value());
        let in_tenant = by_tenant.get((tenant, l.link_id))?.map(|g| g.value());
        let resource = by_resource.get(resource_key)?.map(|g| g.value());
        let found = [
            (token, "links_by_token"),
            (in_tenant, "links_by_tenant"),
            (resource, "links_by_resource"),
        ];
        for (_, index) in found.iter().filter(|(found, _)| *found != Some(uid)) {
            let problem = format!("{name}: missing or wrong entry in {index}");
            report.problems.push(problem);
        }
        if by_expiry.get((l.expires_at.as_i64(), uid))?.is_none() {
            report
                .problems
                .push(format!("{name}: missing entry in links_by_expiry"));
        }
        if let Some(at) = l.revoked_at
            && by_revoked.get((at.as_i64(), uid))?.is_none()
        {
            report
                .problems
                .push(format!("{name}: missing entry in links_by_revoked"));
        }
    }
    let sizes = [
        ("links_by_token", by_token.len()?),
        ("links_by_tenant", by_tenant.len()?),
        ("links_by_resource", by_resource.len()?),
        ("links_by_expiry", by_expiry.len()?),
    ];
    check_index_sizes(sizes, by_revoked.len()?, report);
    Ok(())
}

/// Index sizes against the link counts: more entries than links are stale entries.
fn check_index_sizes(sizes: [(&str, u64); 4], revoked: u64, report: &mut CheckReport) {
    for (index, len) in sizes {
        if len != report.links {
            report.problems.push(format!(
                "{index} has {len} entries for {} links (stale entries)",
                report.links
            ));
        }
    }
    if revoked != report.revoked_links {
        report.problems.push(format!(
            "links_by_revoked has {revoked} entries for {} revoked links",
            report.revoked_links
        ));
    }
}

fn check_keys(r: &Reader, report: &mut CheckReport) -> Result<(), StoreError> {
    let ids = r.table(API_KEY_IDS)?;
    for entry in r.table(API_KEYS)?.iter()? {
        let (hash, v) = entry?;
        report.api_keys += 1;
        match decode::<ApiKeyRecord>(v.value()) {
            Ok(k) if ids.get(k.key_id.as_u128())?.map(|g| g.value()) == Some(hash.value()) => {}
            Ok(k) => report.problems.push(format!(
                "api key {}: missing or wrong entry in api_key_ids",
                k.key_id.simple()
            )),
            Err(e) => report.problems.push(format!("api key record: {e}")),
        }
    }
    if ids.len()? != report.api_keys {
        report.problems.push(format!(
            "api_key_ids has {} entries for {} keys",
            ids.len()?,
            report.api_keys
        ));
    }
    Ok(())
}

/// Invariants of `src/store/writer/outbox.rs`: every delivery belongs to a stored link and
/// has its `deliveries_by_link` entry; `outbox_due` holds exactly the queued deliveries.
fn check_outbox(
    r: &Reader,
    links: &[LinkRecord],
    report: &mut CheckReport,
) -> Result<(), StoreError> {
    let link_uids: HashSet<u128> = links.iter().map(|l| l.uid.as_u128()).collect();
    let by_link = r.table(DELIVERIES_BY_LINK)?;
    let due = r.table(OUTBOX_DUE)?;
    let mut queued = 0u64;
    for entry in r.table(OUTBOX)?.iter()? {
        let (id, v) = entry?;
        let id = id.value();
        report.deliveries += 1;
        let d: DeliveryRecord = match decode(v.value()) {
            Ok(d) => d,
            Err(e) => {
                report.problems.push(format!("delivery {id}: {e}"));
                continue;
            }
        };
        let uid = d.link_uid.as_u128();
        if !link_uids.contains(&uid) {
            report
                .problems
                .push(format!("delivery {id}: its link {uid:032x} does not exist"));
        }
        if by_link.get((uid, id))?.is_none() {
            report.problems.push(format!(
                "delivery {id}: missing entry in deliveries_by_link"
            ));
        }
        if d.status == DeliveryStatus::Queued {
            queued += 1;
            if due.get((d.next_attempt_at.as_i64(), id))?.is_none() {
                report
                    .problems
                    .push(format!("delivery {id}: queued but missing from outbox_due"));
            }
        }
    }
    if due.len()? != queued {
        report.problems.push(format!(
            "outbox_due has {} entries for {queued} queued deliveries",
            due.len()?
        ));
    }
    if by_link.len()? != report.deliveries {
        report.problems.push(format!(
            "deliveries_by_link has {} entries for {} deliveries",
            by_link.len()?,
            report.deliveries
        ));
    }
    Ok(())
}

/// `grants_by_expiry` names exactly the stored grants; then the access log (see
/// [`check_access_log`]).
fn check_portal(
    r: &Reader,
    links: &[LinkRecord],
    report: &mut CheckReport,
) -> Result<(), StoreError> {
    let grants = r.table(GRANTS)?;
    let by_expiry = r.table(GRANTS_BY_EXPIRY)?;
    for entry in by_expiry.iter()? {
        let (expires, grant) = entry?.0.value();
        match grants.get(grant)? {
            Some(g) => match decode::<GrantRecord>(g.value()) {
                Ok(record) if record.expires_at.as_i64() == expires => {}
                _ => report
                    .problems
                    .push("grant: record does not match grants_by_expiry".into()),
            },
            None => report
                .problems
                .push("grants_by_expiry names a missing grant".into()),
        }
    }
    if grants.len()? != by_expiry.len()? {
        report.problems.push(format!(
            "grants has {} entries, grants_by_expiry {}",
            grants.len()?,
            by_expiry.len()?
        ));
    }
    check_access_log(r, links, report)
}

/// `access_log_noise` names exactly the aggregated rows found, at most the cap per link.
fn check_noise_index(
    r: &Reader,
    noise_rows: &HashSet<(u128, String, u64, i64)>,
    report: &mut CheckReport,
) -> Result<(), StoreError> {
    let mut per_link: std::collections::HashMap<u128, usize> = std::collections::HashMap::new();
    let mut indexed = 0usize;
    for entry in r.table(ACCESS_LOG_NOISE)?.iter()? {
        let (k, v) = entry?;
        let (uid, key) = k.value();
        let (id, last) = v.value();
        if !noise_rows.contains(&(uid, key.to_owned(), id, last)) {
            report.problems.push(format!(
                "access_log_noise {uid:032x}/{key}: no such noise row"
            ));
        }
        indexed += 1;
        *per_link.entry(uid).or_default() += 1;
    }
    if indexed != noise_rows.len() {
        report.problems.push(format!(
            "access_log_noise has {indexed} entries for {} noise rows",
            noise_rows.len()
        ));
    }
    for (uid, count) in per_link {
        if count > NOISE_ROWS_PER_LINK {
            report.problems.push(format!(
                "access log of {uid:032x}: {count} noise rows, over the cap"
            ));
        }
    }
    Ok(())
}

/// One link's log rows (the table is in link, id order), to check its hash chain.
#[derive(Default)]
struct LinkRows {
    uid: Option<u128>,
    rows: Vec<AccessLogEntry>,
}

impl LinkRows {
    /// Checks the chain of the rows gathered so far once a row of another link comes.
    fn next_link(&mut self, uid: u128, report: &mut CheckReport) {
        if self.uid == Some(uid) {
            return;
        }
        if let Some(done) = self.uid {
            let faults = stored_chain_faults(uuid::Uuid::from_u128(done), &self.rows);
            report.problems.extend(faults);
        }
        self.uid = Some(uid);
        self.rows.clear();
    }
}

/// Every access-log row belongs to a stored link or to a purged one still under its
/// tombstone; `access_log_noise` names exactly the aggregated noise rows (same key, same
/// last-seen time), at most `NOISE_ROWS_PER_LINK` per link. Rows written before
/// aggregation existed (no last-seen time) are single rows without an index entry.
fn check_access_log(
    r: &Reader,
    links: &[LinkRecord],
    report: &mut CheckReport,
) -> Result<(), StoreError> {
    let mut owners: HashSet<u128> = links.iter().map(|l| l.uid.as_u128()).collect();
    for entry in r.table(LOG_TOMBSTONES)?.iter()? {
        owners.insert(entry?.0.value().1);
    }
    let mut noise_rows: HashSet<(u128, String, u64, i64)> = HashSet::new();
    let mut orphans: HashSet<u128> = HashSet::new();
    let mut chain = LinkRows::default();
    for entry in r.table(ACCESS_LOG)?.iter()? {
        let (k, v) = entry?;
        let (uid, id) = k.value();
        chain.next_link(uid, report);
        if !owners.contains(&uid) && orphans.insert(uid) {
            report.problems.push(format!(
                "access log of {uid:032x}: no link and no tombstone"
            ));
        }
        let Ok(row) = decode::<AccessLogEntry>(v.value()) else {
            report
                .problems
                .push(format!("access log {uid:032x}/{id}: unreadable row"));
            continue;
        };
        if let (Some(last), Some(key)) =
            (row.last_at, noise_key(row.event, row.outcome, &row.actor))
        {
            noise_rows.insert((uid, key, id, last.as_i64()));
        }
        chain.rows.push(row);
    }
    chain.next_link(u128::MAX, report);
    check_noise_index(r, &noise_rows, report)
}

/// Invariant of `src/store/writer/attachment.rs`: `attachments_by_idle` holds exactly one
/// entry per attachment, at its `idle_since` or at `HELD` (then a share points at it).
fn check_attachment_index(r: &Reader, report: &mut CheckReport) -> Result<(), StoreError> {
    use crate::domain::attachment::AttachmentRecord;
    let records = r.table(ATTACHMENTS)?;
    let by_resource = r.table(LINKS_BY_RESOURCE)?;
    let rt = crate::domain::share::SHARED_DOCUMENT.to_lowercase();
    let mut indexed = HashSet::new();
    for entry in r.table(ATTACHMENTS_BY_IDLE)?.iter()? {
        let (at, tenant, id) = entry?.0.value();
        let held = by_resource
            .range((tenant, rt.as_str(), id, 0)..=(tenant, rt.as_str(), id, u64::MAX))?
            .next()
            .is_some();
        let matches = match records.get((tenant, id))? {
            Some(v) => decode::<AttachmentRecord>(v.value())
                .is_ok_and(|a| a.idle_since().as_i64() == at || (at == i64::MAX && held)),
            None => false,
        };
        if !matches || !indexed.insert((tenant, id)) {
            report.problems.push(format!(
                "attachments_by_idle: a stale or wrong entry for {id:032x}"
            ));
        }
    }
    let records = records.len()?;
    if indexed.len() as u64 != records {
        report.problems.push(format!(
            "attachments_by_idle names {} of {records} attachments",
            indexed.len()
        ));
    }
    Ok(())
}
