//! Secrets that grant access — link tokens and API keys — and the keyed hashes that are the
//! only form ever stored (DESIGN.md decision 5). Hash keys are derived from the server's master
//! secret per purpose, so a stolen database alone cannot be used to forge or test tokens.

use base64::Engine as _;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use ring::aead;
use serde::{Deserialize, Serialize};

use super::share::Family;
use super::{TokenHash, UnixMillis};

/// Wraps a secret so that `Debug` never prints it.
#[derive(Clone, PartialEq, Eq)]
pub struct Secret<T>(T);

impl<T> Secret<T> {
    pub fn new(value: T) -> Self {
        Self(value)
    }

    /// The secret itself; call sites are the only places a secret leaves its wrapper.
    pub fn expose(&self) -> &T {
        &self.0
    }
}

impl<T> std::fmt::Debug for Secret<T> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("[redacted]")
    }
}

/// A keyed BLAKE3 hash of a secret; the stored, indexable stand-in for it. Stored as one
/// 32-byte MessagePack `bin` (`bin::hash`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(transparent)]
pub struct SecretHash(#[serde(with = "super::bin::hash")] pub [u8; 32]);

impl From<[u8; 32]> for SecretHash {
    fn from(bytes: [u8; 32]) -> Self {
        SecretHash(bytes)
    }
}

/// Per-purpose hash keys derived from the master secret.
#[derive(Clone)]
pub struct HashKeys {
    link_token: [u8; 32],
    share_token: [u8; 32],
    api_key: [u8; 32],
    outbox: [u8; 32],
    otp: [u8; 32],
    grant: [u8; 32],
    session: [u8; 32],
    attachment: [u8; 32],
    evidence: [u8; 32],
}

impl std::fmt::Debug for HashKeys {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("HashKeys([redacted])")
    }
}

impl HashKeys {
    /// Derives every purpose key from the 32-byte master secret.
    pub fn derive(master: &Secret<[u8; 32]>) -> Self {
        Self {
            link_token: blake3::derive_key(
                "customerlink 2026-11-28 link token v1",
                master.expose(),
            ),
            share_token: blake3::derive_key(
                "customerlink 2026-11-30 document share token v1",
                master.expose(),
            ),
            api_key: blake3::derive_key("customerlink 2026-11-28 api key v1", master.expose()),
            outbox: blake3::derive_key("customerlink 2026-11-28 outbox seal v1", master.expose()),
            otp: blake3::derive_key("customerlink 2026-11-28 otp code v1", master.expose()),
            grant: blake3::derive_key("customerlink 2026-11-28 hand-off grant v1", master.expose()),
            session: blake3::derive_key(
                "customerlink 2026-11-28 portal session v1",
                master.expose(),
            ),
            attachment: blake3::derive_key(
                "customerlink 2026-11-30 attachment key wrap v1",
                master.expose(),
            ),
            evidence: blake3::derive_key(
                "customerlink 2026-11-30 evidence signing v1",
                master.expose(),
            ),
        }
    }

    /// The stored form of a token. Each family hashes under its own key, so a token is
    /// looked up only by the surface of its own family (a share's token at `/portal/…` finds
    /// nothing, as any unknown token).
    pub fn token(&self, family: Family, token: &LinkToken) -> TokenHash {
        let key = match family {
            Family::CustomerLink => &self.link_token,
            Family::DocumentShare => &self.share_token,
        };
        TokenHash(*blake3::keyed_hash(key, token.0.expose()).as_bytes())
    }

    /// The key that wraps each attachment's own file key ([`crate::attachment::seal`]).
    pub fn attachment_wrap(&self) -> crate::attachment::seal::WrapKey {
        crate::attachment::seal::WrapKey::new(&self.attachment)
    }

    pub fn api_key(&self, key: &ApiKey) -> SecretHash {
        SecretHash(*blake3::keyed_hash(&self.api_key, key.0.expose()).as_bytes())
    }
}

impl HashKeys {
    /// The service's Ed25519 key that signs evidence documents (its seed derives from the
    /// master secret, so every instance and every restart signs with the same key). `None`
    /// only if `ring` refused a 32-byte seed, which it does not.
    pub fn evidence_signer(&self) -> Option<ring::signature::Ed25519KeyPair> {
        ring::signature::Ed25519KeyPair::from_seed_unchecked(&self.evidence).ok()
    }

    /// The public half of [`HashKeys::evidence_signer`] (32 bytes).
    pub fn evidence_public_key(&self) -> Option<[u8; 32]> {
        use ring::signature::KeyPair;
        let pair = self.evidence_signer()?;
        pair.public_key().as_ref().try_into().ok()
    }
}

impl HashKeys {
    /// Seals a link token for the outbox (ChaCha20-Poly1305, random nonce, bound to the link
    /// uid): the outbox can re-send the URL after a restart without keeping it in clear.
    pub fn seal_token(
        &self,
        token: &LinkToken,
        link_uid: &[u8; 16],
    ) -> Result<Vec<u8>, getrandom::Error> {
        self.seal(token.0.expose(), link_uid)
    }

    /// Opens what [`HashKeys::seal_token`] sealed for this link; `None` if it was tampered
    /// with, belongs to another link, or was sealed under another master secret.
    pub fn open_token(&self, sealed: &[u8], link_uid: &[u8; 16]) -> Option<LinkToken> {
        let bytes: [u8; 32] = self.open(sealed, link_uid)?.try_into().ok()?;
        Some(LinkToken(Secret::new(bytes)))
    }

    /// Seals any short secret bound to a link (outbox tokens, live OTP codes).
    pub fn seal(&self, secret: &[u8], link_uid: &[u8; 16]) -> Result<Vec<u8>, getrandom::Error> {
        let nonce_bytes: [u8; 12] = random_bytes()?;
        let mut sealed = secret.to_vec();
        let nonce = aead::Nonce::assume_unique_for_key(nonce_bytes);
        // With a 32-byte key and buffer neither step can fail; an empty seal would only make
        // the delivery fail to open later, never leak the token.
        let sealed_ok = self.outbox_key().is_some_and(|key| {
            key.seal_in_place_append_tag(nonce, aead::Aad::from(link_uid), &mut sealed)
                .is_ok()
        });
        if !sealed_ok {
            return Ok(Vec::new());
        }
        let mut out = nonce_bytes.to_vec();
        out.extend_from_slice(&sealed);
        Ok(out)
    }

    /// Opens what [`HashKeys::seal`] sealed for this link.
    pub fn open(&self, sealed: &[u8], link_uid: &[u8; 16]) -> Option<Vec<u8>> {
        let (nonce, ciphertext) = sealed.split_first_chunk::<12>()?;
        let mut buf = ciphertext.to_vec();
        let nonce = aead::Nonce::assume_unique_for_key(*nonce);
        let plain = self
            .outbox_key()?
            .open_in_place(nonce, aead::Aad::from(link_uid), &mut buf)
            .ok()?;
        Some(plain.to_vec())
    }

    /// Keyed hash of an OTP code, bound to its link.
    pub fn otp(&self, link_uid: &[u8; 16], code: &str) -> SecretHash {
        let mut h = blake3::Hasher::new_keyed(&self.otp);
        h.update(link_uid);
        h.update(code.as_bytes());
        SecretHash(*h.finalize().as_bytes())
    }

    /// Keyed hash of a hand-off grant.
    pub fn grant(&self, grant: &[u8; 32]) -> SecretHash {
        SecretHash(*blake3::keyed_hash(&self.grant, grant).as_bytes())
    }

    /// MAC of a portal session: this link, this token generation, until `expires`.
    pub fn session_mac(
        &self,
        link_uid: &[u8; 16],
        token_hash: &TokenHash,
        expires: UnixMillis,
    ) -> blake3::Hash {
        let mut h = blake3::Hasher::new_keyed(&self.session);
        h.update(link_uid);
        h.update(&token_hash.0);
        h.update(&expires.as_i64().to_le_bytes());
        h.finalize()
    }

    fn outbox_key(&self) -> Option<aead::LessSafeKey> {
        aead::UnboundKey::new(&aead::CHACHA20_POLY1305, &self.outbox)
            .ok()
            .map(aead::LessSafeKey::new)
    }
}

/// Fills a buffer from the OS CSPRNG.
pub fn random_bytes<const N: usize>() -> Result<[u8; N], getrandom::Error> {
    let mut buf = [0u8; N];
    getrandom::fill(&mut buf)?;
    Ok(buf)
}

/// The length of a token's URL form: 32 bytes in base64url without padding.
pub const TOKEN_CHARS: usize = 43;

/// The bearer secret in a portal URL: 32 random bytes, base64url without padding.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LinkToken(Secret<[u8; 32]>);

impl LinkToken {
    pub fn generate() -> Result<Self, getrandom::Error> {
        Ok(Self(Secret::new(random_bytes()?)))
    }

    /// Parses the URL form; anything that is not exactly 32 bytes of base64url is not a token.
    pub fn parse(text: &str) -> Option<Self> {
        decode_32(text).map(|b| Self(Secret::new(b)))
    }

    /// The URL form. Only the create response and the delivered message may carry it.
    pub fn encode(&self) -> String {
        URL_SAFE_NO_PAD.encode(self.0.expose())
    }

    /// Appends the URL form ([`LinkToken::encode`], [`TOKEN_CHARS`] long) to `out`.
    pub fn encode_into(&self, out: &mut String) {
        URL_SAFE_NO_PAD.encode_string(self.0.expose(), out);
    }
}

/// Prefix that makes API keys recognisable to secret scanners and humans.
const API_KEY_PREFIX: &str = "clk_";

/// A staff API key: `clk_` + 32 random bytes in base64url.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ApiKey(Secret<[u8; 32]>);

impl ApiKey {
    pub fn generate() -> Result<Self, getrandom::Error> {
        Ok(Self(Secret::new(random_bytes()?)))
    }

    pub fn parse(text: &str) -> Option<Self> {
        decode_32(text.trim().strip_prefix(API_KEY_PREFIX)?).map(|b| Self(Secret::new(b)))
    }

    pub fn encode(&self) -> String {
        format!(
            "{API_KEY_PREFIX}{}",
            URL_SAFE_NO_PAD.encode(self.0.expose())
        )
    }
}

/// 43 base64url characters as 32 bytes, decoded on the stack (every portal request and every
/// staff request parses one).
fn decode_32(text: &str) -> Option<[u8; 32]> {
    if text.len() != 43 {
        return None;
    }
    // Room for the engine's estimate (33 bytes for 43 characters); 32 are written.
    let mut out = [0u8; 33];
    let len = URL_SAFE_NO_PAD.decode_slice(text, &mut out).ok()?;
    out.get(..len)?.try_into().ok()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn keys(seed: u8) -> HashKeys {
        HashKeys::derive(&Secret::new([seed; 32]))
    }

    #[test]
    fn token_round_trips_through_its_url_form() {
        let t = LinkToken::generate().unwrap();
        let text = t.encode();
        assert_eq!(text.len(), 43);
        assert_eq!(LinkToken::parse(&text), Some(t));
        assert_eq!(LinkToken::parse(&text[1..]), None);
        assert_eq!(
            LinkToken::parse("not a token at all, not a token at all, xx"),
            None
        );
    }

    #[test]
    fn api_key_needs_its_prefix() {
        let k = ApiKey::generate().unwrap();
        let text = k.encode();
        assert!(text.starts_with("clk_"));
        assert_eq!(ApiKey::parse(&text), Some(k));
        assert_eq!(ApiKey::parse(&text[4..]), None);
    }

    #[test]
    fn hashes_depend_on_master_secret_and_purpose() {
        let t = LinkToken::parse(&"A".repeat(43)).unwrap();
        assert_eq!(
            keys(1).token(Family::CustomerLink, &t),
            keys(1).token(Family::CustomerLink, &t)
        );
        assert_ne!(
            keys(1).token(Family::CustomerLink, &t),
            keys(2).token(Family::CustomerLink, &t)
        );
        let k = ApiKey::parse(&format!("clk_{}", "A".repeat(43))).unwrap();
        assert_ne!(
            keys(1).token(Family::CustomerLink, &t).0,
            keys(1).api_key(&k).0
        );
        assert_ne!(
            keys(1).token(Family::CustomerLink, &t),
            keys(1).token(Family::DocumentShare, &t)
        );
    }

    #[test]
    fn sealed_tokens_open_only_for_their_link_and_master_secret() {
        let t = LinkToken::generate().unwrap();
        let sealed = keys(1).seal_token(&t, &[7; 16]).unwrap();
        assert_eq!(sealed.len(), 12 + 32 + 16);
        assert!(
            !sealed.windows(32).any(|w| w == t.0.expose()),
            "not in clear"
        );
        assert_eq!(keys(1).open_token(&sealed, &[7; 16]), Some(t.clone()));
        assert_eq!(keys(1).open_token(&sealed, &[8; 16]), None);
        assert_eq!(keys(2).open_token(&sealed, &[7; 16]), None);
        let mut tampered = sealed.clone();
        tampered[20] ^= 1;
        assert_eq!(keys(1).open_token(&tampered, &[7; 16]), None);
        assert_eq!(keys(1).open_token(&sealed[..10], &[7; 16]), None);
    }

    #[test]
    fn debug_never_shows_the_secret() {
        let t = LinkToken::generate().unwrap();
        let shown = format!("{t:?}");
        assert!(!shown.contains(&t.encode()));
        assert!(shown.contains("redacted"));
    }
}
