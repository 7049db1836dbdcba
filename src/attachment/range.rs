//! HTTP byte ranges of a stored file (RFC 9110 §14): one `Range: bytes=…` span, answered
//! with 206 and `Content-Range`, or refused as unsatisfiable (416). Several spans in one
//! header are not served as a multipart reply: the whole file is sent instead, as the RFC
//! allows a server to ignore `Range`.

use super::seal::CHUNK;

/// The bytes `start..end` (end exclusive) of a file.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Span {
    pub start: u64,
    pub end: u64,
}

impl Span {
    /// The whole file of `size` bytes.
    pub fn whole(size: u64) -> Span {
        Span {
            start: 0,
            end: size,
        }
    }

    pub fn len(self) -> u64 {
        self.end - self.start
    }

    pub fn is_empty(self) -> bool {
        self.start == self.end
    }

    /// The chunks the span touches, first and last (a file always has chunk 0).
    pub fn chunks(self) -> (u64, u64) {
        let chunk = CHUNK as u64;
        let first = self.start / chunk;
        let last = self.end.saturating_sub(1) / chunk;
        (first, last.max(first))
    }

    /// The part of chunk `n` (its plain bytes) that lies in the span.
    pub fn within_chunk(self, n: u64) -> (usize, usize) {
        let base = n * CHUNK as u64;
        let lo = self.start.saturating_sub(base).min(CHUNK as u64);
        let hi = self.end.saturating_sub(base).min(CHUNK as u64);
        (lo as usize, hi as usize)
    }

    /// `bytes a-b/size`, the value of `Content-Range` for a served span.
    pub fn content_range(self, size: u64) -> String {
        format!("bytes {}-{}/{size}", self.start, self.end.saturating_sub(1))
    }
}

/// What a `Range` header asks of a file of `size` bytes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Ask {
    /// No header, another unit, several spans or a malformed value: the whole file (200).
    Whole,
    /// One satisfiable span (206).
    Part(Span),
    /// A well-formed span that misses the file (416).
    Unsatisfiable,
}

/// Reads a `Range` header value for a file of `size` bytes.
pub fn ask(header: Option<&str>, size: u64) -> Ask {
    let Some(spec) = header.and_then(|h| h.trim().strip_prefix("bytes=")) else {
        return Ask::Whole;
    };
    if spec.contains(',') {
        return Ask::Whole;
    }
    let Some((first, last)) = spec.trim().split_once('-') else {
        return Ask::Whole;
    };
    let number = |s: &str| -> Option<Option<u64>> {
        let s = s.trim();
        if s.is_empty() {
            return Some(None);
        }
        s.bytes()
            .all(|b| b.is_ascii_digit())
            .then(|| s.parse().ok())
            .flatten()
            .map(Some)
    };
    let (Some(first), Some(last)) = (number(first), number(last)) else {
        return Ask::Whole;
    };
    let span = match (first, last) {
        (Some(a), Some(b)) if b < a => return Ask::Whole,
        (Some(a), b) => Span {
            start: a,
            end: b.map_or(size, |b| b.saturating_add(1).min(size)),
        },
        (None, Some(n)) => Span {
            start: size.saturating_sub(n),
            end: size,
        },
        (None, None) => return Ask::Whole,
    };
    if span.start >= size || (first.is_none() && last == Some(0)) {
        return Ask::Unsatisfiable;
    }
    Ask::Part(span)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn part(start: u64, end: u64) -> Ask {
        Ask::Part(Span { start, end })
    }

    #[test]
    fn single_spans_are_read_as_the_rfc_says() {
        assert_eq!(ask(None, 10), Ask::Whole);
        assert_eq!(ask(Some("bytes=0-4"), 10), part(0, 5));
        assert_eq!(ask(Some("bytes=5-"), 10), part(5, 10));
        assert_eq!(ask(Some("bytes=-3"), 10), part(7, 10));
        assert_eq!(ask(Some("bytes=-30"), 10), part(0, 10));
        assert_eq!(ask(Some("bytes=8-100"), 10), part(8, 10));
        assert_eq!(ask(Some("bytes=10-"), 10), Ask::Unsatisfiable);
        assert_eq!(ask(Some("bytes=-0"), 10), Ask::Unsatisfiable);
        assert_eq!(ask(Some("bytes=0-0"), 0), Ask::Unsatisfiable);
        assert_eq!(ask(Some("bytes=4-2"), 10), Ask::Whole);
        assert_eq!(ask(Some("bytes=0-1,4-5"), 10), Ask::Whole);
        assert_eq!(ask(Some("items=0-1"), 10), Ask::Whole);
        assert_eq!(ask(Some("bytes=+1-2"), 10), Ask::Whole);
        assert_eq!(ask(Some("bytes=99999999999999999999-"), 10), Ask::Whole);
    }

    #[test]
    fn a_span_maps_onto_the_chunks_it_touches() {
        let c = CHUNK as u64;
        let span = Span {
            start: c - 2,
            end: c + 3,
        };
        assert_eq!(span.chunks(), (0, 1));
        assert_eq!(span.within_chunk(0), (CHUNK - 2, CHUNK));
        assert_eq!(span.within_chunk(1), (0, 3));
        assert_eq!(Span::whole(0).chunks(), (0, 0));
        assert_eq!(Span::whole(0).within_chunk(0), (0, 0));
        assert_eq!(
            span.content_range(c * 2),
            format!("bytes {}-{}/{}", c - 2, c + 2, c * 2)
        );
    }
}
