#![no_main]
//! `multipart`: the incremental `multipart/form-data` reader of attachment uploads. Input:
//! one byte choosing a piece size, then the body, read against the boundary `b0undary`.
//! Never panics, never emits more than it was given, and the file part it yields (or the
//! error) is the same whether the body arrives whole or in pieces of any size.

use customerlink::attachment::multipart::Multipart;
use libfuzzer_sys::fuzz_target;

fn read(body: &[u8], step: usize) -> (Result<Option<String>, String>, Vec<u8>) {
    let mut m = Multipart::new("b0undary");
    let mut out = Vec::new();
    for piece in body.chunks(step.max(1)) {
        if let Err(e) = m.push(piece, &mut out) {
            return (Err(e.to_string()), Vec::new());
        }
    }
    (m.finish().map_err(|e| e.to_string()), out)
}

fuzz_target!(|data: &[u8]| {
    let Some((&step, body)) = data.split_first() else {
        return;
    };
    let whole = read(body, body.len());
    let pieces = read(body, usize::from(step));
    assert!(whole.1.len() <= body.len());
    assert_eq!(whole, pieces);
});
