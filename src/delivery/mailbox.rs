//! The development mailbox: in dev mode, the last hop of every email and SMS. Instead of a
//! relay or gateway, each message becomes one 0600 JSON file in `<data>/dev-mailbox/`,
//! written and synced before the send reports success, so a message the outbox marked sent
//! is in the mailbox, also after a restart. Only the newest [`KEEP`] are kept. The files hold
//! link URLs and passcodes in clear — the mailbox's purpose — which is why it exists only in
//! dev mode. Knows nothing of HTTP (`api::dev` shows it).

use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex};

use serde::{Deserialize, Serialize};

use super::SendError;
use crate::domain::UnixMillis;
use crate::domain::policy::Channel;

/// Messages kept; older ones are deleted as new ones arrive.
pub const KEEP: usize = 200;

/// One kept message, as its file holds it and `/dev/mailbox` shows it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct MailboxMessage {
    /// Increasing with arrival, also across restarts.
    pub id: u64,
    pub at: UnixMillis,
    pub channel: Channel,
    pub to: String,
    /// Empty for an SMS.
    pub subject: String,
    /// The email's text part, or the SMS text.
    pub text: String,
}

/// The mailbox folder. Cheap to clone; writes are serialised so ids stay unique.
#[derive(Debug, Clone)]
pub struct Mailbox {
    dir: PathBuf,
    next_id: Arc<Mutex<Option<u64>>>,
}

impl Mailbox {
    /// A mailbox in `dir`, created (0700) on the first message.
    pub fn new(dir: PathBuf) -> Mailbox {
        Mailbox {
            dir,
            next_id: Arc::default(),
        }
    }

    /// Keeps one message durably and drops the oldest beyond [`KEEP`]. A failure to write is
    /// transient (the outbox retries), like a relay that does not answer.
    pub async fn keep(&self, message: NewMessage) -> Result<(), SendError> {
        let mailbox = self.clone();
        tokio::task::spawn_blocking(move || mailbox.keep_blocking(message))
            .await
            .map_err(|_| SendError::transient("dev mailbox: write interrupted".into()))?
            .map_err(|e| SendError::transient(format!("dev mailbox: {e}")))
    }

    fn keep_blocking(&self, m: NewMessage) -> std::io::Result<()> {
        let mut next = self.next_id.lock().unwrap_or_else(|p| p.into_inner());
        crate::private_fs::dir(&self.dir)?;
        let mut ids = self.ids()?;
        let id = next.unwrap_or_else(|| ids.last().map_or(1, |last| last + 1));
        let message = MailboxMessage {
            id,
            at: m.at,
            channel: m.channel,
            to: m.to,
            subject: m.subject,
            text: m.text,
        };
        let json = serde_json::to_vec(&message).map_err(std::io::Error::other)?;
        crate::private_fs::write_private(&file_of(&self.dir, id), &json)?;
        *next = Some(id + 1);
        ids.push(id);
        let excess = ids.len().saturating_sub(KEEP);
        for old in &ids[..excess] {
            let _ = std::fs::remove_file(file_of(&self.dir, *old));
        }
        Ok(())
    }

    /// The kept messages, newest first (an unreadable file is skipped).
    pub fn list(&self) -> std::io::Result<Vec<MailboxMessage>> {
        let mut messages = Vec::new();
        for id in self.ids()?.into_iter().rev() {
            let Ok(bytes) = std::fs::read(file_of(&self.dir, id)) else {
                continue;
            };
            if let Ok(m) = serde_json::from_slice(&bytes) {
                messages.push(m);
            }
        }
        Ok(messages)
    }

    /// The ids of the files in the folder, ascending (none when it does not exist yet).
    fn ids(&self) -> std::io::Result<Vec<u64>> {
        let entries = match std::fs::read_dir(&self.dir) {
            Ok(entries) => entries,
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(Vec::new()),
            Err(e) => return Err(e),
        };
        let mut ids: Vec<u64> = entries
            .filter_map(Result::ok)
            .filter_map(|e| {
                let name = e.file_name().into_string().ok()?;
                name.strip_suffix(".json")?.parse().ok()
            })
            .collect();
        ids.sort_unstable();
        Ok(ids)
    }
}

/// A message to keep.
#[derive(Debug)]
pub struct NewMessage {
    pub at: UnixMillis,
    pub channel: Channel,
    pub to: String,
    pub subject: String,
    pub text: String,
}

fn file_of(dir: &Path, id: u64) -> PathBuf {
    dir.join(format!("{id:012}.json"))
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used, reason = "a failed expectation is a failed test")]

    use super::*;

    fn message(i: i64) -> NewMessage {
        NewMessage {
            at: UnixMillis::from_millis(i),
            channel: Channel::Sms,
            to: "+15550100".into(),
            subject: String::new(),
            text: format!("message {i}"),
        }
    }

    #[test]
    fn keeps_the_newest_and_continues_ids_after_a_reopen() {
        let tmp = tempfile::tempdir().unwrap();
        let dir = tmp.path().join("dev-mailbox");
        let mailbox = Mailbox::new(dir.clone());
        for i in 0..(KEEP as i64 + 3) {
            mailbox.keep_blocking(message(i)).unwrap();
        }
        let listed = mailbox.list().unwrap();
        assert_eq!(listed.len(), KEEP);
        assert_eq!(listed[0].text, format!("message {}", KEEP + 2));
        let reopened = Mailbox::new(dir);
        reopened.keep_blocking(message(999)).unwrap();
        assert_eq!(reopened.list().unwrap()[0].id, KEEP as u64 + 4);
    }
}
