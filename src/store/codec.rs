//! Record encoding: MessagePack, each record an array of its fields in declaration order
//! (schema 2). Field names made up half of every stored link; the order is pinned instead by
//! `golden_tests.rs`, and fields added later go last with `#[serde(default)]`, so an older
//! record (a shorter array) still decodes. Records of schema 1 (maps with named fields) decode
//! too: serde accepts either form for a struct.

use serde::Serialize;
use serde::de::DeserializeOwned;

use super::StoreError;

pub fn encode<T: Serialize>(value: &T) -> Result<Vec<u8>, StoreError> {
    rmp_serde::to_vec(value).map_err(|e| StoreError::Corrupt(e.to_string()))
}

pub fn decode<T: DeserializeOwned>(bytes: &[u8]) -> Result<T, StoreError> {
    rmp_serde::from_slice(bytes).map_err(|e| StoreError::Corrupt(e.to_string()))
}
