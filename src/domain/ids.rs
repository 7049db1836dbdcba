//! Identifier newtypes. A tenant, a link, a staff user and a contact are all a UUID or an
//! integer underneath; giving each its own type means `Reader::link(tenant, uid)` cannot be
//! called with its arguments swapped, and a user id never lands in a tenant field. Each is
//! `#[serde(transparent)]`, so it is stored exactly as the bare value was and old files read
//! unchanged. The wire keeps plain `Uuid`/`i32` (its DTOs mirror ServiceStack's); the api
//! layer converts at the boundary with `From`.

use std::fmt;

use serde::{Deserialize, Serialize};
use uuid::Uuid;

/// Declares a UUID-backed identifier with the conversions and views every one of them needs.
macro_rules! uuid_id {
    ($(#[doc = $doc:literal])* $name:ident) => {
        $(#[doc = $doc])*
        #[derive(
            Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize,
        )]
        #[serde(transparent)]
        pub struct $name(Uuid);

        impl $name {
            /// The underlying UUID (for the wire and for log text).
            pub const fn as_uuid(self) -> Uuid {
                self.0
            }

            /// The UUID as the 128-bit integer the store's keys use.
            pub const fn as_u128(self) -> u128 {
                self.0.as_u128()
            }

            /// The UUID's 16 bytes (what keyed hashes and seals bind to).
            pub const fn as_bytes(&self) -> &[u8; 16] {
                self.0.as_bytes()
            }

            /// The 32 hex digits without hyphens (ServiceStack's `N` format, used on the wire
            /// and in log text).
            pub const fn simple(self) -> uuid::fmt::Simple {
                self.0.simple()
            }

            /// The identifier stored under the 128-bit key `n`.
            pub const fn from_u128(n: u128) -> Self {
                $name(Uuid::from_u128(n))
            }
        }

        impl From<Uuid> for $name {
            fn from(uuid: Uuid) -> Self {
                $name(uuid)
            }
        }

        impl From<$name> for Uuid {
            fn from(id: $name) -> Uuid {
                id.0
            }
        }

        impl fmt::Display for $name {
            /// The hyphenated UUID, exactly as the bare `Uuid` printed.
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                self.0.fmt(f)
            }
        }
    };
}

uuid_id! {
    /// An organisation: every record belongs to exactly one, and no read crosses tenants.
    TenantId
}

uuid_id! {
    /// A link's public identifier (`CustomerLinkUID`), the primary key of the `links` table.
    LinkUid
}

uuid_id! {
    /// A staff user of the platform, as named by the API key that acts for them.
    UserId
}

/// A contact's number within its tenant (the platform's `ContactId`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(transparent)]
pub struct ContactId(i32);

impl ContactId {
    /// The number, as the wire and the `contacts` table key carry it.
    pub const fn get(self) -> i32 {
        self.0
    }
}

impl From<i32> for ContactId {
    fn from(n: i32) -> Self {
        ContactId(n)
    }
}

impl From<ContactId> for i32 {
    fn from(id: ContactId) -> i32 {
        id.0
    }
}

impl fmt::Display for ContactId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        self.0.fmt(f)
    }
}

/// The keyed hash of a link token (`HashKeys::link_token`): the only trace of the token the
/// store keeps, and the key that finds its link. A distinct type from the hashes of API keys,
/// passcodes and grants, so one cannot be looked up as another.
#[derive(
    Debug, Clone, Copy, Default, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize,
)]
#[serde(transparent)]
pub struct TokenHash(#[serde(with = "super::bin::hash")] pub [u8; 32]);

impl TokenHash {
    /// Lower-case hex, as the `TokenHash` wire field shows it.
    pub fn to_hex(&self) -> String {
        // Digit by digit on the stack: through `fmt` this was a visible share of reading a link.
        const HEX: &[u8; 16] = b"0123456789abcdef";
        let mut text = [0u8; 64];
        for (pair, byte) in text.chunks_exact_mut(2).zip(self.0) {
            pair[0] = HEX[usize::from(byte >> 4)];
            pair[1] = HEX[usize::from(byte & 0xf)];
        }
        std::str::from_utf8(&text)
            .map(str::to_owned)
            .unwrap_or_default()
    }
}

impl From<[u8; 32]> for TokenHash {
    fn from(bytes: [u8; 32]) -> Self {
        TokenHash(bytes)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn bytes<T: Serialize>(value: &T) -> Vec<u8> {
        rmp_serde::to_vec_named(value).unwrap()
    }

    #[test]
    fn a_token_hash_is_shown_as_lower_case_hex() {
        let mut bytes = [0u8; 32];
        bytes[0] = 0xab;
        bytes[31] = 0x0f;
        let hex = TokenHash(bytes).to_hex();
        assert_eq!(hex, blake3::Hash::from_bytes(bytes).to_hex().as_str());
        assert_eq!(&hex[..4], "ab00");
        assert_eq!(&hex[60..], "000f");
    }

    #[test]
    fn ids_are_stored_as_the_bare_values() {
        let uuid = Uuid::from_u128(0x1234);
        assert_eq!(bytes(&TenantId::from(uuid)), bytes(&uuid));
        assert_eq!(bytes(&LinkUid::from(uuid)), bytes(&uuid));
        assert_eq!(bytes(&UserId::from(uuid)), bytes(&uuid));
        assert_eq!(bytes(&ContactId::from(17)), bytes(&17_i32));
        let mut bin = vec![0xc4, 32];
        bin.extend([3_u8; 32]);
        assert_eq!(
            bytes(&TokenHash([3; 32])),
            bin,
            "a token hash is one MessagePack bin"
        );
    }

    #[test]
    fn ids_print_as_the_bare_values() {
        let uuid = Uuid::from_u128(0xabc);
        assert_eq!(LinkUid::from(uuid).to_string(), uuid.to_string());
        assert_eq!(ContactId::from(-4).to_string(), "-4");
        assert_eq!(TokenHash([0xab; 32]).to_hex(), "ab".repeat(32));
    }

    #[test]
    fn keys_round_trip_through_u128() {
        let id = TenantId::from_u128(99);
        assert_eq!(id.as_u128(), 99);
        assert_eq!(Uuid::from(id), Uuid::from_u128(99));
    }
}
