//! store::postgres: the PostgreSQL backend of the storage contract, for several instances
//! sharing one database. Every command ([`PgApply`], `commands/`) runs in a transaction of its
//! own and takes the rows it decides on `FOR UPDATE`, so budgets stay exact across instances;
//! every query ([`PgFetch`], `queries.rs`) is one statement. The pool is built from the typed
//! [`PgSettings`] (TLS by rustls, timeouts, size) and lives on a runtime of its own
//! ([`Remote`]); the versioned schema is embedded and migrated at start under a lock.
//! Knows nothing of HTTP.
//!
//! Faults: a broken connection is dropped by the pool when it is next handed out (its socket
//! is closed), and a new one is made on demand, so after PostgreSQL restarts the same pool
//! serves again by itself; meanwhile callers get [`StoreError::Unavailable`].

pub mod access_log;
mod check;
mod commands;
mod contract;
mod fault;
mod first_start;
pub mod import;
pub mod migrate;
pub mod outbox;
mod queries;
pub mod records;
mod remote;
pub mod rows;
mod tls;
pub mod webhooks;

use std::time::Duration;

use deadpool_postgres::{Manager, ManagerConfig, Pool, RecyclingMethod, Runtime};
use tokio_postgres::NoTls;
use tokio_postgres::config::SslMode;

pub use contract::{PgApply, PgFetch};
pub use fault::{describe, from_pg, from_pool, unique_violation};
pub use migrate::{LOCK_KEY, MIGRATIONS, Migrated, Migration, latest, run_steps};
pub use remote::Remote;

use crate::config::{PgSettings, PgSslMode};
use crate::store::StoreError;

/// A pooled connection; derefs to [`tokio_postgres::Client`].
pub type PgClient = deadpool_postgres::Object;

/// The pool of one instance; cheap to clone.
#[derive(Clone)]
pub struct PgStore {
    pool: Pool,
    /// The URL without its password, for messages.
    location: String,
}

impl PgStore {
    /// Builds the pool without connecting (connections are made on first use).
    pub fn new(settings: &PgSettings) -> Result<PgStore, StoreError> {
        let config = driver_config(settings);
        let manager_config = ManagerConfig {
            recycling_method: RecyclingMethod::Fast,
        };
        let manager = match tls::connector(settings)? {
            None => Manager::from_config(config, NoTls, manager_config),
            Some(tls) => Manager::from_config(config, tls, manager_config),
        };
        let wait = Some(settings.connect_timeout);
        let pool = Pool::builder(manager)
            .max_size(settings.pool_size)
            .runtime(Runtime::Tokio1)
            .wait_timeout(wait)
            .create_timeout(wait)
            .recycle_timeout(wait)
            .build()
            .map_err(|e| StoreError::Io(format!("postgres pool: {e}")))?;
        Ok(PgStore {
            pool,
            location: settings.to_string(),
        })
    }

    /// Start-up: builds the pool, connects, and brings the schema to this build's version.
    /// Fails with a message naming the server (never the password) if it cannot, and with
    /// [`StoreError::Corrupt`] on a schema newer than this build knows.
    pub async fn connect(settings: &PgSettings) -> Result<(PgStore, Migrated), StoreError> {
        let store = PgStore::new(settings)?;
        let mut client = store.pool.get().await.map_err(|e| {
            StoreError::Io(format!("PostgreSQL {}: {}", store.location, describe(&e)))
        })?;
        let migrated = migrate::run_steps(&mut client, MIGRATIONS)
            .await
            .map_err(|e| store.at_start(e))?;
        drop(client);
        Ok((store, migrated))
    }

    /// A connection from the pool; [`StoreError::Unavailable`] if none can be had within
    /// the connect timeout.
    pub async fn client(&self) -> Result<PgClient, StoreError> {
        self.pool.get().await.map_err(|e| fault::from_pool(&e))
    }

    /// Applies the embedded migrations (see `migrate.rs`).
    pub async fn migrate(&self) -> Result<Migrated, StoreError> {
        let mut client = self.client().await?;
        migrate::run_steps(&mut client, MIGRATIONS).await
    }

    /// The version recorded in `schema_version` (0 before the first migration).
    pub async fn schema_version(&self) -> Result<i32, StoreError> {
        let client = self.client().await?;
        let row = client
            .query_one("SELECT coalesce(max(version), 0) FROM schema_version", &[])
            .await
            .map_err(|e| fault::from_pg(&e))?;
        Ok(row.get(0))
    }

    /// One round trip, for readiness: `Ok` means a query can run now.
    pub async fn ping(&self) -> Result<(), StoreError> {
        let client = self.client().await?;
        client
            .simple_query("SELECT 1")
            .await
            .map_err(|e| fault::from_pg(&e))?;
        Ok(())
    }

    /// Connections open now and idle now (for metrics).
    pub fn pool_status(&self) -> (usize, usize) {
        let status = self.pool.status();
        (status.size, status.available)
    }

    /// A migration that failed at start says where; an unreachable server is no retryable
    /// answer to anyone at start, so it becomes a plain error.
    fn at_start(&self, e: StoreError) -> StoreError {
        match e {
            StoreError::Unavailable { .. } => StoreError::Io(format!(
                "PostgreSQL {}: connection lost or server shutting down during the schema \
                 migration",
                self.location
            )),
            StoreError::Io(detail) => {
                StoreError::Io(format!("PostgreSQL {}: {detail}", self.location))
            }
            other => other,
        }
    }
}

/// The driver's configuration, built field by field (the URL text never reaches the driver).
fn driver_config(s: &PgSettings) -> tokio_postgres::Config {
    let mut config = tokio_postgres::Config::new();
    config
        .host(&s.host)
        .port(s.port)
        .user(&s.user)
        .dbname(&s.dbname)
        .application_name("customerlink")
        .connect_timeout(s.connect_timeout)
        .keepalives(true)
        .keepalives_idle(Duration::from_secs(30))
        .options(format!(
            "-c statement_timeout={}",
            s.statement_timeout.as_millis()
        ))
        .ssl_mode(match s.ssl_mode {
            PgSslMode::Disable => SslMode::Disable,
            PgSslMode::Prefer => SslMode::Prefer,
            PgSslMode::Require | PgSslMode::VerifyFull => SslMode::Require,
        });
    if let Some(password) = &s.password {
        config.password(password.expose().as_bytes());
    }
    config
}
