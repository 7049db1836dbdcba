//! First start: an empty database gets a tenant and an API key so the service is usable at
//! once; the key goes to `<data>/initial-api-key` (0600), never to the log.

use std::path::PathBuf;

use uuid::Uuid;

use super::{AppState, StartError};
use crate::ops::admin;
use crate::store::queries::TenantCount;

/// File (inside the data folder) that receives the first API key.
pub const INITIAL_KEY_FILE: &str = "initial-api-key";

/// Creates the first tenant and key if the database has no tenant; returns the key file.
pub fn first_start(state: &AppState) -> Result<Option<PathBuf>, StartError> {
    if state.store.fetch_blocking(TenantCount)? > 0 {
        return Ok(None);
    }
    let now = state.clock.now();
    let tenant = admin::create_tenant(&state.store, "Default", now)?;
    let spec = admin::KeySpec {
        tenant_id: tenant,
        user_id: Uuid::new_v4().into(),
        agent_id: None,
        name: Some("initial key".into()),
        roles: vec!["Administrator".into()],
        casing: None,
    };
    let key = admin::create_key(&state.store, &state.keys, spec, now)?;
    let path = state.config.data_dir.join(INITIAL_KEY_FILE);
    let _ = std::fs::remove_file(&path);
    crate::private_fs::write_private(&path, format!("{}\n", key.expose()).as_bytes()).map_err(
        |error| StartError::Io {
            path: path.clone(),
            error,
        },
    )?;
    Ok(Some(path))
}
