//! Tenants and their staff API keys. A key names exactly one tenant and one user, which is
//! how every staff operation knows whose data it may touch.

use serde::{Deserialize, Serialize};
use uuid::Uuid;

/// An organisation whose links are kept apart from every other tenant's.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Tenant {
    pub tenant_id: Uuid,
    pub name: String,
    pub created_at: i64,
}

/// What a stored API key grants (the key itself is stored only as a keyed hash).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ApiKeyRecord {
    pub key_id: Uuid,
    pub tenant_id: Uuid,
    pub user_id: Uuid,
    pub agent_id: Option<i32>,
    pub name: Option<String>,
    #[serde(default)]
    pub roles: Vec<String>,
    pub created_at: i64,
    pub revoked_at: Option<i64>,
}

/// The authenticated staff caller; only API-key authentication makes one.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StaffCaller {
    pub tenant_id: Uuid,
    pub user_id: Uuid,
    pub agent_id: Option<i32>,
    pub roles: Vec<String>,
}

impl From<&ApiKeyRecord> for StaffCaller {
    fn from(k: &ApiKeyRecord) -> Self {
        Self {
            tenant_id: k.tenant_id,
            user_id: k.user_id,
            agent_id: k.agent_id,
            roles: k.roles.clone(),
        }
    }
}
