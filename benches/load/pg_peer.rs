//! The usual alternative's floor: PostgreSQL (a throwaway cluster in a temp folder, `fsync`
//! on, as `initdb` leaves it) doing what one create writes — a link row with its token,
//! tenant and resource indexes, and its first access-log row, in one transaction — driven by
//! `pgbench` at the bench's connection count. Skipped with a note where PostgreSQL is absent.
//! The cluster code is the tests' own (`tests/support/postgres.rs`).

use std::path::Path;
use std::process::Command;
use std::time::Duration;

#[path = "../../tests/support/postgres.rs"]
#[allow(dead_code, clippy::expect_used, clippy::unwrap_used, clippy::panic)]
mod cluster;

const SCHEMA: &str = "CREATE TABLE links (uid uuid PRIMARY KEY, link_id bigserial, \
    tenant_id uuid NOT NULL, token_hash bytea NOT NULL UNIQUE, resource_type text NOT NULL, \
    resource_uid uuid NOT NULL, expires_at bigint NOT NULL, record bytea NOT NULL); \
    CREATE INDEX ON links (tenant_id, link_id); \
    CREATE INDEX ON links (tenant_id, resource_type, resource_uid, link_id); \
    CREATE INDEX ON links (expires_at, uid); \
    CREATE TABLE access_log (link_uid uuid NOT NULL, id bigint NOT NULL, entry bytea NOT NULL, \
    PRIMARY KEY (link_uid, id));";

/// One create's writes, as one autocommit statement (one WAL flush), with record and log
/// row the sizes the embedded store stores.
const CREATE: &str = "WITH l AS (INSERT INTO links (uid, tenant_id, token_hash, resource_type, \
    resource_uid, expires_at, record) VALUES (gen_random_uuid(), \
    '00000000-0000-0000-0000-000000000001', sha256(random()::text::bytea), 'invoice', \
    gen_random_uuid(), 1800000000000, convert_to(repeat('x', 225), 'UTF8')) RETURNING uid) \
    INSERT INTO access_log SELECT uid, 1, convert_to(repeat('y', 189), 'UTF8') FROM l;\n";

/// Creates per second PostgreSQL sustains, or why it was not measured.
pub fn creates_per_sec(dir: &Path, connections: usize, duration: Duration) -> Result<f64, String> {
    let started = std::panic::catch_unwind(cluster::Cluster::start)
        .map_err(|_| "a PostgreSQL cluster could not be started".to_owned())?;
    // Beside the initdb that started it (the cluster code's own search).
    let pgbench = cluster::bin_dir().join("pgbench");
    if !pgbench.exists() {
        return Err("PostgreSQL's pgbench is not installed".into());
    }
    let db = started.create_database();
    started.psql(&db, SCHEMA);
    let script = dir.join("pg_create.sql");
    std::fs::write(&script, CREATE).map_err(|e| e.to_string())?;
    let out = Command::new(pgbench)
        .args(["-n", "-j", "1", "-c"])
        .arg(connections.to_string())
        .arg("-T")
        .arg(duration.as_secs().max(1).to_string())
        .arg("-f")
        .arg(&script)
        .arg(started.url(&db))
        .output()
        .map_err(|e| format!("pgbench: {e}"))?;
    let text = String::from_utf8_lossy(&out.stdout);
    text.lines()
        .find_map(|l| l.trim().strip_prefix("tps = "))
        .and_then(|rest| rest.split_whitespace().next()?.parse().ok())
        .ok_or_else(|| {
            format!(
                "cannot read pgbench's report: {text}{}",
                String::from_utf8_lossy(&out.stderr)
            )
        })
}
