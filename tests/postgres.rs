//! The PostgreSQL store's groundwork against a real PostgreSQL (tests/support/postgres.rs):
//! the embedded migrations create the schema once, however many instances start together,
//! refuse a newer schema, survive a server restart on the same pool; and the `store` setting
//! and `master_secret_file` fail clearly, never showing the password.

use std::collections::BTreeSet;
use std::time::{Duration, Instant};

use customerlink::config::{Config, FileConfig, Overrides, StoreLocation};
use customerlink::store::StoreError;
use customerlink::store::postgres::{
    MIGRATIONS, Migrated, Migration, PgStore, run_steps, unique_violation,
};

use crate::support::cli;
use crate::support::postgres::{Cluster, fresh_database, shared};

/// The schema version this build writes (its last step).
fn latest() -> i32 {
    MIGRATIONS.last().map_or(0, |m| m.version)
}

/// This build's steps and one more, as a later build would have them.
fn with_next_step() -> Vec<Migration> {
    let mut steps: Vec<Migration> = MIGRATIONS
        .iter()
        .map(|m| Migration {
            version: m.version,
            name: m.name,
            sql: m.sql,
        })
        .collect();
    steps.push(Migration {
        version: latest() + 1,
        name: "future",
        // slow, so instances starting together overlap in it
        sql: "SELECT pg_sleep(0.3); ALTER TABLE links ADD COLUMN future_field bigint",
    });
    steps
}

fn names(text: &str) -> BTreeSet<String> {
    text.lines().map(str::to_owned).collect()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn migrations_create_every_table_and_index_once() {
    let settings = fresh_database();
    let (store, migrated) = PgStore::connect(&settings).await.unwrap();
    assert_eq!(
        migrated,
        Migrated {
            from: 0,
            to: latest()
        }
    );
    assert_eq!(store.schema_version().await.unwrap(), latest());
    let cluster = shared();
    let tables = cluster.psql(
        &settings.dbname,
        "SELECT table_name FROM information_schema.tables WHERE table_schema = 'public'",
    );
    let expected = [
        "access_log",
        "api_keys",
        "attachment_chunks",
        "attachments",
        "contacts",
        "grants",
        "idempotency",
        "links",
        "log_tombstones",
        "outbox",
        "schema_version",
        "send_counts",
        "tenants",
        "webhook_expiry_cursor",
        "webhooks",
    ];
    assert_eq!(
        names(&tables),
        expected.iter().map(|s| s.to_string()).collect()
    );
    let indexes = names(&cluster.psql(
        &settings.dbname,
        "SELECT indexname FROM pg_indexes WHERE schemaname = 'public'",
    ));
    for index in [
        "links_token_hash_key",
        "links_by_tenant",
        "links_by_resource",
        "links_by_expiry",
        "links_by_revoked",
        "links_by_contact",
        "outbox_due",
        "deliveries_by_link",
        "grants_by_expiry",
        "access_log_noise",
        "idempotency_by_time",
        "api_keys_key_id_key",
        "attachments_by_idle",
    ] {
        assert!(indexes.contains(index), "{index} missing from {indexes:?}");
    }
    let lease = cluster.psql(
        &settings.dbname,
        "SELECT column_name FROM information_schema.columns \
         WHERE table_name = 'outbox' AND column_name LIKE 'lease%' ORDER BY 1",
    );
    assert_eq!(lease, "lease_owner\nleased_until");

    let (_, again) = PgStore::connect(&settings).await.unwrap();
    assert_eq!(
        again,
        Migrated {
            from: latest(),
            to: latest()
        },
        "a second start applies nothing"
    );
    let rows = cluster.psql(&settings.dbname, "SELECT count(*) FROM schema_version");
    assert_eq!(rows, latest().to_string());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_token_hash_is_unique_and_the_violation_names_its_constraint() {
    let settings = fresh_database();
    let (store, _) = PgStore::connect(&settings).await.unwrap();
    let client = store.client().await.unwrap();
    let tenant = uuid::Uuid::new_v4();
    client
        .execute(
            "INSERT INTO tenants (tenant_id, name, created_at) VALUES ($1, 'T', 0)",
            &[&tenant],
        )
        .await
        .unwrap();
    let insert = "INSERT INTO links (uid, link_id, tenant_id, token_hash, resource_type, \
        resource_key, resource_uid, sensitivity_tier, require_otp, delivery_channels, \
        recipient_type, sms_consent_snapshot, created_by_user_id, created_at, expires_at, \
        max_views) VALUES ($1, nextval('link_ids'), $2, $3, 'Quote', 'quote', $1, 'standard', \
        false, '', 'AdHoc', false, $1, 0, 1, 5)";
    let hash = vec![7u8; 32];
    client
        .execute(insert, &[&uuid::Uuid::new_v4(), &tenant, &hash])
        .await
        .unwrap();
    let e = client
        .execute(insert, &[&uuid::Uuid::new_v4(), &tenant, &hash])
        .await
        .unwrap_err();
    assert_eq!(unique_violation(&e), Some("links_token_hash_key"));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_schema_newer_than_this_build_is_refused_naming_both_versions() {
    let settings = fresh_database();
    let (store, _) = PgStore::connect(&settings).await.unwrap();
    // A later build adds step 3 ...
    let mut client = store.client().await.unwrap();
    let later = with_next_step();
    let upgraded = run_steps(&mut client, &later).await.unwrap();
    assert_eq!(
        upgraded,
        Migrated {
            from: latest(),
            to: latest() + 1
        }
    );
    drop(client);
    // ... and this build, which knows only its own steps, must not start on it.
    let e = PgStore::connect(&settings).await.err().expect("refused");
    let message = e.to_string();
    assert!(matches!(e, StoreError::Corrupt(_)), "{e:?}");
    assert!(
        message.contains(&format!("version {}", latest() + 1))
            && message.contains(&format!("({})", latest())),
        "{message}"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn instances_starting_together_migrate_once() {
    let settings = fresh_database();
    let starts = (0..4).map(|_| {
        let settings = settings.clone();
        tokio::spawn(async move { PgStore::connect(&settings).await.map(|(_, m)| m) })
    });
    let starts: Vec<_> = starts.collect();
    let mut applied = 0;
    for start in starts {
        let migrated = start.await.unwrap().unwrap();
        assert_eq!(migrated.to, latest());
        applied += usize::from(migrated.from == 0);
    }
    assert_eq!(applied, 1, "exactly one instance applied the schema");
    let rows = shared().psql(&settings.dbname, "SELECT count(*) FROM schema_version");
    assert_eq!(rows, latest().to_string());

    // An upgrade, when schema_version already exists: the lock alone serialises it.
    let upgrades = (0..4).map(|_| {
        let store = PgStore::new(&settings).unwrap();
        tokio::spawn(async move {
            let mut client = store.client().await?;
            run_steps(&mut client, &with_next_step()).await
        })
    });
    let upgrades: Vec<_> = upgrades.collect();
    let mut applied = 0;
    for upgrade in upgrades {
        let migrated = upgrade.await.unwrap().unwrap();
        assert_eq!(migrated.to, latest() + 1);
        applied += usize::from(migrated.from == latest());
    }
    assert_eq!(applied, 1, "exactly one instance applied the next step");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_postgres_restart_is_unavailable_then_served_by_the_same_pool() {
    let cluster = Cluster::start();
    let settings = cluster.settings(&cluster.create_database());
    let (store, _) = PgStore::connect(&settings).await.unwrap();
    let insert = |store: PgStore| async move {
        let client = store.client().await?;
        client
            .execute(
                "INSERT INTO tenants (tenant_id, name, created_at) VALUES ($1, 'T', 0)",
                &[&uuid::Uuid::new_v4()],
            )
            .await
            .map_err(|e| customerlink::store::postgres::from_pg(&e))
    };
    insert(store.clone()).await.unwrap();
    store.ping().await.unwrap();

    cluster.stop();
    let e = insert(store.clone()).await.unwrap_err();
    assert!(matches!(e, StoreError::Unavailable { .. }), "{e:?}");
    let e = store.ping().await.unwrap_err();
    assert!(matches!(e, StoreError::Unavailable { .. }), "{e:?}");

    cluster.start_again();
    let deadline = Instant::now() + Duration::from_secs(10);
    while let Err(e) = insert(store.clone()).await {
        assert!(matches!(e, StoreError::Unavailable { .. }), "{e:?}");
        assert!(Instant::now() < deadline, "the pool did not reconnect");
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    cluster.restart();
    let deadline = Instant::now() + Duration::from_secs(10);
    while store.ping().await.is_err() {
        assert!(
            Instant::now() < deadline,
            "the pool did not reconnect after a restart"
        );
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    let rows = cluster.psql(&settings.dbname, "SELECT count(*) FROM tenants");
    assert_eq!(rows, "2");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn connection_errors_never_show_the_password() {
    let cluster = shared();
    let db = cluster.create_database();
    let mut wrong = cluster.settings(&db);
    wrong.password = Some(customerlink::domain::token::Secret::new(
        "hunter2-wrong".into(),
    ));
    let e = PgStore::connect(&wrong)
        .await
        .err()
        .expect("wrong password refused");
    let (shown, debug) = (e.to_string(), format!("{e:?}"));
    assert!(shown.contains("password authentication failed"), "{shown}");
    assert!(shown.contains(":***@127.0.0.1"), "{shown}");
    for text in [&shown, &debug] {
        assert!(
            !text.contains("hunter2") && !text.contains(&cluster.password),
            "{text}"
        );
    }
    let mut closed = cluster.settings(&db);
    closed.port = 1;
    let e = PgStore::connect(&closed)
        .await
        .err()
        .expect("nothing listens on port 1");
    assert!(!format!("{e} {e:?}").contains(&cluster.password), "{e}");
    assert!(e.to_string().contains("error connecting"), "{e}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sslmode_prefer_falls_back_and_require_refuses_a_plain_server() {
    let cluster = shared();
    let db = cluster.create_database();
    let url = cluster.url(&db);
    let prefer =
        customerlink::config::parse_postgres_url(&url.replace("disable", "prefer")).unwrap();
    PgStore::connect(&prefer).await.unwrap();
    let mut require =
        customerlink::config::parse_postgres_url(&url.replace("disable", "require")).unwrap();
    require.connect_timeout = Duration::from_secs(2);
    let e = PgStore::connect(&require)
        .await
        .err()
        .expect("no TLS, no connection");
    assert!(!e.to_string().contains(&cluster.password), "{e}");
}

#[test]
fn a_bad_store_url_or_sslmode_is_a_config_error_without_the_password() {
    for (store, says) in [
        (
            "postgres://cl:hunter2@db.example/links?sslmode=verify-ca",
            "sslmode must be",
        ),
        ("postgres://cl:hunter2@/links", "host"),
        (
            "mysql://cl:hunter2@db.example/links",
            "must be `redb` or a URL",
        ),
        (
            "postgres://cl:hunter2@db.example/links?sslmode=require&pool=3",
            "unknown URL parameter",
        ),
    ] {
        let overrides = Overrides {
            store: Some(store.into()),
            ..Overrides::default()
        };
        let errors = Config::resolve(overrides, FileConfig::default())
            .err()
            .unwrap();
        assert_eq!(errors[0].key, "store");
        let text = format!("{} {:?}", errors[0], errors[0]);
        assert!(text.contains(says) && !text.contains("hunter2"), "{text}");
        let (code, _, err) = cli(&["--store", store, "check"]);
        assert_eq!(code, 2, "{err}");
        assert!(err.contains(says) && !err.contains("hunter2"), "{err}");
    }
    let file: FileConfig = toml::from_str(
        "store = \"postgres://cl:hunter2@db.example:6432/links?sslmode=verify-full\"\n\
         [postgres]\npool_size = 3",
    )
    .unwrap();
    let config = Config::resolve(Overrides::default(), file).unwrap();
    let StoreLocation::Postgres(pg) = &config.store else {
        panic!("{:?}", config.store)
    };
    assert_eq!((pg.port, pg.pool_size), (6432, 3));
    assert!(!format!("{config:?}").contains("hunter2"));
}

#[test]
fn an_unreachable_database_is_a_clear_error_that_never_shows_the_password() {
    let data = tempfile::tempdir().unwrap();
    let d = data.path().to_str().unwrap();
    let url = "postgres://cl:hunter2@127.0.0.1:1/links?sslmode=disable";
    for command in [&["check"][..], &["tenant", "create", "--name", "x"]] {
        let mut args = vec!["--data", d, "--store", url];
        args.extend_from_slice(command);
        let (code, _, err) = cli(&args);
        assert_eq!(code, 1, "{command:?}: {err}");
        assert!(err.contains("Connection refused"), "{err}");
        assert!(
            err.contains("postgres://cl:***@127.0.0.1:1/links") && !err.contains("hunter2"),
            "{err}"
        );
    }
}

#[test]
fn a_named_master_secret_file_must_exist_and_is_never_created() {
    let data = tempfile::tempdir().unwrap();
    let d = data.path().to_str().unwrap();
    let key = data.path().join("shared.key");
    let k = key.to_str().unwrap();
    let create = || {
        cli(&[
            "--data",
            d,
            "--master-secret-file",
            k,
            "tenant",
            "create",
            "--name",
            "x",
        ])
    };
    let (code, _, err) = create();
    assert_eq!(code, 1, "{err}");
    assert!(
        err.contains("master secret") && err.contains("not found"),
        "{err}"
    );
    assert!(!key.exists() && !data.path().join("master.key").exists());

    std::fs::write(&key, [1u8; 16]).unwrap();
    let (code, _, err) = create();
    assert_eq!(code, 1, "{err}");
    assert!(err.contains("16 bytes"), "{err}");

    std::fs::write(&key, [1u8; 32]).unwrap();
    let out = std::process::Command::new(env!("CARGO_BIN_EXE_customerlink"))
        .args(["--data", d, "tenant", "create", "--name", "x"])
        .env("CUSTOMERLINK_MASTER_SECRET_FILE", k)
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(
        !data.path().join("master.key").exists(),
        "the named key is used, none is made"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn tls_require_encrypts_and_verify_full_checks_the_chain_and_the_name() {
    let cluster = Cluster::start_with_tls();
    let db = cluster.create_database();
    let url = |host: &str, query: &str| {
        let url = cluster.url(&db).replace("127.0.0.1", host);
        let url = url.replace("sslmode=disable", query);
        let mut settings = customerlink::config::parse_postgres_url(&url).unwrap();
        settings.connect_timeout = Duration::from_secs(3);
        settings
    };
    let (store, _) = PgStore::connect(&url("127.0.0.1", "sslmode=require"))
        .await
        .unwrap();
    let client = store.client().await.unwrap();
    let row = client
        .query_one(
            "SELECT ssl FROM pg_stat_ssl WHERE pid = pg_backend_pid()",
            &[],
        )
        .await
        .unwrap();
    assert!(row.get::<_, bool>(0), "require must encrypt");

    let ca = cluster.ca_file();
    let trusted = format!("sslmode=verify-full&sslrootcert={}", ca.display());
    PgStore::connect(&url("localhost", &trusted)).await.unwrap();
    for (refused, why) in [
        (url("127.0.0.1", &trusted), "not valid for name"),
        (url("localhost", "sslmode=verify-full"), "UnknownIssuer"),
    ] {
        let e = PgStore::connect(&refused).await.err().expect("refused");
        let text = format!("{e} {e:?}");
        assert!(
            text.contains("TLS handshake") && text.contains(why),
            "{text}"
        );
        assert!(!text.contains(&cluster.password), "{text}");
    }
}

#[test]
fn the_file_tools_point_at_postgresqls_own_on_a_postgresql_store() {
    let data = tempfile::tempdir().unwrap();
    let d = data.path().to_str().unwrap();
    let url = shared().url(&shared().create_database());
    let backup = data.path().join("b.backup");
    let b = backup.to_str().unwrap();
    for command in [&["backup", b][..], &["restore", b], &["compact"]] {
        let mut args = vec!["--data", d, "--store", &url];
        args.extend_from_slice(command);
        let (code, _, err) = cli(&args);
        assert_eq!(code, 1, "{command:?}: {err}");
        assert!(
            err.contains("pg_dump") && err.contains("PostgreSQL"),
            "{err}"
        );
    }
    assert!(!backup.exists());

    let db = shared().create_database();
    let settings = shared().settings(&db);
    let s = crate::support::TestServer::start_with(move |c| {
        c.store = StoreLocation::Postgres(settings);
    });
    let operator = std::fs::read_to_string(s.data.join("operator-key")).unwrap();
    let r = crate::support::Req::new(s.addr, "GET", "/admin/backup")
        .bearer(operator.trim())
        .send();
    assert_eq!(r.status, 409, "{}", r.body);
    assert!(r.body.contains("pg_dump"), "{}", r.body);
    let data = s.data.to_str().unwrap().to_owned();
    let (code, out, err) = cli(&["check", "--data", &data, "--store", &shared().url(&db)]);
    assert_eq!(code, 0, "{err}");
    assert!(out.contains("tenants 1 api_keys 1"), "{out}");
}
