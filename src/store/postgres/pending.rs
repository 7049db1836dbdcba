//! TEMPORARY scaffolding on branch e-wire only (never merged): answers every command and query
//! with an error until the real implementations land.
use super::{PgApply, PgFetch};
use crate::store::StoreError;
use crate::store::commands::*;
use crate::store::queries::*;
use tokio_postgres::{Client, Transaction};
macro_rules! pending_cmd { ($($t:ty),*) => {$(
    impl PgApply for $t { async fn apply_pg(&self, _t: &Transaction<'_>) -> Result<Self::Output, StoreError> { Err(StoreError::Io("pending".into())) } }
)*}; }
macro_rules! pending_q { ($($t:ty),*) => {$(
    impl PgFetch for $t { async fn fetch_pg(&self, _c: &Client) -> Result<Self::Output, StoreError> { Err(StoreError::Io("pending".into())) } }
)*}; }
pending_cmd!(
    CreateTenant,
    CreateApiKey,
    RevokeApiKey,
    CreateLink,
    Resend,
    RevokeLink,
    PutContact,
    DeleteContact,
    PurgeRetired,
    LeaseDue,
    RecordAttempt,
    ConsumeGrant,
    IssueOtp,
    LogDenials,
    LogEvent,
    LogLandings,
    OpenLink,
    UnlockLink,
    VerifyOtp
);
impl<C: PgApply> PgApply for Idempotent<C>
where
    Idempotent<C>: Command,
{
    async fn apply_pg(&self, _t: &Transaction<'_>) -> Result<Self::Output, StoreError> {
        Err(StoreError::Io("pending".into()))
    }
}
pending_q!(
    LinkOf,
    LinkByToken,
    LinkWithDeliveries,
    LinkWithContact,
    LinkWithTenantName,
    LandingOf,
    LinksByResource,
    LinksByTenant,
    AccessLogOf,
    ContactOf,
    ContactsOf,
    ApiKeyByHash,
    ApiKeysOf,
    TenantOf,
    TenantCount,
    IdempotencyOf
);
