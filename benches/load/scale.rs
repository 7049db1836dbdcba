//! `cargo bench --bench load -- --store postgres://user:pass@host/db`: the PostgreSQL store
//! beside the embedded one, with one and with two instances on the same database, driven by
//! the same load generator: reads (GET by uid, portal landing) and durable writes (create,
//! portal open). The database must be one the bench may empty: each setup starts from an
//! empty schema. Two instances share the connections half and half; their latency columns
//! show the worse of the two.

use std::fmt::Write as _;
use std::path::{Path, PathBuf};
use std::sync::Arc;

use customerlink::config::parse_postgres_url;
use customerlink::store::postgres::PgStore;

use crate::client::{self, MakeRequest, Outcome};
use crate::seed;
use crate::server::Process;
use crate::{Options, load_config, ms, ops};

/// The operations measured per setup (names of [`ops`]).
const MEASURED: [&str; 4] = [
    "get by UID",
    "portal landing (GET)",
    "create (durable)",
    "portal open (durable)",
];

/// One measured operation of one setup.
struct ScaleRow {
    setup: &'static str,
    op: &'static str,
    outcome: Outcome,
}

/// Runs the three setups and returns their Markdown table.
pub fn run(
    o: &Options,
    url: &str,
    base: &Path,
    runtime: &tokio::runtime::Runtime,
) -> Result<String, String> {
    let n = o.sizes.first().copied().unwrap_or(10_000);
    let secret = base.join("shared-master.key");
    let mut key = [0u8; 32];
    getrandom::fill(&mut key).map_err(|e| e.to_string())?;
    std::fs::write(&secret, key).map_err(|e| e.to_string())?;
    let mut rows = Vec::new();
    for (setup, store, instances) in [
        ("embedded, 1 instance", None, 1),
        ("PostgreSQL, 1 instance", Some(url), 1),
        ("PostgreSQL, 2 instances", Some(url), 2),
    ] {
        if let Some(url) = store {
            empty_database(url)?;
        }
        let dirs = (0..instances)
            .map(|i| folder(base, setup, i, store, &secret))
            .collect::<Result<Vec<_>, _>>()?;
        eprintln!("{setup}: seeding {n} links …");
        let seeded = Arc::new(seed::build(load_config(&dirs[0])?, n)?);
        let servers = dirs
            .iter()
            .map(|d| Process::customerlink(d))
            .collect::<Result<Vec<_>, _>>()?;
        for (name, expect, build) in ops().into_iter().filter(|op| MEASURED.contains(&op.0)) {
            eprintln!("{setup}: {name} …");
            let per = (o.connections / servers.len()).max(1);
            let runs = servers.iter().enumerate().map(|(k, server)| {
                let s = Arc::clone(&seeded);
                // Each instance gets its own request numbers (creates stay distinct).
                let offset = k as u64 * 1_000_000_000;
                let make: MakeRequest = Arc::new(move |i| build(&s, i + offset));
                client::run(server.addr, make, expect, per, o.warmup, o.duration)
            });
            let outcomes = runtime.block_on(futures_util::future::join_all(runs));
            rows.push(ScaleRow {
                setup,
                op: name,
                outcome: combined(&outcomes),
            });
        }
        for server in servers {
            server.stop()?;
        }
    }
    Ok(report(n, o.connections, &rows))
}

/// A data folder for instance `i` of a setup, its config naming the store and the shared key.
fn folder(
    base: &Path,
    setup: &str,
    i: usize,
    store: Option<&str>,
    secret: &Path,
) -> Result<PathBuf, String> {
    let name: String = setup.chars().filter(char::is_ascii_alphanumeric).collect();
    let dir = base.join(format!("{name}-{i}"));
    std::fs::create_dir_all(&dir).map_err(|e| e.to_string())?;
    let mut text = String::new();
    if let Some(url) = store {
        let _ = writeln!(text, "store = {url:?}");
        let _ = writeln!(
            text,
            "master_secret_file = {:?}",
            secret.display().to_string()
        );
    }
    text.push_str("[portal]\nrequests_per_minute = 1000000000\n");
    std::fs::write(dir.join("customerlink.toml"), text).map_err(|e| e.to_string())?;
    Ok(dir)
}

/// Drops everything in the database's `public` schema, so each setup starts empty.
fn empty_database(url: &str) -> Result<(), String> {
    let settings = parse_postgres_url(url)?;
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .map_err(|e| e.to_string())?;
    runtime.block_on(async {
        let pg = PgStore::new(&settings).map_err(|e| e.to_string())?;
        let client = pg.client().await.map_err(|e| e.to_string())?;
        client
            .batch_execute("DROP SCHEMA public CASCADE; CREATE SCHEMA public;")
            .await
            .map_err(|e| e.to_string())
    })
}

/// The runs against several instances as one: requests/s add up; latency is the worse.
fn combined(outcomes: &[Outcome]) -> Outcome {
    outcomes.iter().fold(Outcome::default(), |acc, o| Outcome {
        per_sec: acc.per_sec + o.per_sec,
        p50: acc.p50.max(o.p50),
        p99: acc.p99.max(o.p99),
        p999: acc.p999.max(o.p999),
        errors: acc.errors + o.errors,
        sent: acc.sent + o.sent,
    })
}

fn report(n: u64, connections: usize, rows: &[ScaleRow]) -> String {
    let mut out = String::new();
    let _ = writeln!(
        out,
        "## Scaling out: {n} links, {connections} connections in all\n\n\
         | setup | operation | requests/s | p50 | p99 | errors |\n|---|---|---:|---:|---:|---:|"
    );
    for r in rows {
        let o = &r.outcome;
        let _ = writeln!(
            out,
            "| {} | {} | {:.0} | {} | {} | {} |",
            r.setup,
            r.op,
            o.per_sec,
            ms(o.p50),
            ms(o.p99),
            o.errors
        );
    }
    out
}
