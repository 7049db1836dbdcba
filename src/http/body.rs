//! Response bodies: a whole buffer (every API reply) or a stream of chunks from a channel
//! (the backup). Either way the body keeps the connection's [`Busy`] marker until it is
//! dropped, so the idle timeout never cuts a response that is still being written.

use std::io;
use std::pin::Pin;
use std::task::{Context, Poll};

use bytes::Bytes;
use hyper::body::{Body, Frame, SizeHint};
use tokio::sync::mpsc;

use super::io::Busy;

/// A response body.
pub struct ResponseBody {
    kind: Kind,
    _busy: Option<Busy>,
}

enum Kind {
    Full(Option<Bytes>),
    /// Chunks until the sender is dropped; an `Err` aborts the response (the client sees a
    /// broken transfer, not a short success).
    Stream(mpsc::Receiver<io::Result<Bytes>>),
}

impl ResponseBody {
    pub fn full(bytes: Bytes) -> Self {
        ResponseBody {
            kind: Kind::Full(Some(bytes)),
            _busy: None,
        }
    }

    pub fn stream(chunks: mpsc::Receiver<io::Result<Bytes>>) -> Self {
        ResponseBody {
            kind: Kind::Stream(chunks),
            _busy: None,
        }
    }

    /// Ties the connection's in-flight marker to this body's lifetime.
    pub fn holding(mut self, busy: Busy) -> Self {
        self._busy = Some(busy);
        self
    }
}

impl Body for ResponseBody {
    type Data = Bytes;
    type Error = io::Error;

    fn poll_frame(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
    ) -> Poll<Option<Result<Frame<Bytes>, io::Error>>> {
        match &mut self.get_mut().kind {
            Kind::Full(bytes) => Poll::Ready(
                bytes
                    .take()
                    .filter(|b| !b.is_empty())
                    .map(|b| Ok(Frame::data(b))),
            ),
            Kind::Stream(rx) => rx
                .poll_recv(cx)
                .map(|chunk| chunk.map(|r| r.map(Frame::data))),
        }
    }

    fn is_end_stream(&self) -> bool {
        matches!(&self.kind, Kind::Full(b) if b.as_ref().is_none_or(Bytes::is_empty))
    }

    fn size_hint(&self) -> SizeHint {
        match &self.kind {
            Kind::Full(b) => SizeHint::with_exact(b.as_ref().map_or(0, |b| b.len() as u64)),
            Kind::Stream(_) => SizeHint::default(),
        }
    }
}
