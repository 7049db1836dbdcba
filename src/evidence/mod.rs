//! Verifiable evidence (issue 15 §3): the signed form of an evidence document and its offline
//! check. The api builds and signs the document (`api/evidence.rs`); the CLI
//! (`customerlink evidence verify`) and any third party check it with nothing but the
//! document and the service's public key. The bytes are specified in docs/evidence.md; the
//! row encoding and the chain rule are the domain's (`domain::evidence`).

mod canonical;
mod verify;

pub use canonical::canonical_json;
pub use verify::{Verdict, verify};

/// The `Format` of the documents this build issues.
pub const FORMAT: &str = "customerlink-evidence/1";

/// `Chain` of a row written with a hash.
pub const CHAINED: &str = "Chained";

/// `Chain` of a row written before chains existed (no hash).
pub const UNCHAINED: &str = "Unchained";
