//! An incremental `multipart/form-data` reader for uploads: bytes go in as they arrive, the
//! content of the part named `file` comes out, and nothing is held but a part's headers and a
//! boundary's length of look-behind — a 25 MiB upload never sits in memory whole. Other parts
//! are skipped; a second `file` part, headers over 8 KiB or a body ending before the closing
//! boundary are errors.

use super::disposition;

/// Headers of one part may not exceed this.
const MAX_HEADERS: usize = 8 * 1024;

/// Why a multipart body was refused.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum MultipartError {
    #[error("the multipart body has no boundary parameter")]
    NoBoundary,
    #[error("a multipart part's headers are malformed or too long")]
    Headers,
    #[error("the multipart body has more than one part named \"file\"")]
    TwoFiles,
    #[error("the multipart body has no part named \"file\"")]
    NoFile,
    #[error("the multipart body ends before its closing boundary")]
    Truncated,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum State {
    /// Before the first boundary.
    Preamble,
    /// Just after a boundary: `--` ends the body, else the line ends and headers follow.
    AfterBoundary,
    Headers,
    /// In a part's content; `true` for the file part.
    Body(bool),
    Done,
}

/// The reader; see the module docs.
pub struct Multipart {
    /// `\r\n--` and the boundary.
    delimiter: Vec<u8>,
    buf: Vec<u8>,
    state: State,
    file: Option<Option<String>>,
    /// Bytes at the front of `buf` that belong to the header block, not the content (the
    /// line break kept so an empty part's delimiter is found).
    lead: usize,
}

/// The boundary parameter of a `multipart/form-data` content type; `None` for any other type.
pub fn boundary(content_type: &str) -> Option<String> {
    let (kind, params) = disposition::parse(content_type);
    if kind != "multipart/form-data" {
        return None;
    }
    params
        .into_iter()
        .find(|(k, _)| k == "boundary")
        .map(|(_, v)| v)
        .filter(|b| (1..=70).contains(&b.len()))
}

impl Multipart {
    pub fn new(boundary: &str) -> Self {
        let mut delimiter = b"\r\n--".to_vec();
        delimiter.extend_from_slice(boundary.as_bytes());
        Multipart {
            delimiter,
            // The first boundary may open the body without a line break before it.
            buf: b"\r\n".to_vec(),
            state: State::Preamble,
            file: None,
            lead: 0,
        }
    }

    /// Takes the next bytes of the body; appends what belongs to the file part to `out`.
    pub fn push(&mut self, data: &[u8], out: &mut Vec<u8>) -> Result<(), MultipartError> {
        self.buf.extend_from_slice(data);
        loop {
            let progressed = match self.state {
                State::Preamble => self.skip_to_boundary(false, out),
                State::Body(keep) => self.skip_to_boundary(keep, out),
                State::AfterBoundary => self.after_boundary(),
                State::Headers => self.headers()?,
                State::Done => {
                    self.buf.clear();
                    false
                }
            };
            if !progressed {
                return Ok(());
            }
        }
    }

    /// Ends the body: answers the file part's name (`None` if it had none).
    pub fn finish(self) -> Result<Option<String>, MultipartError> {
        if self.state != State::Done {
            return Err(MultipartError::Truncated);
        }
        self.file.ok_or(MultipartError::NoFile)
    }

    fn skip_to_boundary(&mut self, keep: bool, out: &mut Vec<u8>) -> bool {
        let d = self.delimiter.len();
        match self.buf.windows(d).position(|w| w == &self.delimiter[..]) {
            Some(at) => {
                self.emit(keep, at, out);
                self.buf.drain(..d);
                self.state = State::AfterBoundary;
                true
            }
            None => {
                let safe = self.buf.len().saturating_sub(d - 1);
                self.emit(keep, safe, out);
                false
            }
        }
    }

    /// Moves the first `n` bytes of `buf` out (to `out` for the file part), the lead excepted.
    fn emit(&mut self, keep: bool, n: usize, out: &mut Vec<u8>) {
        let skip = self.lead.min(n);
        self.lead -= skip;
        if keep {
            out.extend_from_slice(&self.buf[skip..n]);
        }
        self.buf.drain(..n);
    }

    fn after_boundary(&mut self) -> bool {
        if self.buf.len() < 2 {
            return false;
        }
        if self.buf.starts_with(b"--") {
            self.state = State::Done;
            return true;
        }
        // Transport padding (spaces, tabs) may follow a boundary before its line break.
        match self.buf.iter().position(|&b| b == b'\n') {
            Some(at) => {
                self.buf.drain(..=at);
                self.state = State::Headers;
                true
            }
            None => false,
        }
    }

    fn headers(&mut self) -> Result<bool, MultipartError> {
        let Some(end) = self.buf.windows(4).position(|w| w == b"\r\n\r\n") else {
            // Only once no terminator can start within the limit, so the answer does not
            // depend on how the body was cut into pieces.
            if self.buf.len() >= MAX_HEADERS + 4 {
                return Err(MultipartError::Headers);
            }
            return Ok(false);
        };
        if end > MAX_HEADERS {
            return Err(MultipartError::Headers);
        }
        let head = std::str::from_utf8(&self.buf[..end]).map_err(|_| MultipartError::Headers)?;
        let mut is_file = false;
        let mut name = None;
        for line in head.split("\r\n") {
            let Some((k, v)) = line.split_once(':') else {
                continue;
            };
            if k.trim().eq_ignore_ascii_case("content-disposition") {
                let (kind, params) = disposition::parse(v);
                is_file =
                    kind == "form-data" && params.iter().any(|(k, v)| k == "name" && v == "file");
                name = disposition::file_name(&params);
            }
        }
        if is_file {
            if self.file.is_some() {
                return Err(MultipartError::TwoFiles);
            }
            self.file = Some(name);
        }
        // Keep the header block's last line break: an empty part's content is followed at
        // once by `\r\n--boundary`, whose line break is the one ending the headers.
        self.buf.drain(..end + 2);
        self.lead = 2;
        self.state = State::Body(is_file);
        Ok(true)
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;

    fn body(boundary: &str, file: &[u8]) -> Vec<u8> {
        let mut b = format!(
            "preamble\r\n--{boundary}\r\nContent-Disposition: form-data; name=\"note\"\r\n\r\nhello\r\n\
             --{boundary}\r\nContent-Disposition: form-data; name=\"file\"; filename=\"r.pdf\"\r\n\
             Content-Type: application/pdf\r\n\r\n"
        )
        .into_bytes();
        b.extend_from_slice(file);
        b.extend_from_slice(format!("\r\n--{boundary}--\r\nepilogue").as_bytes());
        b
    }

    fn run(
        boundary: &str,
        body: &[u8],
        step: usize,
    ) -> Result<(Option<String>, Vec<u8>), MultipartError> {
        let mut m = Multipart::new(boundary);
        let mut out = Vec::new();
        for piece in body.chunks(step) {
            m.push(piece, &mut out)?;
        }
        Ok((m.finish()?, out))
    }

    #[test]
    fn the_file_part_comes_out_whatever_the_piece_sizes() {
        // Content that nearly contains the delimiter.
        let file = b"%PDF-1.7\r\n--bound\r\n--boundar x\r\n-".repeat(50);
        let b = body("boundary", &file);
        for step in [1, 2, 3, 7, 64, 1000, b.len()] {
            let (name, out) = run("boundary", &b, step).unwrap();
            assert_eq!(name.as_deref(), Some("r.pdf"));
            assert_eq!(out, file, "step {step}");
        }
        let (_, out) = run("b", &body("b", b""), 1).unwrap();
        assert!(out.is_empty());
    }

    #[test]
    fn boundaries_and_refusals() {
        assert_eq!(
            boundary("multipart/form-data; boundary=\"abc def\"").as_deref(),
            Some("abc def")
        );
        assert_eq!(
            boundary("multipart/form-data; boundary=x1").as_deref(),
            Some("x1")
        );
        assert_eq!(boundary("application/json; boundary=x"), None);
        assert_eq!(boundary("multipart/form-data"), None);
        let full = body("b", b"data");
        assert_eq!(
            run("b", &full[..full.len() - 15], 5),
            Err(MultipartError::Truncated)
        );
        let no_file = b"--b\r\nContent-Disposition: form-data; name=\"x\"\r\n\r\n1\r\n--b--";
        assert_eq!(run("b", no_file, 3), Err(MultipartError::NoFile));
        let mut two = body("b", b"1");
        two.truncate(two.len() - "--\r\nepilogue".len());
        two.extend_from_slice(
            b"\r\nContent-Disposition: form-data; name=\"file\"\r\n\r\n2\r\n--b--",
        );
        assert_eq!(run("b", &two, 4), Err(MultipartError::TwoFiles));
        let huge = [b"--b\r\nX: ".to_vec(), vec![b'a'; MAX_HEADERS + 10]].concat();
        assert_eq!(run("b", &huge, 100), Err(MultipartError::Headers));
        // Headers just within the limit are read however the body is cut.
        let name = "n".repeat(MAX_HEADERS - 56); // the header block ends at MAX_HEADERS
        let edge = format!(
            "--b\r\nContent-Disposition: form-data; name=\"file\"; filename=\"{name}\"\r\n\r\nx\r\n--b--"
        );
        let whole = run("b", edge.as_bytes(), edge.len());
        assert!(whole.is_ok(), "{whole:?}");
        assert_eq!(run("b", edge.as_bytes(), 1), whole);
    }
}
