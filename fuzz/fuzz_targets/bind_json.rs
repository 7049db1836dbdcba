#![no_main]
//! `bind_json`: JSON request bodies. Bytes → `serde_json::Value` → `wire::bind` into every
//! request DTO (case-insensitive member names, lenient ints/bools, Guids in N/D/B/P form).
//! Never panics; a non-object body is refused as a whole; a bound `Contact` re-serialises to
//! JSON that binds to the same contact.

mod common;

use libfuzzer_sys::{Corpus, fuzz_target};
use serde_json::Value;

fuzz_target!(|data: &[u8]| -> Corpus {
    let Ok(body) = serde_json::from_slice::<Value>(data) else {
        return Corpus::Reject;
    };
    common::bind_all(common::Input {
        body: Some(&body),
        ..common::Input::default()
    });
    Corpus::Keep
});
