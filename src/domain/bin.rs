//! Serde for stored byte strings as one MessagePack `bin` instead of serde's default array of
//! integers (up to two bytes per byte): a stored link carries hashes and sealed secrets, so
//! this is a large share of its size. Reading accepts both forms, so records written before
//! schema 2 (arrays) still decode. Use with `#[serde(with = "…::bin::hash")]` or `…::bin::bytes`.

/// A 32-byte hash: 34 bytes stored instead of up to 65.
pub mod hash {
    use serde::de::{Error, SeqAccess, Visitor};
    use serde::{Deserializer, Serializer};

    pub fn serialize<S: Serializer>(bytes: &[u8; 32], serializer: S) -> Result<S::Ok, S::Error> {
        serializer.serialize_bytes(bytes)
    }

    pub fn deserialize<'de, D: Deserializer<'de>>(deserializer: D) -> Result<[u8; 32], D::Error> {
        deserializer.deserialize_bytes(Hash)
    }

    struct Hash;

    impl<'de> Visitor<'de> for Hash {
        type Value = [u8; 32];

        fn expecting(&self, f: &mut std::fmt::Formatter) -> std::fmt::Result {
            f.write_str("32 bytes")
        }

        fn visit_bytes<E: Error>(self, v: &[u8]) -> Result<[u8; 32], E> {
            v.try_into().map_err(|_| E::invalid_length(v.len(), &self))
        }

        fn visit_seq<A: SeqAccess<'de>>(self, seq: A) -> Result<[u8; 32], A::Error> {
            let all = super::bytes::Bytes.visit_seq(seq)?;
            self.visit_bytes(&all)
        }
    }
}

/// A byte string of any length (sealed secrets).
pub mod bytes {
    use serde::de::{SeqAccess, Visitor};
    use serde::{Deserializer, Serializer};

    pub fn serialize<S: Serializer>(bytes: &[u8], serializer: S) -> Result<S::Ok, S::Error> {
        serializer.serialize_bytes(bytes)
    }

    pub fn deserialize<'de, D: Deserializer<'de>>(deserializer: D) -> Result<Vec<u8>, D::Error> {
        deserializer.deserialize_bytes(Bytes)
    }

    pub(super) struct Bytes;

    impl<'de> Visitor<'de> for Bytes {
        type Value = Vec<u8>;

        fn expecting(&self, f: &mut std::fmt::Formatter) -> std::fmt::Result {
            f.write_str("bytes")
        }

        fn visit_bytes<E: serde::de::Error>(self, v: &[u8]) -> Result<Vec<u8>, E> {
            Ok(v.to_vec())
        }

        fn visit_byte_buf<E: serde::de::Error>(self, v: Vec<u8>) -> Result<Vec<u8>, E> {
            Ok(v)
        }

        fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<Vec<u8>, A::Error> {
            let mut out = Vec::with_capacity(seq.size_hint().unwrap_or(0).min(4096));
            while let Some(byte) = seq.next_element()? {
                out.push(byte);
            }
            Ok(out)
        }
    }
}

#[cfg(test)]
mod tests {
    #[derive(Debug, PartialEq, serde::Serialize, serde::Deserialize)]
    struct Packed(#[serde(with = "super::hash")] [u8; 32]);

    #[derive(Debug, PartialEq, serde::Serialize, serde::Deserialize)]
    struct Sealed(#[serde(with = "super::bytes")] Vec<u8>);

    #[test]
    fn a_hash_is_one_bin_and_reads_both_forms() {
        let value = Packed([0xab; 32]);
        let packed = rmp_serde::to_vec(&value).unwrap();
        assert_eq!(packed.len(), 34);
        assert_eq!(&packed[..2], &[0xc4, 32]);
        assert_eq!(rmp_serde::from_slice::<Packed>(&packed).unwrap(), value);
        let legacy = rmp_serde::to_vec(&[0xab_u8; 32]).unwrap();
        assert_eq!(rmp_serde::from_slice::<Packed>(&legacy).unwrap(), value);
    }

    #[test]
    fn a_hash_of_another_length_is_refused() {
        let mut short = vec![0xc4, 31];
        short.extend([1; 31]);
        assert!(rmp_serde::from_slice::<Packed>(&short).is_err());
        let long = rmp_serde::to_vec(&[1_u8; 33].to_vec()).unwrap();
        assert!(rmp_serde::from_slice::<Packed>(&long).is_err());
    }

    #[test]
    fn bytes_are_one_bin_and_read_both_forms() {
        let value = Sealed(vec![200, 1, 255]);
        let packed = rmp_serde::to_vec(&value).unwrap();
        assert_eq!(packed, [0xc4, 3, 200, 1, 255]);
        assert_eq!(rmp_serde::from_slice::<Sealed>(&packed).unwrap(), value);
        let legacy = rmp_serde::to_vec(&vec![200_u8, 1, 255]).unwrap();
        assert_eq!(rmp_serde::from_slice::<Sealed>(&legacy).unwrap(), value);
    }
}
