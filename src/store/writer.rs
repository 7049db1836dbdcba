//! The single writer thread (DESIGN.md decision 1). Handlers queue commands; the thread takes
//! everything already queued, applies it in ONE write transaction, commits once (durable) and
//! answers each caller. While a commit's fsync runs, new commands pile up, so batches grow
//! with load by themselves. Each command checks before it mutates, so a rejected command never
//! touches the batch; only an I/O failure fails the whole batch (and nothing of it is written).

use std::sync::Arc;

use redb::{Database, ReadableTable, Table, WriteTransaction};
use tokio::sync::{mpsc, oneshot};
use uuid::Uuid;

use super::StoreError;
use super::codec::{decode, encode};
use super::tables::*;
use crate::config::WriterSettings;
use crate::domain::contact::Contact;
use crate::domain::link::LinkRecord;
use crate::domain::tenant::{ApiKeyRecord, Tenant};
use crate::domain::token::SecretHash;

/// One logical write.
#[derive(Debug)]
pub enum WriteOp {
    CreateTenant(Tenant),
    CreateApiKey {
        hash: SecretHash,
        record: ApiKeyRecord,
    },
    RevokeApiKey {
        key_id: Uuid,
        at: i64,
    },
    /// Stores a new link; the writer assigns `link_id`.
    CreateLink(Box<LinkRecord>),
    /// Sets the revocation once; revoking again returns the link unchanged.
    RevokeLink {
        tenant_id: Uuid,
        uid: Uuid,
        by: Uuid,
        at: i64,
    },
    PutContact(Box<Contact>),
    DeleteContact {
        tenant_id: Uuid,
        contact_id: i32,
    },
    /// Deletes up to `limit` links retired (expired or revoked) before `retired_before`.
    Purge {
        retired_before: i64,
        limit: usize,
    },
}

/// What a write did.
#[derive(Debug)]
pub enum WriteOutcome {
    Done,
    Link(Box<LinkRecord>),
    Contact {
        contact: Box<Contact>,
        created: bool,
    },
    /// The target does not exist (in this tenant); nothing was written.
    NotFound,
    Purged(PurgeReport),
}

/// Result of one purge batch.
#[derive(Debug, Default, Clone, PartialEq, Eq)]
pub struct PurgeReport {
    pub purged: usize,
    /// More retired links remain (the batch hit its limit).
    pub more: bool,
}

enum Request {
    Op(WriteOp, oneshot::Sender<Result<WriteOutcome, StoreError>>),
    Stop,
}

#[derive(Clone)]
pub(super) struct WriterHandle {
    tx: mpsc::Sender<Request>,
}

impl WriterHandle {
    pub(super) async fn send(&self, op: WriteOp) -> Result<WriteOutcome, StoreError> {
        let (reply, rx) = oneshot::channel();
        self.tx
            .send(Request::Op(op, reply))
            .await
            .map_err(|_| StoreError::Closed)?;
        rx.await.map_err(|_| StoreError::Closed)?
    }

    pub(super) fn send_blocking(&self, op: WriteOp) -> Result<WriteOutcome, StoreError> {
        let (reply, rx) = oneshot::channel();
        self.tx
            .blocking_send(Request::Op(op, reply))
            .map_err(|_| StoreError::Closed)?;
        rx.blocking_recv().map_err(|_| StoreError::Closed)?
    }

    /// Asks the thread to stop after what is already queued. Blocking: not for async contexts.
    pub(super) fn stop(&self) {
        let _ = self.tx.blocking_send(Request::Stop);
    }
}

pub(super) fn spawn(
    db: Arc<Database>,
    settings: &WriterSettings,
) -> Result<(WriterHandle, std::thread::JoinHandle<()>), StoreError> {
    let (tx, rx) = mpsc::channel(settings.queue_capacity);
    let max_batch = settings.max_batch;
    let thread = std::thread::Builder::new()
        .name("customerlink-writer".into())
        .spawn(move || run(&db, rx, max_batch))
        .map_err(|e| StoreError::Io(e.to_string()))?;
    Ok((WriterHandle { tx }, thread))
}

fn run(db: &Database, mut rx: mpsc::Receiver<Request>, max_batch: usize) {
    let mut batch = Vec::with_capacity(max_batch);
    while let Some(first) = rx.blocking_recv() {
        let mut stop = false;
        let mut next = Some(first);
        while let Some(request) = next.take() {
            match request {
                Request::Op(op, reply) => batch.push((op, reply)),
                Request::Stop => {
                    stop = true;
                    break;
                }
            }
            if batch.len() < max_batch {
                next = rx.try_recv().ok();
            }
        }
        if !batch.is_empty() {
            apply_batch(db, &mut batch);
        }
        if stop {
            return;
        }
    }
}

type Reply = oneshot::Sender<Result<WriteOutcome, StoreError>>;

fn apply_batch(db: &Database, batch: &mut Vec<(WriteOp, Reply)>) {
    let mut replies = Vec::with_capacity(batch.len());
    let result = (|| {
        let txn = db.begin_write()?;
        {
            let mut tables = Tables::open(&txn)?;
            for (op, reply) in batch.drain(..) {
                match tables.apply(op) {
                    Err(e @ StoreError::Io(_)) => return Err(e),
                    outcome => replies.push((reply, outcome)),
                }
            }
        }
        txn.commit()?;
        Ok(())
    })();
    match result {
        Ok(()) => {
            for (reply, outcome) in replies {
                let _ = reply.send(outcome);
            }
        }
        Err(e) => {
            tracing::error!(error = %e, "write batch failed; nothing of it was committed");
            let failed = replies
                .into_iter()
                .map(|(r, _)| r)
                .chain(batch.drain(..).map(|(_, r)| r));
            for reply in failed {
                let _ = reply.send(Err(e.clone()));
            }
        }
    }
}

/// All tables open in one write transaction.
struct Tables<'t> {
    meta: Table<'t, &'static str, u64>,
    tenants: Table<'t, u128, &'static [u8]>,
    api_keys: Table<'t, [u8; 32], &'static [u8]>,
    api_key_ids: Table<'t, u128, [u8; 32]>,
    links: Table<'t, u128, &'static [u8]>,
    by_token: Table<'t, [u8; 32], u128>,
    by_tenant: Table<'t, (u128, u64), u128>,
    by_resource: Table<'t, (u128, &'static str, u128, u64), u128>,
    by_expiry: Table<'t, (i64, u128), ()>,
    by_revoked: Table<'t, (i64, u128), ()>,
    contacts: Table<'t, (u128, i32), &'static [u8]>,
}

impl<'t> Tables<'t> {
    fn open(txn: &'t WriteTransaction) -> Result<Self, StoreError> {
        Ok(Self {
            meta: txn.open_table(META)?,
            tenants: txn.open_table(TENANTS)?,
            api_keys: txn.open_table(API_KEYS)?,
            api_key_ids: txn.open_table(API_KEY_IDS)?,
            links: txn.open_table(LINKS)?,
            by_token: txn.open_table(LINKS_BY_TOKEN)?,
            by_tenant: txn.open_table(LINKS_BY_TENANT)?,
            by_resource: txn.open_table(LINKS_BY_RESOURCE)?,
            by_expiry: txn.open_table(LINKS_BY_EXPIRY)?,
            by_revoked: txn.open_table(LINKS_BY_REVOKED)?,
            contacts: txn.open_table(CONTACTS)?,
        })
    }

    fn apply(&mut self, op: WriteOp) -> Result<WriteOutcome, StoreError> {
        match op {
            WriteOp::CreateTenant(t) => {
                self.tenants
                    .insert(t.tenant_id.as_u128(), encode(&t)?.as_slice())?;
                Ok(WriteOutcome::Done)
            }
            WriteOp::CreateApiKey { hash, record } => {
                let bytes = encode(&record)?;
                self.api_keys.insert(hash.0, bytes.as_slice())?;
                self.api_key_ids.insert(record.key_id.as_u128(), hash.0)?;
                Ok(WriteOutcome::Done)
            }
            WriteOp::RevokeApiKey { key_id, at } => self.revoke_key(key_id, at),
            WriteOp::CreateLink(link) => self.create_link(*link),
            WriteOp::RevokeLink {
                tenant_id,
                uid,
                by,
                at,
            } => self.revoke_link(tenant_id, uid, by, at),
            WriteOp::PutContact(c) => self.put_contact(*c),
            WriteOp::DeleteContact {
                tenant_id,
                contact_id,
            } => {
                let removed = self
                    .contacts
                    .remove((tenant_id.as_u128(), contact_id))?
                    .is_some();
                Ok(if removed {
                    WriteOutcome::Done
                } else {
                    WriteOutcome::NotFound
                })
            }
            WriteOp::Purge {
                retired_before,
                limit,
            } => self.purge(retired_before, limit),
        }
    }

    fn revoke_key(&mut self, key_id: Uuid, at: i64) -> Result<WriteOutcome, StoreError> {
        let Some(hash) = self.api_key_ids.get(key_id.as_u128())?.map(|g| g.value()) else {
            return Ok(WriteOutcome::NotFound);
        };
        let Some(bytes) = self.api_keys.get(hash)?.map(|g| g.value().to_vec()) else {
            return Err(StoreError::Corrupt(format!(
                "api key {key_id} has no record"
            )));
        };
        let mut record: ApiKeyRecord = decode(&bytes)?;
        if record.revoked_at.is_none() {
            record.revoked_at = Some(at);
            self.api_keys.insert(hash, encode(&record)?.as_slice())?;
        }
        Ok(WriteOutcome::Done)
    }

    /// Invariant: a stored link has exactly one entry in `by_token`, `by_tenant`,
    /// `by_resource` and `by_expiry`, and one in `by_revoked` iff it is revoked.
    fn create_link(&mut self, mut link: LinkRecord) -> Result<WriteOutcome, StoreError> {
        let next = self
            .meta
            .get("next_link_id")?
            .map(|g| g.value())
            .unwrap_or(1);
        link.link_id = next;
        let bytes = encode(&link)?;
        let uid = link.uid.as_u128();
        let tenant = link.tenant_id.as_u128();
        self.meta.insert("next_link_id", next + 1)?;
        self.links.insert(uid, bytes.as_slice())?;
        self.by_token.insert(link.token_hash, uid)?;
        self.by_tenant.insert((tenant, link.link_id), uid)?;
        let resource_type = link.resource_type.to_lowercase();
        self.by_resource.insert(
            (
                tenant,
                resource_type.as_str(),
                link.resource_uid.as_u128(),
                link.link_id,
            ),
            uid,
        )?;
        self.by_expiry.insert((link.expires_at, uid), ())?;
        Ok(WriteOutcome::Link(Box::new(link)))
    }

    fn load_link(&self, uid: u128) -> Result<Option<LinkRecord>, StoreError> {
        match self.links.get(uid)? {
            Some(g) => Ok(Some(decode(g.value())?)),
            None => Ok(None),
        }
    }

    fn revoke_link(
        &mut self,
        tenant_id: Uuid,
        uid: Uuid,
        by: Uuid,
        at: i64,
    ) -> Result<WriteOutcome, StoreError> {
        let Some(mut link) = self
            .load_link(uid.as_u128())?
            .filter(|l| l.tenant_id == tenant_id)
        else {
            return Ok(WriteOutcome::NotFound);
        };
        if link.revoked_at.is_none() {
            link.revoked_at = Some(at);
            link.revoked_by_user_id = Some(by);
            self.links
                .insert(uid.as_u128(), encode(&link)?.as_slice())?;
            self.by_revoked.insert((at, uid.as_u128()), ())?;
        }
        Ok(WriteOutcome::Link(Box::new(link)))
    }

    fn put_contact(&mut self, contact: Contact) -> Result<WriteOutcome, StoreError> {
        let key = (contact.tenant_id.as_u128(), contact.contact_id);
        let existing: Option<Contact> = match self.contacts.get(key)? {
            Some(g) => Some(decode(g.value())?),
            None => None,
        };
        let mut contact = contact;
        if contact.contact_guid.is_nil() {
            contact.contact_guid = existing
                .as_ref()
                .map_or_else(Uuid::new_v4, |e| e.contact_guid);
        }
        self.contacts.insert(key, encode(&contact)?.as_slice())?;
        Ok(WriteOutcome::Contact {
            contact: Box::new(contact),
            created: existing.is_none(),
        })
    }

    fn purge(&mut self, retired_before: i64, limit: usize) -> Result<WriteOutcome, StoreError> {
        let mut victims: Vec<u128> = Vec::new();
        for index in [&self.by_expiry, &self.by_revoked] {
            for entry in index.range(..(retired_before, 0u128))? {
                if victims.len() > limit {
                    break;
                }
                let uid = entry?.0.value().1;
                if !victims.contains(&uid) {
                    victims.push(uid);
                }
            }
        }
        let more = victims.len() > limit;
        victims.truncate(limit);
        for uid in &victims {
            // A failure after earlier deletions must abort the whole batch, never half-apply.
            self.delete_link(*uid)
                .map_err(|e| StoreError::Io(e.to_string()))?;
        }
        Ok(WriteOutcome::Purged(PurgeReport {
            purged: victims.len(),
            more,
        }))
    }

    /// Removes a link and every index entry that names it.
    fn delete_link(&mut self, uid: u128) -> Result<(), StoreError> {
        let Some(link) = self.load_link(uid)? else {
            tracing::warn!(uid = %format!("{uid:032x}"), "purge: an index names a missing link; run `customerlink check`");
            return Ok(());
        };
        let tenant = link.tenant_id.as_u128();
        self.links.remove(uid)?;
        self.by_token.remove(link.token_hash)?;
        self.by_tenant.remove((tenant, link.link_id))?;
        let resource_type = link.resource_type.to_lowercase();
        self.by_resource.remove((
            tenant,
            resource_type.as_str(),
            link.resource_uid.as_u128(),
            link.link_id,
        ))?;
        self.by_expiry.remove((link.expires_at, uid))?;
        if let Some(at) = link.revoked_at {
            self.by_revoked.remove((at, uid))?;
        }
        Ok(())
    }
}
