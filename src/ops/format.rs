//! The backup file's framing (`docs/storage.md`, "Backup format"): a magic line and version,
//! then frames `tag u8 | length u32 LE | payload`, ending with a frame holding the BLAKE3 hash
//! of every byte before it. The reader verifies that hash, so a truncated or damaged file is
//! refused, never half-restored. Version 2 added the sealed attachment files (frames of
//! `attachment id | sealed bytes`, in order); version 1 files are still read.

use std::io::{self, Read, Write};

use serde::{Deserialize, Serialize};

use super::OpsError;

/// First bytes of every backup.
pub const MAGIC: &[u8; 20] = b"customerlink-backup\n";
/// Version of this layout.
pub const FORMAT_VERSION: u32 = 2;
/// The oldest version this build still reads (it has no attachment frames).
const OLDEST_READ: u32 = 1;

const TAG_HEADER: u8 = 1;
const TAG_SECRET: u8 = 2;
const TAG_FILE: u8 = 3;
const TAG_TABLE: u8 = 4;
const TAG_ENTRY: u8 = 5;
const TAG_END: u8 = 6;
const TAG_SEALED: u8 = 7;

/// Sealed bytes per attachment frame: a file is split so no frame is held whole in memory.
pub const SEALED_PIECE: usize = 1 << 20;

/// What a backup says about itself (MessagePack with named fields).
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Header {
    pub format: u32,
    pub schema_version: u64,
    pub created_at_ms: i64,
    /// Every table with its entry count, in file order.
    pub tables: Vec<(String, u64)>,
    pub producer: String,
    /// Attachments whose sealed files follow the tables (0 in version 1 files).
    #[serde(default)]
    pub attachments: u64,
}

/// One frame as read.
#[derive(Debug)]
pub enum Frame {
    Header(Header),
    Secret([u8; 32]),
    File {
        name: String,
        contents: Vec<u8>,
    },
    Table(String),
    Entry {
        key: Vec<u8>,
        value: Vec<u8>,
    },
    /// The next piece of an attachment's sealed file (pieces of one file are consecutive).
    Sealed {
        id: [u8; 16],
        bytes: Vec<u8>,
    },
    /// The hash matched; nothing follows.
    End,
}

/// Writes frames, hashing as it goes.
pub struct Writer<W: Write> {
    out: W,
    hasher: blake3::Hasher,
    pub bytes: u64,
}

impl<W: Write> Writer<W> {
    pub fn new(out: W) -> io::Result<Self> {
        let mut w = Writer {
            out,
            hasher: blake3::Hasher::new(),
            bytes: 0,
        };
        w.raw(MAGIC)?;
        w.raw(&FORMAT_VERSION.to_le_bytes())?;
        Ok(w)
    }

    fn raw(&mut self, bytes: &[u8]) -> io::Result<()> {
        self.hasher.update(bytes);
        self.bytes += bytes.len() as u64;
        self.out.write_all(bytes)
    }

    fn frame(&mut self, tag: u8, parts: &[&[u8]]) -> io::Result<()> {
        let len: usize = parts.iter().map(|p| p.len()).sum();
        let len = u32::try_from(len).map_err(|_| io::Error::other("a record is over 4 GiB"))?;
        self.raw(&[tag])?;
        self.raw(&len.to_le_bytes())?;
        for p in parts {
            self.raw(p)?;
        }
        Ok(())
    }

    pub fn header(&mut self, h: &Header) -> io::Result<()> {
        let bytes = rmp_serde::to_vec_named(h).map_err(io::Error::other)?;
        self.frame(TAG_HEADER, &[&bytes])
    }

    pub fn secret(&mut self, secret: &[u8; 32]) -> io::Result<()> {
        self.frame(TAG_SECRET, &[secret])
    }

    pub fn file(&mut self, name: &str, contents: &[u8]) -> io::Result<()> {
        let len = u16::try_from(name.len()).map_err(|_| io::Error::other("file name too long"))?;
        self.frame(TAG_FILE, &[&len.to_le_bytes(), name.as_bytes(), contents])
    }

    pub fn table(&mut self, name: &str) -> io::Result<()> {
        self.frame(TAG_TABLE, &[name.as_bytes()])
    }

    pub fn entry(&mut self, key: &[u8], value: &[u8]) -> io::Result<()> {
        let len = u32::try_from(key.len()).map_err(|_| io::Error::other("key too long"))?;
        self.frame(TAG_ENTRY, &[&len.to_le_bytes(), key, value])
    }

    /// A piece of attachment `id`'s sealed file, at most [`SEALED_PIECE`] bytes.
    pub fn sealed(&mut self, id: &[u8; 16], bytes: &[u8]) -> io::Result<()> {
        self.frame(TAG_SEALED, &[id, bytes])
    }

    /// Writes the hash frame and flushes; returns the sink.
    pub fn finish(mut self) -> io::Result<W> {
        let hash = *self.hasher.finalize().as_bytes();
        self.frame(TAG_END, &[&hash])?;
        self.out.flush()?;
        Ok(self.out)
    }
}

/// Reads frames, checking the hash at the end.
pub struct Reader<R: Read> {
    input: R,
    hasher: blake3::Hasher,
    done: bool,
}

fn bad(what: impl Into<String>) -> OpsError {
    OpsError::Format(what.into())
}

impl<R: Read> Reader<R> {
    pub fn new(mut input: R) -> Result<Self, OpsError> {
        let mut head = [0u8; 24];
        input.read_exact(&mut head).map_err(|_| bad("too short"))?;
        if &head[..20] != MAGIC {
            return Err(bad("no customerlink backup header"));
        }
        let version = u32::from_le_bytes([head[20], head[21], head[22], head[23]]);
        if !(OLDEST_READ..=FORMAT_VERSION).contains(&version) {
            return Err(bad(format!(
                "format version {version}; this build reads {FORMAT_VERSION}"
            )));
        }
        let mut hasher = blake3::Hasher::new();
        hasher.update(&head);
        Ok(Reader {
            input,
            hasher,
            done: false,
        })
    }

    fn exact(&mut self, n: usize) -> Result<Vec<u8>, OpsError> {
        let mut buf = vec![0u8; n];
        self.input
            .read_exact(&mut buf)
            .map_err(|_| bad("truncated"))?;
        Ok(buf)
    }

    /// The next frame; `Frame::End` only after the hash was verified.
    pub fn next_frame(&mut self) -> Result<Frame, OpsError> {
        if self.done {
            return Err(bad("read past the end"));
        }
        let head = self.exact(5)?;
        let (tag, len) = (
            head[0],
            u32::from_le_bytes([head[1], head[2], head[3], head[4]]) as usize,
        );
        if tag == TAG_END {
            let expected = *self.hasher.finalize().as_bytes();
            let found = self.exact(len)?;
            if len != 32 || found[..] != expected[..] {
                return Err(bad("checksum mismatch (damaged or truncated)"));
            }
            self.done = true;
            return Ok(Frame::End);
        }
        let payload = self.exact(len)?;
        self.hasher.update(&head);
        self.hasher.update(&payload);
        parse(tag, payload)
    }
}

fn parse(tag: u8, p: Vec<u8>) -> Result<Frame, OpsError> {
    Ok(match tag {
        TAG_HEADER => {
            Frame::Header(rmp_serde::from_slice(&p).map_err(|e| bad(format!("header: {e}")))?)
        }
        TAG_SECRET => Frame::Secret(p.try_into().map_err(|_| bad("secret is not 32 bytes"))?),
        TAG_FILE => {
            let n = p
                .get(..2)
                .map(|b| u16::from_le_bytes([b[0], b[1]]) as usize)
                .ok_or_else(|| bad("file frame"))?;
            let name = p
                .get(2..2 + n)
                .and_then(|b| std::str::from_utf8(b).ok())
                .ok_or_else(|| bad("file name"))?;
            Frame::File {
                name: name.to_owned(),
                contents: p[2 + n..].to_vec(),
            }
        }
        TAG_TABLE => Frame::Table(String::from_utf8(p).map_err(|_| bad("table name"))?),
        TAG_ENTRY => {
            let n = p
                .get(..4)
                .map(|b| u32::from_le_bytes([b[0], b[1], b[2], b[3]]) as usize)
                .ok_or_else(|| bad("entry"))?;
            let key = p
                .get(4..4usize.saturating_add(n))
                .ok_or_else(|| bad("entry key"))?
                .to_vec();
            Frame::Entry {
                value: p[4 + n..].to_vec(),
                key,
            }
        }
        TAG_SEALED => Frame::Sealed {
            id: p
                .get(..16)
                .and_then(|b| b.try_into().ok())
                .ok_or_else(|| bad("attachment frame"))?,
            bytes: p[16..].to_vec(),
        },
        other => return Err(bad(format!("unknown frame {other}"))),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn sample() -> Vec<u8> {
        let mut w = Writer::new(Vec::new()).unwrap_or_else(|e| panic!("{e}"));
        let h = Header {
            format: 1,
            schema_version: 1,
            created_at_ms: 5,
            tables: vec![("t".into(), 1)],
            producer: "test".into(),
            attachments: 1,
        };
        w.header(&h)
            .and_then(|()| w.secret(&[9; 32]))
            .and_then(|()| w.file("policy.toml", b"x=1"))
            .unwrap_or_else(|e| panic!("{e}"));
        w.table("t")
            .and_then(|()| w.entry(b"k", b"value"))
            .and_then(|()| w.sealed(&[3; 16], b"sealed"))
            .unwrap_or_else(|e| panic!("{e}"));
        w.finish().unwrap_or_else(|e| panic!("{e}"))
    }

    fn read_all(bytes: &[u8]) -> Result<Vec<Frame>, OpsError> {
        let mut r = Reader::new(bytes)?;
        let mut frames = Vec::new();
        loop {
            match r.next_frame()? {
                Frame::End => return Ok(frames),
                f => frames.push(f),
            }
        }
    }

    #[test]
    fn frames_round_trip_and_end_with_a_verified_hash() {
        let frames = read_all(&sample()).unwrap_or_else(|e| panic!("{e}"));
        assert!(matches!(&frames[1], Frame::Secret(s) if s == &[9; 32]));
        assert!(
            matches!(&frames[2], Frame::File { name, contents } if name == "policy.toml" && contents == b"x=1")
        );
        assert!(
            matches!(&frames[4], Frame::Entry { key, value } if key == b"k" && value == b"value")
        );
        assert!(
            matches!(&frames[5], Frame::Sealed { id, bytes } if id == &[3; 16] && bytes == b"sealed")
        );
    }

    #[test]
    fn a_version_1_file_is_still_read() {
        let mut bytes = MAGIC.to_vec();
        bytes.extend_from_slice(&1u32.to_le_bytes());
        let hash = *blake3::hash(&bytes).as_bytes();
        bytes.push(TAG_END);
        bytes.extend_from_slice(&32u32.to_le_bytes());
        bytes.extend_from_slice(&hash);
        assert!(matches!(read_all(&bytes).as_deref(), Ok([])));
        #[derive(Serialize)]
        struct V1<'a> {
            format: u32,
            schema_version: u64,
            created_at_ms: i64,
            tables: &'a [(String, u64)],
            producer: &'a str,
        }
        let v1 = V1 {
            format: 1,
            schema_version: 1,
            created_at_ms: 5,
            tables: &[],
            producer: "old",
        };
        let packed = rmp_serde::to_vec_named(&v1).unwrap_or_else(|e| panic!("{e}"));
        let read: Header = rmp_serde::from_slice(&packed).unwrap_or_else(|e| panic!("{e}"));
        assert_eq!(read.attachments, 0, "no attachments in a v1 header");
    }

    #[test]
    fn damage_and_truncation_are_refused() {
        let good = sample();
        for cut in [good.len() - 1, good.len() - 40, 30] {
            assert!(read_all(&good[..cut]).is_err(), "truncated at {cut}");
        }
        let mut flipped = good.clone();
        let i = flipped.len() - 45;
        flipped[i] ^= 1;
        assert!(read_all(&flipped).is_err());
        assert!(read_all(b"customerlink-backup\n\x03\0\0\0").is_err());
    }
}
