//! `customerlink evidence verify FILE`: checks an evidence document offline (its signature,
//! then its access log's hash chain; `crate::evidence::verify`) with a public key given as
//! base64 or a file holding it, or with the data folder's own key. Prints one line per fault
//! and nothing secret: the master secret is only used to derive the public key.

use std::path::Path;

use base64::Engine as _;
use base64::engine::general_purpose::STANDARD;

use crate::config::Config;

/// Verifies the document in `file`; exit code 0 when it holds, 1 when anything fails.
pub fn verify_file(config: &Config, file: &Path, key: Option<&str>) -> Result<i32, String> {
    let public_key = match key {
        Some(key) => key_from_arg(key)?,
        None => data_folder_key(config)?,
    };
    let text = std::fs::read(file).map_err(|e| format!("{}: {e}", file.display()))?;
    let doc: serde_json::Value = serde_json::from_slice(&text)
        .map_err(|e| format!("{}: not a JSON document: {e}", file.display()))?;
    let verdict = crate::evidence::verify(&doc, &public_key);
    for fault in &verdict.faults {
        println!("FAIL {fault}");
    }
    if !verdict.holds() {
        return Ok(1);
    }
    println!(
        "OK signature valid; {} access-log rows, chain intact ({} unchained rows from before \
         the chain)",
        verdict.rows, verdict.unchained
    );
    Ok(0)
}

/// `--key`: base64 of the 32-byte key, or a file holding that text.
fn key_from_arg(key: &str) -> Result<Vec<u8>, String> {
    let text = match std::fs::read_to_string(key) {
        Ok(text) => text,
        Err(_) => key.to_owned(),
    };
    let bytes = STANDARD
        .decode(text.trim())
        .map_err(|_| "--key is neither a file nor base64".to_owned())?;
    if bytes.len() != 32 {
        return Err(format!(
            "--key holds {} bytes; an Ed25519 public key is 32",
            bytes.len()
        ));
    }
    Ok(bytes)
}

/// The public key of the data folder's master secret (the one its server signs with).
fn data_folder_key(config: &Config) -> Result<Vec<u8>, String> {
    let keys = crate::app::existing_keys(config)
        .map_err(|e| format!("no --key given, and the data folder's key is unavailable: {e}"))?;
    keys.evidence_public_key()
        .map(|k| k.to_vec())
        .ok_or_else(|| "the evidence signing key is unusable".to_owned())
}
