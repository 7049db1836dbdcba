//! The sealed attachment format. A file is a header and a run of chunks:
//!
//! - header (65 bytes): `b"CLA1"`, one version byte (1), then the file's own random 32-byte
//!   key sealed with the attachment wrap key (derived from the master secret): a random
//!   12-byte nonce and the 48 sealed bytes (key and tag), the attachment id as associated data;
//! - chunks: every 64 KiB of plaintext sealed on its own (ChaCha20-Poly1305, tag appended),
//!   the nonce built from the chunk index and a final-chunk flag, the attachment id as
//!   associated data. Every chunk but the last holds exactly [`CHUNK`] bytes; the last holds
//!   0..=[`CHUNK`] and is sealed with the flag set, so dropping, reordering or truncating
//!   chunks, or moving a file to another id, fails to open.
//!
//! A file key seals one file only, so nonces from the chunk index never repeat under a key.

use ring::aead::{Aad, CHACHA20_POLY1305, LessSafeKey, Nonce, UnboundKey};
use ring::digest;

/// Plaintext bytes per chunk.
pub const CHUNK: usize = 64 * 1024;
/// The AEAD tag each sealed chunk carries.
pub const TAG: usize = 16;
/// A full chunk as stored.
pub const SEALED_CHUNK: usize = CHUNK + TAG;
/// The header's length.
pub const HEADER: usize = 4 + 1 + 12 + 32 + TAG;
const MAGIC: &[u8; 5] = b"CLA1\x01";

/// Why a sealed file does not open. Carries no plaintext and no key.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum SealError {
    #[error("the attachment header is malformed or was sealed under another key or id")]
    Header,
    #[error("attachment chunk {0} failed authentication (altered, truncated or misplaced)")]
    Chunk(u64),
    #[error("no randomness for a file key")]
    Random,
}

/// The key that wraps every file key (derived from the master secret:
/// [`crate::domain::token::HashKeys::attachment_wrap`]).
pub struct WrapKey([u8; 32]);

impl WrapKey {
    pub fn new(bytes: &[u8; 32]) -> Self {
        WrapKey(*bytes)
    }
}

impl std::fmt::Debug for WrapKey {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("WrapKey([redacted])")
    }
}

/// A ChaCha20-Poly1305 key (a 32-byte key is always accepted; the error is for form's sake).
fn aead_key(bytes: &[u8; 32], err: SealError) -> Result<LessSafeKey, SealError> {
    UnboundKey::new(&CHACHA20_POLY1305, bytes)
        .map(LessSafeKey::new)
        .map_err(|_| err)
}

fn chunk_nonce(n: u64, last: bool) -> Nonce {
    let mut nonce = [0u8; 12];
    nonce[0] = u8::from(last);
    nonce[4..].copy_from_slice(&n.to_be_bytes());
    Nonce::assume_unique_for_key(nonce)
}

/// Seals a file as it arrives: [`Sealer::push`] hands back full sealed chunks to write,
/// [`Sealer::finish`] the last one, the size and the SHA-256 of the plaintext.
pub struct Sealer {
    key: LessSafeKey,
    id: [u8; 16],
    n: u64,
    pending: Vec<u8>,
    sha: digest::Context,
    size: u64,
}

/// What a finished upload is: its size and the SHA-256 of its plaintext.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Sealed {
    pub size: u64,
    pub sha256: [u8; 32],
}

impl Sealer {
    /// A sealer with a fresh random file key, and the header that must precede its chunks.
    pub fn new(wrap: &WrapKey, id: [u8; 16]) -> Result<(Sealer, Vec<u8>), SealError> {
        let mut file_key = [0u8; 32];
        let mut nonce = [0u8; 12];
        getrandom::fill(&mut file_key).map_err(|_| SealError::Random)?;
        getrandom::fill(&mut nonce).map_err(|_| SealError::Random)?;
        let mut wrapped = file_key.to_vec();
        aead_key(&wrap.0, SealError::Header)?
            .seal_in_place_append_tag(
                Nonce::assume_unique_for_key(nonce),
                Aad::from(&id),
                &mut wrapped,
            )
            .map_err(|_| SealError::Header)?;
        let mut header = Vec::with_capacity(HEADER);
        header.extend_from_slice(MAGIC);
        header.extend_from_slice(&nonce);
        header.extend_from_slice(&wrapped);
        let sealer = Sealer {
            key: aead_key(&file_key, SealError::Header)?,
            id,
            n: 0,
            pending: Vec::with_capacity(CHUNK + 1),
            sha: digest::Context::new(&digest::SHA256),
            size: 0,
        };
        Ok((sealer, header))
    }

    /// Takes more plaintext; answers the chunks now known not to be the last, sealed.
    pub fn push(&mut self, mut data: &[u8]) -> Result<Vec<Vec<u8>>, SealError> {
        self.sha.update(data);
        self.size += data.len() as u64;
        let mut out = Vec::new();
        while !data.is_empty() {
            let room = CHUNK + 1 - self.pending.len();
            let (now, rest) = data.split_at(room.min(data.len()));
            self.pending.extend_from_slice(now);
            data = rest;
            if self.pending.len() > CHUNK {
                let tail = self.pending.split_off(CHUNK);
                let full = std::mem::replace(&mut self.pending, tail);
                out.push(self.seal(full, false)?);
            }
        }
        Ok(out)
    }

    /// Seals the last chunk (possibly empty); answers it with the size and digest.
    pub fn finish(mut self) -> Result<(Vec<u8>, Sealed), SealError> {
        let rest = std::mem::take(&mut self.pending);
        let last = self.seal(rest, true)?;
        let mut sha256 = [0u8; 32];
        sha256.copy_from_slice(self.sha.finish().as_ref());
        Ok((
            last,
            Sealed {
                size: self.size,
                sha256,
            },
        ))
    }

    fn seal(&mut self, mut chunk: Vec<u8>, last: bool) -> Result<Vec<u8>, SealError> {
        let n = self.n;
        self.key
            .seal_in_place_append_tag(chunk_nonce(n, last), Aad::from(&self.id), &mut chunk)
            .map_err(|_| SealError::Chunk(n))?;
        self.n += 1;
        Ok(chunk)
    }
}

/// Opens a sealed file chunk by chunk, in order.
pub struct Opener {
    key: LessSafeKey,
    id: [u8; 16],
    n: u64,
}

impl Opener {
    /// Unwraps the file key from the header; fails for another id or master secret.
    pub fn new(wrap: &WrapKey, id: [u8; 16], header: &[u8]) -> Result<Opener, SealError> {
        let rest = header.strip_prefix(MAGIC).ok_or(SealError::Header)?;
        let (nonce, wrapped) = rest.split_first_chunk::<12>().ok_or(SealError::Header)?;
        if wrapped.len() != 32 + TAG {
            return Err(SealError::Header);
        }
        let mut buf = wrapped.to_vec();
        let key = aead_key(&wrap.0, SealError::Header)?
            .open_in_place(
                Nonce::assume_unique_for_key(*nonce),
                Aad::from(&id),
                &mut buf,
            )
            .map_err(|_| SealError::Header)?;
        let key: [u8; 32] = key.try_into().map_err(|_| SealError::Header)?;
        Ok(Opener {
            key: aead_key(&key, SealError::Header)?,
            id,
            n: 0,
        })
    }

    /// Goes to chunk `n`: the next [`Opener::open`] opens it (a range past the file's start).
    pub fn seek(&mut self, n: u64) {
        self.n = n;
    }

    /// Opens the next chunk; `last` says whether the store holds nothing after it.
    pub fn open(&mut self, sealed: &[u8], last: bool) -> Result<Vec<u8>, SealError> {
        let n = self.n;
        let fits = if last {
            (TAG..=SEALED_CHUNK).contains(&sealed.len())
        } else {
            sealed.len() == SEALED_CHUNK
        };
        if !fits {
            return Err(SealError::Chunk(n));
        }
        let mut buf = sealed.to_vec();
        let plain = self
            .key
            .open_in_place(chunk_nonce(n, last), Aad::from(&self.id), &mut buf)
            .map_err(|_| SealError::Chunk(n))?
            .len();
        buf.truncate(plain);
        self.n += 1;
        Ok(buf)
    }
}

/// How many sealed chunks a file of `size` plaintext bytes has (at least one).
pub fn chunk_count(size: u64) -> u64 {
    size.div_ceil(CHUNK as u64).max(1)
}

/// Opens a whole sealed byte stream (header then chunks) read from `source`, handing each
/// opened chunk to `sink` as soon as it authenticates; nothing after a bad chunk is handed
/// on. Answers the size and digest of what was opened.
pub fn open_stream<R: std::io::Read>(
    wrap: &WrapKey,
    id: [u8; 16],
    source: &mut R,
    mut sink: impl FnMut(Vec<u8>) -> std::io::Result<()>,
) -> Result<Sealed, OpenError> {
    let mut header = [0u8; HEADER];
    if read_full(source, &mut header)? != HEADER {
        return Err(OpenError::Seal(SealError::Header));
    }
    let mut opener = Opener::new(wrap, id, &header)?;
    let mut sha = digest::Context::new(&digest::SHA256);
    let mut size = 0u64;
    let mut current = vec![0u8; SEALED_CHUNK];
    let mut got = read_full(source, &mut current)?;
    loop {
        let mut next = vec![0u8; SEALED_CHUNK];
        let next_got = if got == SEALED_CHUNK {
            read_full(source, &mut next)?
        } else {
            0
        };
        let last = next_got == 0;
        let plain = opener.open(&current[..got], last)?;
        sha.update(&plain);
        size += plain.len() as u64;
        sink(plain)?;
        if last {
            break;
        }
        current = next;
        got = next_got;
    }
    let mut sha256 = [0u8; 32];
    sha256.copy_from_slice(sha.finish().as_ref());
    Ok(Sealed { size, sha256 })
}

/// Why [`open_stream`] stopped.
#[derive(Debug, thiserror::Error)]
pub enum OpenError {
    #[error(transparent)]
    Seal(#[from] SealError),
    #[error("reading or passing on the attachment failed: {0}")]
    Io(#[from] std::io::Error),
}

fn read_full<R: std::io::Read>(source: &mut R, buf: &mut [u8]) -> std::io::Result<usize> {
    let mut filled = 0;
    while filled < buf.len() {
        match source.read(&mut buf[filled..]) {
            Ok(0) => break,
            Ok(n) => filled += n,
            Err(e) if e.kind() == std::io::ErrorKind::Interrupted => {}
            Err(e) => return Err(e),
        }
    }
    Ok(filled)
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;

    fn seal_all(wrap: &WrapKey, id: [u8; 16], data: &[u8], step: usize) -> (Vec<u8>, Sealed) {
        let (mut s, mut out) = Sealer::new(wrap, id).unwrap();
        for piece in data.chunks(step.max(1)) {
            for c in s.push(piece).unwrap() {
                out.extend_from_slice(&c);
            }
        }
        let (last, sealed) = s.finish().unwrap();
        out.extend_from_slice(&last);
        (out, sealed)
    }

    fn open_all(wrap: &WrapKey, id: [u8; 16], file: &[u8]) -> Result<Vec<u8>, OpenError> {
        let mut plain = Vec::new();
        open_stream(wrap, id, &mut &file[..], |c| {
            plain.extend_from_slice(&c);
            Ok(())
        })?;
        Ok(plain)
    }

    #[test]
    fn round_trips_at_every_chunk_boundary_and_hides_the_plaintext() {
        let wrap = WrapKey::new(&[7; 32]);
        for len in [0, 1, CHUNK - 1, CHUNK, CHUNK + 1, 3 * CHUNK, 3 * CHUNK + 5] {
            let data: Vec<u8> = (0..len).map(|i| (i % 251) as u8).collect();
            let (file, sealed) = seal_all(&wrap, [1; 16], &data, 10_000);
            assert_eq!(sealed.size, len as u64);
            let expect = ring::digest::digest(&ring::digest::SHA256, &data);
            assert_eq!(&sealed.sha256[..], expect.as_ref());
            assert_eq!(
                file.len() as u64,
                HEADER as u64 + len as u64 + chunk_count(len as u64) * TAG as u64
            );
            assert_eq!(open_all(&wrap, [1; 16], &file).unwrap(), data, "len {len}");
        }
        let marker = b"PLAINTEXT-MARKER-0123456789";
        let (file, _) = seal_all(&wrap, [1; 16], &marker.repeat(5000), 999);
        assert!(!file.windows(marker.len()).any(|w| w == marker));
    }

    #[test]
    fn tampering_truncation_other_ids_and_keys_fail() {
        let wrap = WrapKey::new(&[7; 32]);
        let data = vec![42u8; 2 * CHUNK + 10];
        let (file, _) = seal_all(&wrap, [1; 16], &data, CHUNK);
        assert!(open_all(&WrapKey::new(&[8; 32]), [1; 16], &file).is_err());
        assert!(open_all(&wrap, [2; 16], &file).is_err());
        // Dropping the last chunk: the one before it was not sealed as the last.
        let cut = HEADER + 2 * SEALED_CHUNK;
        assert!(matches!(
            open_all(&wrap, [1; 16], &file[..cut]),
            Err(OpenError::Seal(SealError::Chunk(1)))
        ));
        // One flipped byte in the second chunk: the first chunk is passed on, nothing after.
        let mut bad = file.clone();
        bad[HEADER + SEALED_CHUNK + 3] ^= 1;
        let mut plain = Vec::new();
        let r = open_stream(&wrap, [1; 16], &mut &bad[..], |c| {
            plain.extend_from_slice(&c);
            Ok(())
        });
        assert!(matches!(r, Err(OpenError::Seal(SealError::Chunk(1)))));
        assert_eq!(plain.len(), CHUNK);
        // Swapped chunks.
        let mut swapped = file[..HEADER].to_vec();
        swapped.extend_from_slice(&file[HEADER + SEALED_CHUNK..HEADER + 2 * SEALED_CHUNK]);
        swapped.extend_from_slice(&file[HEADER..HEADER + SEALED_CHUNK]);
        swapped.extend_from_slice(&file[HEADER + 2 * SEALED_CHUNK..]);
        assert!(open_all(&wrap, [1; 16], &swapped).is_err());
    }
}
