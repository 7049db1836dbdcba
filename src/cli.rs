//! The command line: `serve` (the default) and the operator's commands. Each admin command
//! prints only its result on stdout so scripts can capture it; messages go to stderr.

use std::io::stdout;
use std::path::PathBuf;
use std::sync::Arc;

use clap::{Args, CommandFactory, FromArgMatches, Parser, Subcommand};
use uuid::Uuid;

use crate::api::AppState;
use crate::app;
use crate::clock::{Clock, SystemClock};
use crate::config::{Config, Overrides, parse_postgres_url};
use crate::domain::tenant::CasingPin;
use crate::domain::token::HashKeys;
use crate::ops;
use crate::ops::admin::{self, KeySpec};
use crate::store::Store;
use crate::wire::types::Guid;

#[derive(Debug, Parser)]
#[command(
    name = "customerlink",
    version,
    about = "Secure customer links: mint, deliver, serve, retire."
)]
pub struct Cli {
    #[command(flatten)]
    pub global: GlobalArgs,
    #[command(subcommand)]
    pub command: Option<Command>,
}

/// Options every command accepts, before or after its own arguments.
#[derive(Debug, Args, Clone, Default)]
pub struct GlobalArgs {
    /// Data folder (created if missing).
    #[arg(long, global = true, env = "CUSTOMERLINK_DATA", value_name = "DIR")]
    pub data: Option<PathBuf>,
    /// TOML config file [default: <data>/customerlink.toml].
    #[arg(long, global = true, env = "CUSTOMERLINK_CONFIG", value_name = "FILE")]
    pub config: Option<PathBuf>,
    /// Address to listen on [default: 127.0.0.1:8080].
    #[arg(long, global = true, env = "CUSTOMERLINK_LISTEN", value_name = "ADDR")]
    pub listen: Option<String>,
    /// Base URL of portal links [default: http://<listen>].
    #[arg(
        long,
        global = true,
        env = "CUSTOMERLINK_PUBLIC_URL",
        value_name = "URL"
    )]
    pub public_url: Option<String>,
    /// error, warn, info, debug or trace [default: info].
    #[arg(
        long,
        global = true,
        env = "CUSTOMERLINK_LOG_LEVEL",
        value_name = "LEVEL"
    )]
    pub log_level: Option<String>,
    /// `redb` (the file in the data folder) or postgres://user:password@host:port/db?sslmode=…
    /// [default: redb].
    #[arg(
        long,
        global = true,
        env = "CUSTOMERLINK_STORE",
        value_name = "STORE",
        hide_env_values = true
    )]
    pub store: Option<String>,
    /// The master secret's file (must exist: 32 bytes) [default: <data>/master.key, created].
    #[arg(
        long,
        global = true,
        env = "CUSTOMERLINK_MASTER_SECRET_FILE",
        value_name = "FILE"
    )]
    pub master_secret_file: Option<PathBuf>,
    /// Development mode: email and SMS kept in the mailbox at /dev/mailbox, not sent;
    /// links hand off to /dev/resource. Loopback addresses only.
    #[arg(long, global = true, env = "CUSTOMERLINK_DEV")]
    pub dev: bool,
    /// Allow development mode on a non-loopback address (the mailbox holds live links).
    #[arg(long, global = true)]
    pub dev_allow_remote: bool,
}

#[derive(Debug, Subcommand)]
pub enum Command {
    /// Run the HTTP service (the default).
    Serve(ServeArgs),
    /// Manage tenants.
    #[command(subcommand)]
    Tenant(TenantCommand),
    /// Manage API keys.
    #[command(subcommand)]
    Key(KeyCommand),
    /// Verify every index against the records (server stopped); exit 1 on any inconsistency.
    Check,
    /// Write a consistent backup of the data folder to FILE (0600; it holds the master
    /// secret). Works while the server runs (through it) or on a stopped data folder.
    Backup {
        #[arg(value_name = "FILE")]
        file: PathBuf,
    },
    /// Recreate a data folder from a backup; --data must name a new or empty folder.
    Restore {
        #[arg(value_name = "FILE")]
        file: PathBuf,
    },
    /// Shrink the database file (server stopped).
    Compact,
    /// Copy the stopped embedded store of --data into an empty PostgreSQL database, then
    /// verify every table's count; exit 1 on a mismatch (nothing is then committed).
    Migrate {
        /// The target: postgres://user:password@host:port/db?sslmode=…
        #[arg(long, value_name = "URL", hide_env_values = true)]
        to: String,
    },
    /// Evidence documents (`GET /v1/customerlink/{uid}/evidence`).
    #[command(subcommand)]
    Evidence(EvidenceCommand),
    /// Print the completion script for SHELL (bash, zsh, fish, elvish, powershell).
    Completions {
        #[arg(value_name = "SHELL")]
        shell: clap_complete::Shell,
    },
    /// Print the man page (roff): every command and flag.
    Man,
}

/// Options of `serve` alone.
#[derive(Debug, Args, Clone, Default)]
pub struct ServeArgs {
    /// Refuse to start on a database of an older format instead of migrating it (by default
    /// it is migrated at start, after a copy of the old file is kept beside it).
    #[arg(long)]
    pub no_migrate: bool,
}

#[derive(Debug, Subcommand)]
pub enum EvidenceCommand {
    /// Check a document's signature and access-log hash chain offline; prints each fault
    /// (FAIL …) and exits 1 if anything fails. Without --key, the key of the master secret of
    /// --data (or --master-secret-file) is used.
    Verify {
        #[arg(value_name = "FILE")]
        file: PathBuf,
        /// The service's public key (base64, as `GET /v1/evidence/key` shows it), or a file
        /// holding it.
        #[arg(long, value_name = "BASE64|FILE")]
        key: Option<String>,
    },
}

#[derive(Debug, Subcommand)]
pub enum TenantCommand {
    /// Create a tenant; prints its id.
    Create {
        #[arg(long)]
        name: String,
    },
    /// Brand a tenant's pages and messages (as `tenant create`, not through the server): its
    /// display name, accent colour (#RRGGBB) and logo (a PNG of at most 256 KiB). Parts not
    /// given stay as they are.
    Set {
        #[arg(value_name = "TENANT_ID", value_parser = parse_guid)]
        tenant: Uuid,
        #[arg(long)]
        name: Option<String>,
        #[arg(long, value_name = "FILE.png")]
        logo: Option<PathBuf>,
        #[arg(long, value_name = "#RRGGBB")]
        accent: Option<String>,
    },
}

#[derive(Debug, Subcommand)]
pub enum KeyCommand {
    /// Create an API key; prints the key (shown only once).
    Create {
        #[arg(long, value_parser = parse_guid)]
        tenant: Uuid,
        #[arg(long, value_parser = parse_guid)]
        user: Uuid,
        #[arg(long)]
        agent: Option<i32>,
        #[arg(long)]
        name: Option<String>,
        #[arg(long = "role")]
        roles: Vec<String>,
        /// Pin the reply casing of this key's requests (`camel` or `pascal`); without it the
        /// casing is decided per request (README "Wire compatibility").
        #[arg(long, value_parser = parse_casing)]
        casing: Option<CasingPin>,
    },
    /// List a tenant's keys: id, user, state, name, roles, casing (`auto` when not pinned).
    List {
        #[arg(long, value_parser = parse_guid)]
        tenant: Uuid,
    },
    /// Revoke a key by its id; while a server runs, through it (refused at once).
    Revoke {
        #[arg(value_parser = parse_guid)]
        key_id: Uuid,
    },
}

fn parse_casing(text: &str) -> Result<CasingPin, String> {
    CasingPin::parse(text).ok_or_else(|| format!("expected camel or pascal, not {text:?}"))
}

fn parse_guid(text: &str) -> Result<Uuid, String> {
    Guid::parse(text)
        .map(|g| g.0)
        .ok_or_else(|| format!("'{text}' is not a Guid"))
}

impl GlobalArgs {
    fn overrides(&self) -> Overrides {
        Overrides {
            listen: self.listen.clone(),
            data: self.data.clone(),
            public_url: self.public_url.clone(),
            config: self.config.clone(),
            log_level: self.log_level.clone(),
            store: self.store.clone(),
            master_secret_file: self.master_secret_file.clone(),
            dev: self.dev,
            dev_allow_remote: self.dev_allow_remote,
        }
    }
}

/// What `backup`, `restore` and `compact` answer on a PostgreSQL store.
const POSTGRES_FILES: &str = "the store is PostgreSQL: back it up, restore and compact it with \
    PostgreSQL's own tools (pg_dump / pg_restore, or base backups with WAL archiving; VACUUM)";

/// Runs the command line; returns the process exit code.
pub fn main() -> i32 {
    let cli = parse();
    match cli.command {
        Some(Command::Completions { shell }) => {
            return printed(crate::manual::completions(
                shell,
                Cli::command(),
                &mut stdout(),
            ));
        }
        Some(Command::Man) => {
            return printed(crate::manual::man_page(Cli::command(), &mut stdout()));
        }
        _ => {}
    }
    let mut config = match Config::load(cli.global.overrides()) {
        Ok(config) => config,
        Err(errors) => {
            for e in errors {
                eprintln!("customerlink: config: {e}");
            }
            return 2;
        }
    };
    crate::logging::init(config.log_level);
    let result = match cli.command.unwrap_or(Command::Serve(ServeArgs::default())) {
        Command::Serve(args) => {
            config.migrate = !args.no_migrate;
            serve(config)
        }
        Command::Tenant(cmd) => with_state(config, |state| tenant(&state.store, cmd)),
        Command::Key(KeyCommand::Revoke { key_id }) => revoke_key(config, key_id),
        Command::Key(cmd) => with_state(config, |state| key(&state.store, &state.keys, cmd)),
        Command::Check => with_state(config, |state| check(&state.store, &state.keys)),
        Command::Backup { .. } | Command::Restore { .. } | Command::Compact
            if !config.store.is_embedded() =>
        {
            Err(POSTGRES_FILES.to_owned())
        }
        Command::Backup { file } => backup(&config, &file),
        Command::Restore { file } => restore(&config, &file),
        Command::Compact => compact(&config),
        Command::Migrate { to } => migrate(&config, &to),
        Command::Evidence(EvidenceCommand::Verify { file, key }) => {
            ops::evidence::verify_file(&config, &file, key.as_deref())
        }
        Command::Completions { .. } | Command::Man => Ok(0),
    };
    match result {
        Ok(code) => code,
        Err(message) => {
            eprintln!("customerlink: {message}");
            1
        }
    }
}

/// The command line, with the long `--version` text (commit and storage formats) that clap's
/// derive cannot compute.
fn parse() -> Cli {
    let matches = Cli::command()
        .long_version(crate::manual::long_version())
        .get_matches();
    Cli::from_arg_matches(&matches).unwrap_or_else(|e| e.exit())
}

/// The exit code of a command that only prints: 1 (said on stderr) if stdout failed.
fn printed(result: std::io::Result<()>) -> i32 {
    match result {
        Ok(()) => 0,
        Err(e) => {
            eprintln!("customerlink: cannot write to stdout: {e}");
            1
        }
    }
}

fn serve(config: Config) -> Result<i32, String> {
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .map_err(|e| e.to_string())?;
    runtime.block_on(async {
        // Before anything can tell the world the server is up, so a SIGTERM sent as soon as
        // it answers always finds the handler (the default action would kill the process).
        let shutdown = shutdown_signal();
        let listener = tokio::net::TcpListener::bind(config.listen)
            .await
            .map_err(|e| format!("cannot listen on {}: {e}", config.listen))?;
        app::run(config, Arc::new(SystemClock), listener, shutdown)
            .await
            .map_err(|e| e.to_string())
    })?;
    Ok(0)
}

/// Registers the SIGINT and SIGTERM handlers now (inside the runtime) and returns what
/// completes on the first of them. Registering lazily, on the future's first poll, would leave
/// a window in which a signal still has its default, fatal effect.
fn shutdown_signal() -> impl std::future::Future<Output = ()> {
    #[cfg(unix)]
    {
        use tokio::signal::unix::{SignalKind, signal};
        let term = signal(SignalKind::terminate()).ok();
        let int = signal(SignalKind::interrupt()).ok();
        async move {
            match (term, int) {
                (Some(mut term), Some(mut int)) => {
                    tokio::select! {
                        _ = term.recv() => {}
                        _ = int.recv() => {}
                    }
                }
                _ => {
                    let _ = tokio::signal::ctrl_c().await;
                }
            }
        }
    }
    #[cfg(not(unix))]
    async {
        let _ = tokio::signal::ctrl_c().await;
    }
}

/// Opens the data folder for an admin command: an older database is refused, not migrated
/// (`serve` migrates it, keeping a copy first).
fn with_state(
    mut config: Config,
    f: impl FnOnce(&AppState) -> Result<i32, String>,
) -> Result<i32, String> {
    config.migrate = false;
    // The SMTP transport's connection pool needs a runtime to exist, even if unused here.
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .map_err(|e| e.to_string())?;
    let _context = runtime.enter();
    let state = AppState::open(config, Arc::new(SystemClock)).map_err(|e| e.to_string())?;
    let result = f(&state);
    state.close();
    result
}

fn tenant(store: &Store, cmd: TenantCommand) -> Result<i32, String> {
    match cmd {
        TenantCommand::Create { name } => {
            let now = SystemClock.now();
            let id = admin::create_tenant(store, &name, now).map_err(|e| e.to_string())?;
            println!("{}", id.simple());
        }
        TenantCommand::Set {
            tenant,
            name,
            logo,
            accent,
        } => {
            let logo = logo.map(|path| read_logo(&path)).transpose()?;
            let change = admin::BrandChange { name, accent, logo };
            let t = admin::set_tenant(store, tenant.into(), change).map_err(|e| e.to_string())?;
            let logo = t.logo.as_ref().map_or(0, |l| l.bytes().len());
            let accent = t.accent.as_deref().unwrap_or("default");
            println!(
                "{} name {:?} accent {accent} logo {logo} bytes",
                tenant.simple(),
                t.name
            );
        }
    }
    Ok(0)
}

/// A logo file's bytes, refused unread when it is larger than the cap.
fn read_logo(path: &std::path::Path) -> Result<Vec<u8>, String> {
    let cap = crate::domain::brand::MAX_LOGO_BYTES;
    let what = |e: std::io::Error| format!("{}: {e}", path.display());
    let len = std::fs::metadata(path).map_err(what)?.len();
    if len > cap as u64 {
        return Err(format!(
            "{}: the logo is {len} bytes; at most {cap} (256 KiB) are accepted",
            path.display()
        ));
    }
    std::fs::read(path).map_err(what)
}

fn key(store: &Store, keys: &HashKeys, cmd: KeyCommand) -> Result<i32, String> {
    let now = SystemClock.now();
    match cmd {
        KeyCommand::Create {
            tenant,
            user,
            agent,
            name,
            roles,
            casing,
        } => {
            let spec = KeySpec {
                tenant_id: tenant.into(),
                user_id: user.into(),
                agent_id: agent,
                name,
                roles,
                casing,
            };
            let key = admin::create_key(store, keys, spec, now).map_err(|e| e.to_string())?;
            println!("{}", key.expose());
        }
        KeyCommand::List { tenant } => {
            for k in admin::list_keys(store, tenant.into()).map_err(|e| e.to_string())? {
                let state = if k.revoked_at.is_some() {
                    "revoked"
                } else {
                    "active"
                };
                let name = k.name.unwrap_or_default();
                println!(
                    "{}\t{}\t{state}\t{name}\t{}\t{}",
                    k.key_id.simple(),
                    k.user_id.simple(),
                    k.roles.join(","),
                    k.casing.map_or("auto", CasingPin::name)
                );
            }
        }
        KeyCommand::Revoke { key_id } => {
            admin::revoke_key(store, key_id, now).map_err(|e| e.to_string())?;
            println!("{}", key_id.simple());
        }
    }
    Ok(0)
}

/// Through the running server if one holds the data folder (effective at once), else
/// directly on the stopped folder.
fn revoke_key(config: Config, key_id: Uuid) -> Result<i32, String> {
    match ops::revoke_key_online(&config, key_id).map_err(|e| e.to_string())? {
        Some(addr) => {
            eprintln!("key revoked by the server at {addr}; it is refused from now on");
            println!("{}", key_id.simple());
            Ok(0)
        }
        None => with_state(config, |state| {
            key(&state.store, &state.keys, KeyCommand::Revoke { key_id })
        }),
    }
}

fn check(store: &Store, keys: &HashKeys) -> Result<i32, String> {
    let mut report = store.check().map_err(|e| e.to_string())?;
    let (attachments, problems) = tokio::runtime::Handle::current()
        .block_on(store.check_attachments(&keys.attachment_wrap()))
        .map_err(|e| e.to_string())?;
    report.problems.extend(problems);
    println!(
        "tenants {} api_keys {} contacts {} links {} revoked {} deliveries {} idempotency_keys {} attachments {attachments}",
        report.tenants,
        report.api_keys,
        report.contacts,
        report.links,
        report.revoked_links,
        report.deliveries,
        report.idempotency_keys
    );
    for problem in &report.problems {
        println!("PROBLEM {problem}");
    }
    Ok(if report.is_consistent() { 0 } else { 1 })
}

fn backup(config: &Config, file: &std::path::Path) -> Result<i32, String> {
    let (summary, via) =
        ops::backup_folder(config, file, SystemClock.now()).map_err(|e| e.to_string())?;
    let via = match via {
        ops::Via::Offline => "read directly (no server running)".to_owned(),
        ops::Via::Server(addr) => format!("streamed by the server at {addr}"),
    };
    eprintln!(
        "backup: {} entries, {} attachment files, {} bytes, {via}; verified. It holds the master secret: keep it private.",
        summary.entries, summary.attachments, summary.bytes
    );
    println!("{}", file.display());
    Ok(0)
}

fn restore(config: &Config, file: &std::path::Path) -> Result<i32, String> {
    let mut progress = |done: u64, total: u64| eprintln!("restore: {done}/{total} entries");
    let report = ops::restore::restore(file, &config.data_dir, &config.writer, &mut progress)
        .map_err(|e| e.to_string())?;
    println!(
        "restored into {}: tenants {} api_keys {} contacts {} links {}",
        config.data_dir.display(),
        report.tenants,
        report.api_keys,
        report.contacts,
        report.links
    );
    Ok(0)
}

fn migrate(config: &Config, to: &str) -> Result<i32, String> {
    // The problem never quotes the URL: it may hold the password.
    let to = parse_postgres_url(to).map_err(|problem| format!("--to {problem}"))?;
    let m = ops::migrate::migrate(config, &to).map_err(|e| e.to_string())?;
    for c in &m.counts {
        let verdict = if c.matches() { "ok" } else { "MISMATCH" };
        let skipped = match c.skipped {
            0 => String::new(),
            n => format!(" ({n} of purged links not copied)"),
        };
        println!(
            "{} redb {} postgres {} {verdict}{skipped}",
            c.table, c.redb, c.postgres
        );
    }
    if !m.committed {
        return Err(format!(
            "the counts differ: the copy into {to} was rolled back, nothing was written"
        ));
    }
    eprintln!(
        "migrate: copied into {to} and verified; the next link id is {}.\n\
         The copied tokens are keyed with the master secret {}: point every instance at it \
         (master_secret_file = \"{}\" in the config, or CUSTOMERLINK_MASTER_SECRET_FILE) \
         and set store to the database URL.",
        m.next_link_id,
        m.master_secret.display(),
        m.master_secret.display()
    );
    Ok(0)
}

fn compact(config: &Config) -> Result<i32, String> {
    let c = ops::compact::compact(&config.database_path()).map_err(|e| e.to_string())?;
    println!(
        "compacted in {} rounds: {} -> {} bytes",
        c.rounds, c.before, c.after
    );
    Ok(0)
}
