//! Administration of tenants and API keys, shared by the CLI (`customerlink tenant …`,
//! `customerlink key …`) and the first-start bootstrap. Writes go through the store's writer
//! like every other write.

use uuid::Uuid;

use crate::domain::brand;
use crate::domain::tenant::{ApiKeyRecord, CasingPin, Tenant};
use crate::domain::text::is_name_char;
use crate::domain::token::{ApiKey, HashKeys, Secret};
use crate::domain::{TenantId, UnixMillis, UserId};
use crate::store::commands::{CreateApiKey, CreateTenant, RevokeApiKey};
use crate::store::queries::{ApiKeysOf, TenantOf};
use crate::store::{Store, StoreError};

/// What a new API key grants.
#[derive(Debug, Clone)]
pub struct KeySpec {
    pub tenant_id: TenantId,
    pub user_id: UserId,
    pub agent_id: Option<i32>,
    pub name: Option<String>,
    pub roles: Vec<String>,
    /// Reply casing pinned for the key's requests; `None` decides per request.
    pub casing: Option<CasingPin>,
}

/// Why an admin command failed.
#[derive(Debug, thiserror::Error)]
pub enum AdminError {
    #[error(transparent)]
    Store(#[from] StoreError),
    #[error("no tenant {}", .0.simple())]
    UnknownTenant(TenantId),
    #[error("no API key {}", .0.simple())]
    UnknownKey(Uuid),
    #[error("random source: {0}")]
    Random(getrandom::Error),
    /// A name that cannot be used (see `domain::text`).
    #[error("{0}")]
    InvalidName(String),
    /// A display name, accent or logo that `tenant set` refuses (see `domain::brand`).
    #[error("{0}")]
    InvalidBrand(String),
}

/// What `tenant set` changes; `None` leaves that part as it is.
#[derive(Debug, Clone, Default)]
pub struct BrandChange {
    pub name: Option<String>,
    /// `#RRGGBB`, as typed.
    pub accent: Option<String>,
    /// The logo file's bytes.
    pub logo: Option<Vec<u8>>,
}

/// Sets a tenant's display name, accent and logo. Everything is validated before anything is
/// written, and the tenant record is replaced in one write, so a refused part changes
/// nothing. Reports an unknown tenant, an invalid part or the store's failure. Blocking (the
/// admin path; concurrent `tenant set` runs on one tenant: the last write wins).
pub fn set_tenant(
    store: &Store,
    tenant_id: TenantId,
    change: BrandChange,
) -> Result<Tenant, AdminError> {
    let invalid = AdminError::InvalidBrand;
    if let Some(name) = &change.name {
        brand::check_name(name).map_err(invalid)?;
    }
    let accent = change
        .accent
        .as_deref()
        .map(brand::parse_accent)
        .transpose();
    let logo = change.logo.map(brand::Png::parse).transpose();
    let (accent, logo) = (accent.map_err(invalid)?, logo.map_err(invalid)?);
    let Some(mut tenant) = store.fetch_blocking(TenantOf(tenant_id))? else {
        return Err(AdminError::UnknownTenant(tenant_id));
    };
    tenant.name = change.name.map_or(tenant.name, |n| n.trim().to_owned());
    tenant.accent = accent.or(tenant.accent);
    tenant.logo = logo.or(tenant.logo);
    store.write_blocking(CreateTenant(tenant.clone()))?;
    Ok(tenant)
}

/// Creates a tenant; returns its id. The name must be fit for a mail header. Blocking
/// (admin and start-up paths only).
pub fn create_tenant(store: &Store, name: &str, now: UnixMillis) -> Result<TenantId, AdminError> {
    let tenant = new_tenant(name, now)?;
    let id = tenant.tenant_id;
    store.write_blocking(CreateTenant(tenant))?;
    Ok(id)
}

/// A new tenant record, its name checked (it is the sender name of the tenant's email).
pub fn new_tenant(name: &str, now: UnixMillis) -> Result<Tenant, AdminError> {
    if !name.chars().all(is_name_char) {
        return Err(AdminError::InvalidName(
            "the tenant name must not contain line breaks or other control characters \
             (it is the sender name of the tenant's email)"
                .into(),
        ));
    }
    Ok(Tenant {
        tenant_id: Uuid::new_v4().into(),
        name: name.to_owned(),
        created_at: now,
        accent: None,
        logo: None,
    })
}

/// Creates an API key for an existing tenant; returns the key (shown once, stored hashed).
pub fn create_key(
    store: &Store,
    keys: &HashKeys,
    spec: KeySpec,
    now: UnixMillis,
) -> Result<Secret<String>, AdminError> {
    if store.fetch_blocking(TenantOf(spec.tenant_id))?.is_none() {
        return Err(AdminError::UnknownTenant(spec.tenant_id));
    }
    let (command, key) = new_key(keys, spec, now)?;
    store.write_blocking(command)?;
    Ok(key)
}

/// A new API key: the command that stores it under its hash, and the key itself (to be
/// shown once).
pub fn new_key(
    keys: &HashKeys,
    spec: KeySpec,
    now: UnixMillis,
) -> Result<(CreateApiKey, Secret<String>), AdminError> {
    let key = ApiKey::generate().map_err(AdminError::Random)?;
    let record = ApiKeyRecord {
        key_id: Uuid::new_v4(),
        tenant_id: spec.tenant_id,
        user_id: spec.user_id,
        agent_id: spec.agent_id,
        name: spec.name,
        roles: spec.roles,
        created_at: now,
        revoked_at: None,
        casing: spec.casing,
    };
    let command = CreateApiKey {
        hash: keys.api_key(&key),
        record,
    };
    Ok((command, Secret::new(key.encode())))
}

/// The tenant's keys (without secrets).
pub fn list_keys(store: &Store, tenant_id: TenantId) -> Result<Vec<ApiKeyRecord>, AdminError> {
    if store.fetch_blocking(TenantOf(tenant_id))?.is_none() {
        return Err(AdminError::UnknownTenant(tenant_id));
    }
    Ok(store.fetch_blocking(ApiKeysOf(tenant_id))?)
}

/// Revokes a key by id; revoking twice is harmless.
pub fn revoke_key(store: &Store, key_id: Uuid, now: UnixMillis) -> Result<(), AdminError> {
    match store.write_blocking(RevokeApiKey { key_id, at: now })? {
        false => Err(AdminError::UnknownKey(key_id)),
        true => Ok(()),
    }
}
