//! An attachment's record: what the store keeps beside the sealed file (name, sniffed type,
//! size, digest), scoped to one tenant. The file itself is in `store::attachments`.

use serde::{Deserialize, Serialize};
use uuid::Uuid;

use super::{TenantId, UnixMillis};

/// One stored attachment. `content_type` is what sniffing found, never the client's claim.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct AttachmentRecord {
    pub id: Uuid,
    pub tenant_id: TenantId,
    pub name: String,
    pub content_type: String,
    /// Active content (HTML, scripts, executables): never served inline.
    pub download_only: bool,
    pub size: u64,
    /// SHA-256 of the plaintext.
    #[serde(with = "super::bin::hash")]
    pub sha256: [u8; 32],
    pub created_at: UnixMillis,
    /// When the purge removed the last share pointing at it (`None` while never released).
    #[serde(default)]
    pub released_at: Option<UnixMillis>,
}

impl AttachmentRecord {
    /// Since when no share has held it, as far as the record knows: the later of its upload
    /// and its last share's purge. The purge removes it a retention window after this, if no
    /// share points at it then.
    pub fn idle_since(&self) -> UnixMillis {
        self.released_at
            .map_or(self.created_at, |r| r.max(self.created_at))
    }
}
