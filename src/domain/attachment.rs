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
    pub sha256: [u8; 32],
    pub created_at: UnixMillis,
}
