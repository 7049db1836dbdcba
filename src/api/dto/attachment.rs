//! Attachment DTOs (issue 17): the upload's answer and the id/`Force` requests. The upload
//! and download bodies are the file itself, so only their replies and path members are DTOs.

use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

use crate::domain::attachment::AttachmentRecord;
use crate::wire::status::ResponseStatus;
use crate::wire::types::Guid;
use crate::wire::types::lenient::opt_bool;

/// `PUT /v1/attachment`: the body is the file (raw with `Content-Disposition: attachment;
/// filename="…"`, or `multipart/form-data` with the file in the field `file`).
#[derive(Debug, Clone, Default, Deserialize, JsonSchema)]
#[serde(default)]
pub struct AttachmentUploadRequest {}

/// `GET /v1/attachment/{AttachmentId}` (the file) and `DELETE` (with `Force`).
#[derive(Debug, Clone, Default, Deserialize, JsonSchema)]
#[serde(default)]
pub struct AttachmentRequest {
    pub AttachmentId: Option<Guid>,
    /// Delete even while live shares point at the attachment.
    #[serde(deserialize_with = "opt_bool")]
    pub Force: Option<bool>,
}

/// An attachment as stored: `ContentType` is sniffed from the bytes, never the client's;
/// `DownloadOnly` marks active content (HTML, scripts, executables) never shown inline.
#[derive(Debug, Clone, Serialize, JsonSchema)]
pub struct AttachmentResponse {
    #[serde(skip_serializing_if = "Option::is_none")]
    pub ResponseStatus: Option<ResponseStatus>,
    pub AttachmentId: Guid,
    pub Name: String,
    pub ContentType: String,
    pub Size: u64,
    /// Lower-case hex SHA-256 of the file.
    pub Sha256: String,
    pub DownloadOnly: bool,
}

impl AttachmentResponse {
    pub fn from_record(r: &AttachmentRecord) -> Self {
        AttachmentResponse {
            ResponseStatus: None,
            AttachmentId: Guid(r.id),
            Name: r.name.clone(),
            ContentType: r.content_type.clone(),
            Size: r.size,
            Sha256: r.sha256.iter().map(|b| format!("{b:02x}")).collect(),
            DownloadOnly: r.download_only,
        }
    }
}
