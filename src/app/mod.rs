//! app: composition. Opens the data folder (master secret, policy, database, migrating an
//! older file first: `upgrade`), creates the first tenant and key on an empty folder, runs
//! the HTTP server and background jobs (each handed only the narrow handles it uses), publishes the operator key and address while the
//! server runs, and on shutdown stops them in order so the database is closed cleanly.

mod bootstrap;
mod secrets;
pub mod upgrade;

use std::future::Future;
use std::net::SocketAddr;
use std::path::PathBuf;
use std::sync::Arc;

use tokio::net::TcpListener;

use crate::clock::Clock;
use crate::config::{Config, StoreLocation};
use crate::domain::policy::{DEFAULT_POLICY, Policy};
use crate::domain::token::HashKeys;
use crate::jobs::{self, Handles, Job};
use crate::ops::admin::AdminError;
use crate::store::{Store, StoreError, WriterObserver};

pub use bootstrap::INITIAL_KEY_FILE;

pub use crate::api::AppState;

/// Why the service could not start (or an admin command could not open the data folder).
#[derive(Debug, thiserror::Error)]
pub enum StartError {
    #[error("{}: {error}", path.display())]
    Io {
        path: PathBuf,
        error: std::io::Error,
    },
    #[error("policy {path}: {error}")]
    Policy { path: String, error: String },
    #[error(transparent)]
    Store(#[from] StoreError),
    #[error("random source: {0}")]
    Random(getrandom::Error),
    #[error("delivery: {0}")]
    Delivery(String),
    #[error("master secret {}: {problem}", path.display())]
    MasterSecret { path: PathBuf, problem: String },
    #[error(
        "development mode keeps live links and passcodes in its mailbox and shows them at /dev/mailbox: \
         it listens only on a loopback address, not {0} (pass --dev-allow-remote to force it)"
    )]
    DevRemote(SocketAddr),
    /// The database's format is older than this build's and cannot or may not be migrated.
    #[error("{0}")]
    Upgrade(String),
}

/// An admin command run by the first-start bootstrap fails start-up with its store error.
impl From<AdminError> for StartError {
    fn from(e: AdminError) -> Self {
        match e {
            AdminError::Store(e) => StartError::Store(e),
            AdminError::Random(e) => StartError::Random(e),
            other => StartError::Store(StoreError::Corrupt(other.to_string())),
        }
    }
}

/// The keys of a data folder's master secret, read and never created (a verifying tool must
/// not mint a secret nobody signed with). Fails if the secret is missing or unreadable.
pub fn existing_keys(config: &Config) -> Result<HashKeys, StartError> {
    let path = config
        .master_secret_file
        .clone()
        .unwrap_or_else(|| config.master_secret_path());
    Ok(HashKeys::derive(&secrets::load_named(&path)?))
}

/// Opening and closing live here, with the rest of start-up; the struct itself is the
/// request path's (`api::state`).
impl AppState {
    /// Opens the data folder: creates it if missing (0700, or tightens it to 0700), loads (or creates) the master secret,
    /// loads the policy and opens the database. Fails at once if the database is in use.
    pub fn open(config: Config, clock: Arc<dyn Clock>) -> Result<AppState, StartError> {
        crate::private_fs::dir(&config.data_dir).map_err(|error| StartError::Io {
            path: config.data_dir.clone(),
            error,
        })?;
        let master = match &config.master_secret_file {
            Some(path) => secrets::load_named(path)?,
            None => secrets::load_or_create(&config.master_secret_path())?,
        };
        let mut policy = load_policy(&config)?;
        if config.dev {
            let built_in = !config.policy_file.exists();
            policy.hand_off_to(&dev_resource_url(&config.public_url), built_in);
        }
        let metrics = crate::metrics::Metrics::new();
        let deliverer =
            crate::delivery::Deliverer::from_config(&config).map_err(StartError::Delivery)?;
        let observer = Arc::new(WriterReports {
            stats: Arc::clone(&metrics.writer),
            outbox_wake: Arc::clone(&deliverer.wake),
        });
        upgrade::prepare(&config)?;
        let store = open_store(&config, observer)?;
        let openapi = crate::api::openapi::document(&config.public_url)
            .to_string()
            .into();
        let keys = HashKeys::derive(&master);
        let outbox = crate::delivery::outbox::Outbox {
            store: store.clone(),
            clock: Arc::clone(&clock),
            keys: keys.clone(),
            deliverer: Arc::new(deliverer),
            stats: Arc::clone(&metrics.delivery),
            public_url: config.public_url.as_str().into(),
            retry: crate::delivery::outbox::retry_policy(&config.delivery),
        };
        Ok(AppState {
            portal_limits: crate::api::portal::PortalLimits::new(&config.portal),
            reissues: Default::default(),
            key_cache: key_cache(&config.store),
            metrics,
            openapi,
            outbox,
            keys,
            config,
            store,
            clock,
            policy,
        })
    }

    /// Stops the writer after queued writes and closes the database cleanly. The other
    /// handles on the store (the outbox's) are dropped first, or the close would be refused.
    pub fn close(self) {
        let store = self.store.clone();
        drop(self);
        store.shutdown();
        if let Err(e) = store.close() {
            tracing::warn!(error = %e, "database not closed cleanly; the next start will repair it");
        }
    }
}

/// Where the store's writer reports: each commit to the metrics, and a commit that queued
/// deliveries due at once (a webhook event, a passcode) to the outbox worker's doorbell, so
/// they go out now rather than at the worker's next interval.
struct WriterReports {
    stats: Arc<crate::metrics::WriterStats>,
    outbox_wake: Arc<tokio::sync::Notify>,
}

impl WriterObserver for WriterReports {
    fn record_commit(&self, batch_len: usize, elapsed: std::time::Duration, committed: bool) {
        self.stats.record_commit(batch_len, elapsed, committed);
    }

    fn deliveries_queued(&self) {
        self.outbox_wake.notify_one();
    }
}

/// The embedded file in the data folder, or the PostgreSQL database the config names
/// (connected, its schema migrated).
fn open_store(config: &Config, observer: Arc<dyn WriterObserver>) -> Result<Store, StartError> {
    match &config.store {
        StoreLocation::Redb => Ok(Store::open_observed(
            &config.database_path(),
            &config.writer,
            observer,
        )?),
        StoreLocation::Postgres(settings) => {
            let (store, migrated) = Store::connect_observed(settings, observer)?;
            if migrated.from != migrated.to {
                tracing::info!(
                    from = migrated.from,
                    to = migrated.to,
                    "PostgreSQL schema migrated"
                );
            }
            Ok(store)
        }
    }
}

/// API keys this process looked up are trusted until revoked through it on the embedded
/// store; on a shared database, where a revocation may come from another instance, for
/// `postgres.key_cache_secs` at most.
fn key_cache(store: &StoreLocation) -> crate::api::auth::KeyCache {
    match store {
        StoreLocation::Redb => crate::api::auth::KeyCache::default(),
        StoreLocation::Postgres(settings) => {
            crate::api::auth::KeyCache::expiring(settings.key_cache)
        }
    }
}

/// The hand-off URL template of dev mode's stand-in resource application.
fn dev_resource_url(public_url: &str) -> String {
    format!(
        "{public_url}/dev/resource?type={{ResourceType}}&uid={{ResourceUid}}&tenant={{TenantId}}"
    )
}

/// Dev mode on a non-loopback address is refused unless forced; either way it says so loudly.
fn check_dev(config: &Config, bound: SocketAddr) -> Result<(), StartError> {
    if !config.dev {
        return Ok(());
    }
    if !bound.ip().is_loopback() && !config.dev_allow_remote {
        return Err(StartError::DevRemote(bound));
    }
    tracing::warn!(
        mailbox = %config.dev_mailbox_path().display(),
        "DEVELOPMENT MODE: email and SMS are NOT sent; they are kept in the mailbox at /dev/mailbox (links and passcodes in clear). Never use this mode in production."
    );
    if !bound.ip().is_loopback() {
        tracing::warn!(address = %bound, "DEVELOPMENT MODE on a non-loopback address (--dev-allow-remote): anyone who can reach it can read the mailbox");
    }
    Ok(())
}

fn load_policy(config: &Config) -> Result<Policy, StartError> {
    let (name, text) = match std::fs::read_to_string(&config.policy_file) {
        Ok(text) => (config.policy_file.display().to_string(), text),
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => {
            ("(built-in default)".to_owned(), DEFAULT_POLICY.to_owned())
        }
        Err(error) => {
            return Err(StartError::Io {
                path: config.policy_file.clone(),
                error,
            });
        }
    };
    Policy::parse(&text).map_err(|error| StartError::Policy { path: name, error })
}

/// Starts the background jobs, each with only the handles it uses.
fn spawn_jobs(state: &AppState) -> [Job; 4] {
    let handles = Handles {
        store: state.store.clone(),
        clock: Arc::clone(&state.clock),
        panics: Arc::clone(&state.metrics.jobs),
    };
    let purge_stats = Arc::clone(&state.metrics.purge);
    let purge = jobs::purge::spawn(
        handles.clone(),
        state.config.purge.clone(),
        state.config.attachments.retention_ms,
        purge_stats,
    );
    let delivery = &state.config.delivery;
    let outbox = jobs::outbox::spawn(state.outbox.clone(), delivery, Arc::clone(&handles.panics));
    let views = Arc::clone(&state.portal_limits.landing_views);
    let portal_stats = Arc::clone(&state.metrics.portal);
    let reissue = jobs::reissue::spawn(reissuer(state), Arc::clone(&handles.panics));
    let landing_log = jobs::landing_log::spawn(handles, views, portal_stats);
    [landing_log, reissue, outbox, purge]
}

/// What the re-issue job needs: its own copies of the handles (the policy never changes).
fn reissuer(state: &AppState) -> crate::api::portal::reissue::Reissuer {
    let portal = &state.config.portal;
    let capacity = crate::api::limits::Capacity {
        max_keys: portal.limiter_max_keys,
        keys_per_client: u32::MAX,
    };
    let per_link = portal.reissues_per_link_per_hour;
    crate::api::portal::reissue::Reissuer {
        store: state.store.clone(),
        clock: Arc::clone(&state.clock),
        keys: state.keys.clone(),
        policy: state.policy.clone(),
        outbox: state.outbox.clone(),
        delivery: state.config.delivery.clone(),
        requests: Arc::clone(&state.reissues),
        per_link: crate::api::limits::Limiter::new(per_link, crate::domain::HOUR_MS, capacity),
    }
}

/// Serves with the operator key and the bound address published in the data folder (for
/// `customerlink backup`); withdraws them once the server has stopped.
async fn serve_published(
    state: &Arc<AppState>,
    listener: TcpListener,
    bound: SocketAddr,
    shutdown: impl Future<Output = ()>,
) {
    let data_dir = &state.config.data_dir;
    // Before any upload can start: what a crash left (temp files, files whose record never
    // committed or was deleted) goes.
    match state.store.sweep_attachments().await {
        Ok(0) => {}
        Ok(removed) => tracing::info!(removed, "removed attachment files no record names"),
        Err(e) => tracing::warn!(error = %e, "attachment sweep failed"),
    }
    if let Err(e) = crate::ops::operator::publish(data_dir, bound) {
        tracing::warn!(error = %e, "no operator key written; `customerlink backup` cannot reach this server");
    }
    crate::http::serve(listener, Arc::clone(state), shutdown).await;
    crate::ops::operator::withdraw(data_dir);
}

/// Runs the service on `listener` until `shutdown` completes, then stops cleanly.
pub async fn run(
    config: Config,
    clock: Arc<dyn Clock>,
    listener: TcpListener,
    shutdown: impl Future<Output = ()>,
) -> Result<(), StartError> {
    let mut config = config;
    let bound = listener.local_addr().map_err(|error| StartError::Io {
        path: PathBuf::from(config.listen.to_string()),
        error,
    })?;
    if config.public_url_from_listen {
        config.public_url = format!("http://{bound}");
    }
    check_dev(&config, bound)?;
    let state = tokio::task::block_in_place(|| AppState::open(config, clock))?;
    if let Some(path) = tokio::task::block_in_place(|| bootstrap::first_start(&state))? {
        tracing::info!(file = %path.display(), "first start: created a tenant and an API key; the key is in this file");
    }
    tracing::info!(address = %bound, data = %state.config.data_dir.display(), "customerlink listening");
    let state = Arc::new(state);
    let jobs = spawn_jobs(&state);
    serve_published(&state, listener, bound, shutdown).await;
    for job in jobs {
        job.stop().await;
    }
    match Arc::try_unwrap(state) {
        Ok(state) => tokio::task::block_in_place(|| state.close()),
        Err(state) => {
            tracing::warn!("state still shared at shutdown; stopping the writer only");
            tokio::task::block_in_place(|| state.store.shutdown());
        }
    }
    tracing::info!("customerlink stopped");
    Ok(())
}
