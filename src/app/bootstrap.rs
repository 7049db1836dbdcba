//! First start: an empty database gets a tenant and an API key so the service is usable at
//! once; the key goes to `<data>/initial-api-key` (0600), never to the log.

use std::path::PathBuf;

use uuid::Uuid;

use super::{AppState, StartError};
use crate::ops::admin;
use crate::store::commands::{CreateTenant, FirstStart};
use crate::store::queries::TenantCount;

/// File (inside the data folder) that receives the first API key.
pub const INITIAL_KEY_FILE: &str = "initial-api-key";

/// Creates the first tenant and key if the store has no tenant; returns the key file. Of
/// several instances starting together on one database, only the one whose write finds no
/// tenant creates them (and writes the key into its own data folder).
pub fn first_start(state: &AppState) -> Result<Option<PathBuf>, StartError> {
    if state.store.fetch_blocking(TenantCount)? > 0 {
        return Ok(None);
    }
    let now = state.clock.now();
    let tenant = admin::new_tenant("Default", now)?;
    let spec = admin::KeySpec {
        tenant_id: tenant.tenant_id,
        user_id: Uuid::new_v4().into(),
        agent_id: None,
        name: Some("initial key".into()),
        roles: vec!["Administrator".into()],
        casing: None,
    };
    let (key_command, key) = admin::new_key(&state.keys, spec, now)?;
    let first = FirstStart {
        tenant: CreateTenant(tenant),
        key: key_command,
    };
    if !state.store.write_blocking(first)? {
        return Ok(None);
    }
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
