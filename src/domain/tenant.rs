//! Tenants and their staff API keys. A key names exactly one tenant and one user, which is
//! how every staff operation knows whose data it may touch.

use super::{TenantId, UnixMillis, UserId};
use serde::{Deserialize, Serialize};
use uuid::Uuid;

/// An organisation whose links are kept apart from every other tenant's.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Tenant {
    pub tenant_id: TenantId,
    /// The display name on pages and in messages (`tenant set --name`).
    pub name: String,
    pub created_at: UnixMillis,
    /// The accent colour, `#rrggbb` ([`super::brand::parse_accent`]); the portal's own without.
    #[serde(default)]
    pub accent: Option<String>,
    /// The logo, served at `/brand/{TenantId}/logo.png`.
    #[serde(default)]
    pub logo: Option<super::brand::Png>,
}

/// What a stored API key grants (the key itself is stored only as a keyed hash).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ApiKeyRecord {
    pub key_id: Uuid,
    pub tenant_id: TenantId,
    pub user_id: UserId,
    pub agent_id: Option<i32>,
    pub name: Option<String>,
    #[serde(default)]
    pub roles: Vec<String>,
    pub created_at: UnixMillis,
    pub revoked_at: Option<UnixMillis>,
    /// Reply casing pinned for this key's requests (`None`: decided per request).
    #[serde(default)]
    pub casing: Option<CasingPin>,
}

/// A reply casing an integration pins on its key (`key create --casing`), so its replies never
/// depend on how a request happens to be spelt.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub enum CasingPin {
    Camel,
    Pascal,
}

impl CasingPin {
    /// `camel` or `pascal` (any case).
    pub fn parse(text: &str) -> Option<CasingPin> {
        match text.to_ascii_lowercase().as_str() {
            "camel" => Some(CasingPin::Camel),
            "pascal" => Some(CasingPin::Pascal),
            _ => None,
        }
    }

    /// The lower-case name, as `key list` shows it.
    pub fn name(self) -> &'static str {
        match self {
            CasingPin::Camel => "camel",
            CasingPin::Pascal => "pascal",
        }
    }
}

/// The authenticated staff caller; only API-key authentication makes one.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StaffCaller {
    pub tenant_id: TenantId,
    pub user_id: UserId,
    pub agent_id: Option<i32>,
    pub roles: Vec<String>,
    /// The key's pinned reply casing, if any.
    pub casing: Option<CasingPin>,
}

impl From<&ApiKeyRecord> for StaffCaller {
    fn from(k: &ApiKeyRecord) -> Self {
        Self {
            tenant_id: k.tenant_id,
            user_id: k.user_id,
            agent_id: k.agent_id,
            roles: k.roles.clone(),
            casing: k.casing,
        }
    }
}

/// What an operation asks of the key that calls it (declared per operation in the route table).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Role {
    /// Links and contacts: any key except one whose only role is `ResourceServer`.
    Staff,
    /// Exchanging hand-off grants: a key with the `ResourceServer` role.
    ResourceServer,
}

/// The role name that lets a key exchange grants, and, alone, restricts it to that.
pub const RESOURCE_SERVER_ROLE: &str = "ResourceServer";

impl StaffCaller {
    /// Whether this key may call an operation that needs `role`. A key whose roles are only
    /// `ResourceServer` belongs to the resource application: it exchanges grants and nothing
    /// else. Keys with no roles, or any other role, are staff keys (as before roles existed).
    pub fn may(&self, role: Role) -> bool {
        let is_rs = |r: &String| r.eq_ignore_ascii_case(RESOURCE_SERVER_ROLE);
        match role {
            Role::ResourceServer => self.roles.iter().any(is_rs),
            Role::Staff => self.roles.is_empty() || !self.roles.iter().all(is_rs),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn caller(roles: &[&str]) -> StaffCaller {
        StaffCaller {
            tenant_id: Uuid::nil().into(),
            user_id: Uuid::nil().into(),
            agent_id: None,
            roles: roles.iter().map(|r| (*r).to_owned()).collect(),
            casing: None,
        }
    }

    #[test]
    fn resource_server_alone_restricts_and_with_another_role_adds() {
        let may = |roles: &[&str]| {
            let c = caller(roles);
            (c.may(Role::Staff), c.may(Role::ResourceServer))
        };
        assert_eq!(may(&[]), (true, false));
        assert_eq!(may(&["Administrator"]), (true, false));
        assert_eq!(may(&["ResourceServer"]), (false, true));
        assert_eq!(may(&["resourceserver", "ResourceServer"]), (false, true));
        assert_eq!(may(&["ResourceServer", "Agent"]), (true, true));
    }
}
