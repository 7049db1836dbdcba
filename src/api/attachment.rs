//! Attachments (issue 17): `PUT /v1/attachment` streams a file in, sealing it chunk by chunk
//! as it arrives (never held whole), `GET /v1/attachment/{AttachmentId}` streams it out
//! opening one chunk at a time, `DELETE` removes it. Staff only, scoped to the caller's
//! tenant (another tenant's attachment answers like a missing one).
//!
//! The upload and download never pass through the whole-body read: the transport asks
//! [`streamed`] whether the operation the request resolves to (by any spelling of its route)
//! streams, and hands such a request its body unread ([`run_streamed`]). Every other route,
//! and the `DELETE`, go through dispatch as before.

use std::io;

use bytes::Bytes;
use http_body_util::BodyExt as _;
use hyper::body::Incoming;
use hyper::header::{CONTENT_DISPOSITION, CONTENT_LENGTH, CONTENT_TYPE, HeaderMap, HeaderValue};
use tokio::sync::mpsc;
use uuid::Uuid;

use super::dispatch;
pub use super::dispatch::Streamed;
use super::dto::{AttachmentRequest, AttachmentResponse, AttachmentUploadRequest};
use super::error::ApiError;
use super::routes::{Matched, Op};
use super::{AppState, Request, Response, auth, header};
use crate::api::Records;
use crate::attachment::disposition;
use crate::attachment::multipart::{self, Multipart};
use crate::attachment::range::Span;
use crate::attachment::seal::{Opener, Sealer, chunk_count};
use crate::attachment::sniff::{SNIFF_LEN, sniff};
use crate::domain::attachment::AttachmentRecord;
use crate::domain::link::LinkStatus;
use crate::domain::share::SHARED_DOCUMENT;
use crate::domain::tenant::StaffCaller;
use crate::store::Store;
use crate::store::commands::DeleteAttachment;
use crate::store::queries::{AttachmentOf, LinksByResource};
use crate::wire::types::Guid;

/// Whether `op` is answered with its body unread (upload) or its reply streamed (downloads,
/// the staff's and a share recipient's).
pub fn streams(op: Op) -> bool {
    matches!(
        op,
        Op::PutAttachment | Op::GetAttachment | Op::ShareDownload
    )
}

/// `DELETE /v1/attachment/{AttachmentId}`: the record first, then its bytes.
pub async fn delete(
    state: Records<'_>,
    caller: &StaffCaller,
    req: AttachmentRequest,
) -> Result<AttachmentResponse, ApiError> {
    let id = required_id(req.AttachmentId)?;
    refuse_while_shared(state, caller, id, req.Force.unwrap_or(false)).await?;
    let store = state.store;
    let command = DeleteAttachment {
        tenant_id: caller.tenant_id,
        id,
    };
    let record = store.write(command).await?.ok_or_else(not_found)?;
    if let Err(e) = store.discard_attachment(id) {
        // The record is gone; the file is swept at the next start.
        tracing::warn!(error = %e, "an attachment's file could not be removed");
    }
    Ok(AttachmentResponse::from_record(&record))
}

/// A `DELETE` is refused (409) while live shares point at the attachment, unless `Force`:
/// their recipients would find a dead link. Shares that are no longer active do not count.
async fn refuse_while_shared(
    Records { store, clock }: Records<'_>,
    caller: &StaffCaller,
    id: Uuid,
    force: bool,
) -> Result<(), ApiError> {
    if force {
        return Ok(());
    }
    let query = LinksByResource {
        tenant: caller.tenant_id,
        resource_type: SHARED_DOCUMENT.to_owned(),
        resource_uid: id,
    };
    let now = clock.now();
    let live = store
        .fetch(query)
        .await?
        .iter()
        .filter(|l| l.status(now) == LinkStatus::Active)
        .count();
    if live == 0 {
        return Ok(());
    }
    Err(ApiError::Conflict(format!(
        "{live} active share(s) point at this attachment; revoke them or delete with Force=true."
    )))
}

/// The route-table handler of the streamed operations, reached only where streaming is not
/// possible (an AutoBatch of uploads or downloads): refused.
pub async fn not_batched(
    _store: &Store,
    _caller: &StaffCaller,
    _req: AttachmentUploadRequest,
) -> Result<AttachmentResponse, ApiError> {
    Err(ApiError::UnsupportedMediaType(
        "Attachments are uploaded and downloaded one at a time, not in a batch.".into(),
    ))
}

fn required_id(id: Option<Guid>) -> Result<Uuid, ApiError> {
    id.map(|g| g.0).ok_or_else(|| {
        ApiError::Invalid(vec![crate::domain::FieldError::new(
            "AttachmentId",
            crate::domain::Rule::NotEmpty,
        )])
    })
}

fn not_found() -> ApiError {
    ApiError::NotFound("Attachment not found".into())
}

/// Whether this request is a streamed operation: the matched route, if so. Decided by the
/// resolved operation; the test on the path only spares every other request a second lookup
/// (every spelling of these operations' routes names an attachment or a download, and a
/// spelling that slipped past would reach the table's handler, which refuses).
pub fn streamed(req: &Request) -> Option<Streamed> {
    let names = |word: &[u8]| {
        req.path()
            .as_bytes()
            .windows(word.len())
            .any(|w| w.eq_ignore_ascii_case(word))
    };
    if !names(b"attachment") && !names(b"download") {
        return None;
    }
    dispatch::streamed_target(req).filter(|s| streams(s.matched.route.op))
}

/// What a streamed operation answers: a whole reply (the upload's DTO, any error) or a file.
pub enum Answer {
    Whole(Response),
    File {
        /// 200, or 206 for a range.
        status: hyper::StatusCode,
        headers: HeaderMap,
        chunks: mpsc::Receiver<io::Result<Bytes>>,
    },
}

/// Runs a streamed operation with the body unread; never fails (errors become replies in
/// the negotiated format). A share's download is public: the portal's budget and headers.
pub async fn run_streamed(
    state: &AppState,
    req: &Request,
    streamed: Streamed,
    body: Incoming,
) -> (Answer, &'static str) {
    let label = streamed.matched.route.request;
    let public = streamed.matched.route.op.is_public();
    let (mut exchange, matched) = streamed.into_exchange(state, req);
    let outcome = if public {
        match dispatch::portal_budget(&state.portal_limits, &*state.clock, req) {
            Ok(()) => super::share::download::run(state, req, &matched, &exchange.style).await,
            Err(e) => Err(e),
        }
    } else {
        staff(state, req, &mut exchange, &matched, body).await
    };
    let finish = if public {
        dispatch::finish_portal
    } else {
        dispatch::finish_staff
    };
    let answer = match outcome {
        Ok(Answer::Whole(mut response)) => {
            finish(&exchange, &mut response);
            Answer::Whole(response)
        }
        Ok(file) => file,
        Err(e) => {
            let mut response = super::error_response(&e, &exchange.style);
            finish(&exchange, &mut response);
            Answer::Whole(response)
        }
    };
    (answer, label)
}

/// The staff's streamed operations: authenticated, then the upload or the download.
async fn staff(
    state: &AppState,
    req: &Request,
    exchange: &mut super::exchange::Exchange,
    matched: &Matched,
    body: Incoming,
) -> Result<Answer, ApiError> {
    let caller = auth::authenticate(state.into(), &req.headers, matched.route.op).await?;
    // The reply casing as dispatch decides it: the key's pin, else the server's rule (an
    // upload sends no members to follow).
    exchange.style.casing = exchange.casing.decide(caller.casing, None);
    match matched.route.op {
        Op::PutAttachment => {
            let dto = upload(state.into(), req, &caller, body).await?;
            super::respond(&dto, &exchange.style).map(Answer::Whole)
        }
        _ => download(state.into(), &caller, matched).await,
    }
}

/// What storing and serving a file uses: the store, the keys that wrap file keys, the clock,
/// the upload limit and the body read timeout — not the rest of the state.
#[derive(Clone, Copy)]
struct Vault<'a> {
    store: &'a crate::store::Store,
    keys: &'a crate::domain::token::HashKeys,
    clock: &'a dyn crate::clock::Clock,
    max_bytes: u64,
    read_timeout: std::time::Duration,
}

impl<'a> From<&'a AppState> for Vault<'a> {
    fn from(state: &'a AppState) -> Self {
        Vault {
            store: &state.store,
            keys: &state.keys,
            clock: &*state.clock,
            max_bytes: state.config.attachments.max_bytes,
            read_timeout: state.config.http.body_read_timeout,
        }
    }
}

/// How the file arrives: the raw body, or the `file` part of a multipart body.
enum Framing {
    Raw,
    Multipart(Box<Multipart>),
}

/// Streams the body in: sniffs the first bytes, seals and stores each chunk as it fills,
/// refuses (413, nothing kept) once the file passes `attachments.max_bytes`, and commits the
/// record only after the bytes are durable.
async fn upload(
    state: Vault<'_>,
    req: &Request,
    caller: &StaffCaller,
    mut body: Incoming,
) -> Result<AttachmentResponse, ApiError> {
    let (framing, name) = framing(&req.headers)?;
    let mut intake = Intake::new(framing, state.max_bytes);
    let declared = header(&req.headers, CONTENT_LENGTH).and_then(|v| v.parse::<u64>().ok());
    if declared.is_some_and(|len| len > intake.max + intake.slack()) {
        return Err(intake.too_large());
    }
    let id = Uuid::new_v4();
    let wrap = state.keys.attachment_wrap();
    let (mut sealer, sealed_header) =
        Sealer::new(&wrap, id.into_bytes()).map_err(|e| ApiError::Internal(e.to_string()))?;
    let mut stored = state.store.begin_upload(id, &sealed_header)?;
    let read_timeout = state.read_timeout;
    while let Some(data) = next_frame(&mut body, read_timeout).await? {
        for chunk in sealer
            .push(intake.take(&data)?)
            .map_err(|e| ApiError::Internal(e.to_string()))?
        {
            stored.write(state.store, chunk).await?;
        }
    }
    let name = intake.finish(name)?;
    let (last, sealed) = sealer
        .finish()
        .map_err(|e| ApiError::Internal(e.to_string()))?;
    stored.write(state.store, last).await?;
    let sniffed = sniff(&intake.head, &name);
    let record = AttachmentRecord {
        id,
        tenant_id: caller.tenant_id,
        name,
        content_type: sniffed.content_type.to_owned(),
        download_only: sniffed.download_only,
        size: sealed.size,
        sha256: sealed.sha256,
        created_at: state.clock.now(),
        released_at: None,
    };
    let response = AttachmentResponse::from_record(&record);
    stored.commit(state.store, record).await?;
    Ok(response)
}

/// The next data frame of the body within the body read timeout; `None` at its end.
async fn next_frame(
    body: &mut Incoming,
    read_timeout: std::time::Duration,
) -> Result<Option<bytes::Bytes>, ApiError> {
    loop {
        let frame = match tokio::time::timeout(read_timeout, body.frame()).await {
            Err(_) => return Err(ApiError::RequestTimeout),
            Ok(None) => return Ok(None),
            Ok(Some(Err(e))) => return Err(unreadable(&e.to_string())),
            Ok(Some(Ok(frame))) => frame,
        };
        if let Ok(data) = frame.into_data() {
            return Ok(Some(data));
        }
    }
}

/// What the upload has taken in so far: the file's bytes unwrapped from their framing, the
/// first bytes kept for sniffing, and the size against the limit.
struct Intake {
    framing: Framing,
    max: u64,
    size: u64,
    head: Vec<u8>,
    plain: Vec<u8>,
}

impl Intake {
    fn new(framing: Framing, max: u64) -> Intake {
        Intake {
            framing,
            max,
            size: 0,
            head: Vec::with_capacity(SNIFF_LEN),
            plain: Vec::new(),
        }
    }

    /// Multipart adds its boundaries and part headers; allow them a little room.
    fn slack(&self) -> u64 {
        match self.framing {
            Framing::Raw => 0,
            Framing::Multipart(_) => 64 * 1024,
        }
    }

    fn too_large(&self) -> ApiError {
        ApiError::PayloadTooLarge {
            limit: usize::try_from(self.max).unwrap_or(usize::MAX),
        }
    }

    /// The file's bytes in `data`; 413 once the file passes the limit.
    fn take(&mut self, data: &[u8]) -> Result<&[u8], ApiError> {
        self.plain.clear();
        match &mut self.framing {
            Framing::Raw => self.plain.extend_from_slice(data),
            Framing::Multipart(m) => m
                .push(data, &mut self.plain)
                .map_err(|e| unreadable(&e.to_string()))?,
        }
        self.size += self.plain.len() as u64;
        if self.size > self.max {
            return Err(self.too_large());
        }
        if self.head.len() < SNIFF_LEN {
            let take = (SNIFF_LEN - self.head.len()).min(self.plain.len());
            self.head.extend_from_slice(&self.plain[..take]);
        }
        Ok(&self.plain)
    }

    /// The file's name: the multipart part's, else the one the headers gave, else a default.
    fn finish(&mut self, name: Option<String>) -> Result<String, ApiError> {
        let framing = std::mem::replace(&mut self.framing, Framing::Raw);
        let name = match framing {
            Framing::Multipart(m) => m.finish().map_err(|e| unreadable(&e.to_string()))?.or(name),
            Framing::Raw => name,
        };
        Ok(name.unwrap_or_else(|| "attachment".into()))
    }
}

fn unreadable(detail: &str) -> ApiError {
    ApiError::Bind(crate::wire::bind::BindError::Unreadable {
        content_type: None,
        detail: format!("The upload could not be read: {detail}"),
    })
}

/// Multipart (by its boundary) or raw (named by `Content-Disposition`, if it says).
fn framing(headers: &HeaderMap) -> Result<(Framing, Option<String>), ApiError> {
    let content_type = header(headers, CONTENT_TYPE).unwrap_or_default();
    if disposition::parse(content_type).0 == "multipart/form-data" {
        let boundary = multipart::boundary(content_type)
            .ok_or_else(|| unreadable(&multipart::MultipartError::NoBoundary.to_string()))?;
        return Ok((
            Framing::Multipart(Box::new(Multipart::new(&boundary))),
            None,
        ));
    }
    let name = header(headers, CONTENT_DISPOSITION)
        .map(disposition::parse)
        .and_then(|(_, params)| disposition::file_name(&params));
    Ok((Framing::Raw, name))
}

/// The staff download: the whole file, streamed (see [`stream`]).
async fn download(
    state: Vault<'_>,
    caller: &StaffCaller,
    matched: &Matched,
) -> Result<Answer, ApiError> {
    let id = matched
        .vars
        .iter()
        .find(|(k, _)| k == "AttachmentId")
        .and_then(|(_, v)| Uuid::try_parse(v).ok())
        .ok_or_else(not_found)?;
    let query = AttachmentOf {
        tenant: caller.tenant_id,
        id,
    };
    let record = state.store.fetch(query).await?.ok_or_else(not_found)?;
    let chunks = stream(state.store, state.keys, &record, Span::whole(record.size)).await?;
    Ok(Answer::File {
        status: hyper::StatusCode::OK,
        headers: file_headers(&record),
        chunks,
    })
}

/// Streams `span` of a stored file: opens the header and the span's first chunk before
/// answering (so a damaged start is a clean error status), then the rest chunk by chunk,
/// never the whole file in memory; a chunk that fails to open aborts the transfer — nothing
/// after it is sent, and the declared length is never reached. The staff download and a
/// share's download both stream through here.
pub(super) async fn stream(
    store: &Store,
    keys: &crate::domain::token::HashKeys,
    record: &AttachmentRecord,
    span: Span,
) -> Result<mpsc::Receiver<io::Result<Bytes>>, ApiError> {
    let id = record.id;
    let damaged = |what: String| {
        tracing::error!(attachment = %id.simple(), problem = %what, "attachment does not open");
        ApiError::Internal(format!("attachment {} does not open: {what}", id.simple()))
    };
    let wrap = keys.attachment_wrap();
    let header_bytes = store
        .sealed_piece(id, 0)
        .await?
        .ok_or_else(|| damaged("its bytes are missing".into()))?;
    let mut opener =
        Opener::new(&wrap, id.into_bytes(), &header_bytes).map_err(|e| damaged(e.to_string()))?;
    let count = chunk_count(record.size);
    let (first_n, last_n) = span.chunks();
    opener.seek(first_n);
    let first = next_chunk(store, &mut opener, id, first_n, count)
        .await
        .map_err(|e| damaged(e.to_string()))?;
    let (tx, chunks) = mpsc::channel(2);
    let store = store.clone();
    tokio::spawn(async move {
        if tx.send(Ok(cut(first, span, first_n))).await.is_err() {
            return;
        }
        for n in first_n + 1..=last_n {
            let chunk = next_chunk(&store, &mut opener, id, n, count).await;
            let failed = chunk.is_err();
            if let Err(e) = &chunk {
                tracing::error!(attachment = %id.simple(), error = %e, "attachment chunk does not open");
            }
            if tx.send(chunk.map(|c| cut(c, span, n))).await.is_err() || failed {
                return;
            }
        }
    });
    Ok(chunks)
}

/// The bytes of opened chunk `n` that lie in `span`.
fn cut(chunk: Vec<u8>, span: Span, n: u64) -> Bytes {
    let (lo, hi) = span.within_chunk(n);
    let mut bytes = Bytes::from(chunk);
    let hi = hi.min(bytes.len());
    bytes.truncate(hi);
    bytes.split_off(lo.min(hi))
}

async fn next_chunk(
    store: &Store,
    opener: &mut Opener,
    id: Uuid,
    n: u64,
    count: u64,
) -> io::Result<Vec<u8>> {
    let sealed = store
        .sealed_piece(id, n + 1)
        .await
        .map_err(io::Error::other)?
        .ok_or_else(|| io::Error::other(format!("chunk {n} is missing")))?;
    opener
        .open(&sealed, n + 1 == count)
        .map_err(io::Error::other)
}

/// Always a download: `Content-Disposition: attachment` with the stored name, the sniffed
/// type (`application/octet-stream` for active content), the exact length, no caching, no
/// sniffing, and a sandbox should a browser render it anyway.
pub(super) fn file_headers(r: &AttachmentRecord) -> HeaderMap {
    let mut h = HeaderMap::new();
    let content_type = if r.download_only {
        "application/octet-stream"
    } else {
        r.content_type.as_str()
    };
    let fixed = [
        ("cache-control", "no-store"),
        ("x-content-type-options", "nosniff"),
        ("content-security-policy", "sandbox; default-src 'none'"),
    ];
    for (k, v) in fixed {
        h.insert(k, HeaderValue::from_static(v));
    }
    if let Ok(v) = HeaderValue::from_str(content_type) {
        h.insert(CONTENT_TYPE, v);
    }
    h.insert(CONTENT_LENGTH, HeaderValue::from(r.size));
    if let Ok(v) = HeaderValue::from_str(&content_disposition(&r.name)) {
        h.insert(CONTENT_DISPOSITION, v);
    }
    h
}

/// `attachment; filename="<ASCII fallback>"; filename*=UTF-8''<percent-encoded>`.
fn content_disposition(name: &str) -> String {
    let ascii: String = name
        .chars()
        .map(|c| {
            if c.is_ascii_graphic() && c != '"' && c != '\\' || c == ' ' {
                c
            } else {
                '_'
            }
        })
        .collect();
    let encoded =
        percent_encoding::utf8_percent_encode(name, percent_encoding::NON_ALPHANUMERIC).to_string();
    format!("attachment; filename=\"{ascii}\"; filename*=UTF-8''{encoded}")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn download_names_are_quoted_safely() {
        assert_eq!(
            content_disposition("a \"b\".pdf"),
            "attachment; filename=\"a _b_.pdf\"; filename*=UTF-8''a%20%22b%22%2Epdf"
        );
        assert!(
            content_disposition("été\r\n.txt").starts_with("attachment; filename=\"_t___.txt\"")
        );
    }
}
