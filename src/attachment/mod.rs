//! attachment: the files staff upload for document shares (issue 17), kept encrypted at rest.
//! The pieces are pure and synchronous so each is tested alone and used by both stores:
//! [`seal`] (the chunked ChaCha20-Poly1305 format, docs/storage.md "Attachment files"),
//! [`sniff`] (the content type from the first bytes, never the client's word), [`multipart`]
//! (an incremental `multipart/form-data` reader that never holds the file whole) and
//! [`disposition`] (the file name from a `Content-Disposition` header) and [`range`] (the
//! byte span a `Range` header asks for).

pub mod disposition;
pub mod multipart;
pub mod range;
pub mod seal;
pub mod sniff;
