//! Setup steps many test modules share: a Quote link to act on, a second tenant or a key with
//! given roles made offline by the CLI, the store opened directly on a stopped server's folder,
//! and an SMTP relay in the config. One place each, so a test names the step instead of
//! repeating its lines.

use std::path::Path;
use std::time::Duration;

use customerlink::config::{Config, EmailSettings, FileConfig, Overrides};
use customerlink::domain::token::Secret;
use customerlink::store::Store;
use serde_json::{Value, json};

use super::{TestServer, cli, uid};

/// The user id the keys made here act for (any N-form Guid does).
const KEY_USER: &str = "5f1b0c6e2d7a4b8c9d0e1f2a3b4c5d6e";

impl TestServer {
    /// Creates a Quote link for resource `uid(n)` sent to `email` with the initial key;
    /// returns the whole create response.
    pub fn quote_link(&self, n: u128, email: &str) -> Value {
        let body = json!({"ResourceType": "Quote", "ResourceUid": uid(n), "RecipientEmail": email});
        self.post("/v1/customerlink", body).expect(200)
    }

    /// The deliveries of the link a create response describes, as the link's GET shows them.
    pub fn deliveries(&self, created: &Value) -> Vec<Value> {
        let uid = link_uid(created);
        let link = self.get(&format!("/v1/customerlink/{uid}")).expect(200);
        link["Deliveries"].as_array().cloned().unwrap_or_default()
    }

    /// The id of the initial key's tenant, read from a Quote link made for it.
    pub fn tenant_id(&self) -> String {
        link_tenant(&self.quote_link(99, "t@example.com"))
    }

    /// A fresh server with `tweak` whose folder also holds a second tenant, "Tenant B";
    /// returns the server and tenant B's key (the initial key is tenant A's).
    pub fn with_second_tenant(tweak: impl FnOnce(&mut Config)) -> (TestServer, String) {
        TestServer::start().restart_after(|data| new_tenant_key(data, "Tenant B").1, tweak)
    }

    /// Stops this server and runs `customerlink check` on its data folder; asserts that the
    /// check passes and returns its report.
    pub fn check(self) -> String {
        let (dir, _) = self.stop();
        let dir = dir.expect("the server owned its data folder");
        let (code, out, err) = cli(&["check", "--data", dir.path().to_str().expect("utf-8")]);
        assert_eq!(code, 0, "check failed: {out}{err}");
        out
    }

    /// Stops this server, runs `offline` on its data folder (the CLI and a direct store open
    /// need the database to themselves), and starts a server with `tweak` on the same folder
    /// and clock. The new server owns the folder: it is deleted after the server stops.
    pub fn restart_after<T>(
        self,
        offline: impl FnOnce(&Path) -> T,
        tweak: impl FnOnce(&mut Config),
    ) -> (TestServer, T) {
        let (dir, clock) = self.stop();
        let dir = dir.expect("the server owned its data folder");
        let made = offline(dir.path());
        let mut server = TestServer::start_in(dir.path(), clock, tweak);
        server._dir = Some(dir);
        (server, made)
    }
}

/// The `TenantId` of a create response's link.
pub fn link_tenant(created: &Value) -> String {
    created["Link"]["TenantId"]
        .as_str()
        .expect("a link has a tenant")
        .to_owned()
}

/// The `CustomerLinkUID` of a create response's link.
pub fn link_uid(created: &Value) -> String {
    created["Link"]["CustomerLinkUID"]
        .as_str()
        .expect("a link has a uid")
        .to_owned()
}

/// Creates an API key of `tenant` with the CLI in a stopped server's data folder; `more` are
/// further `key create` arguments (roles, name, casing). Returns the key.
pub fn create_key(data: &Path, tenant: &str, more: &[&str]) -> String {
    let d = data.to_str().expect("utf-8 path");
    let mut args = vec![
        "key", "create", "--data", d, "--tenant", tenant, "--user", KEY_USER,
    ];
    args.extend(more);
    let (code, key, err) = cli(&args);
    assert_eq!(code, 0, "{err}");
    key.trim().to_owned()
}

/// Creates a key with exactly `roles` for `tenant` in a stopped server's data folder.
pub fn create_key_with_roles(data: &Path, tenant: &str, roles: &[&str]) -> String {
    let more: Vec<&str> = roles.iter().flat_map(|role| ["--role", role]).collect();
    create_key(data, tenant, &more)
}

/// Creates a second tenant with a key in a stopped server's data folder via the CLI.
pub fn new_tenant_key(data: &Path, name: &str) -> (String, String) {
    let d = data.to_str().expect("utf-8 path");
    let (code, tenant, err) = cli(&["tenant", "create", "--name", name, "--data", d]);
    assert_eq!(code, 0, "{err}");
    let tenant = tenant.trim().to_owned();
    let key = create_key(data, &tenant, &["--agent", "42"]);
    (tenant, key)
}

/// Opens the store of a stopped server's data folder directly, for writes no request makes
/// (its PostgreSQL database when the suite runs on PostgreSQL).
pub fn open_store(data: &Path) -> Store {
    if super::on_postgres() {
        let settings = super::postgres_for(data);
        return Store::connect(&settings).expect("database connects").0;
    }
    open_embedded_store(data)
}

/// Opens the embedded file of a data folder, whichever store the suite runs on.
pub fn open_embedded_store(data: &Path) -> Store {
    let overrides = Overrides {
        data: Some(data.to_owned()),
        ..Overrides::default()
    };
    let config = Config::resolve(overrides, FileConfig::default()).expect("config");
    Store::open(&config.database_path(), &config.writer).expect("store opens")
}

/// Mail settings that send through the SMTP relay at `url`, from `links@example.test`.
pub fn email_via(url: impl Into<String>) -> EmailSettings {
    EmailSettings {
        smtp_url: Secret::new(url.into()),
        from: "links@example.test".into(),
        from_name: None,
        reply_to: None,
        ca_file: None,
        timeout: Duration::from_secs(3),
    }
}

/// The seed page's JSV sample of a create request, as the seed page shows it.
pub const SEED_JSV: &str = include_str!("../fixtures/seed-create-request.jsv");

/// The seed sample with its placeholders filled in: a valid Quote link request for
/// resource `uid(n)` to ann@example.com and +15551234567, 24 hours and 3 views.
pub fn filled_seed_jsv(n: u128) -> String {
    SEED_JSV
        .replace("ResourceType: String", "ResourceType: Quote")
        .replace(
            "ResourceUid: 00000000000000000000000000000000",
            &format!("ResourceUid: {}", uid(n)),
        )
        .replace("RecipientEmail: String", "RecipientEmail: ann@example.com")
        .replace("RecipientPhone: String", "RecipientPhone: +15551234567")
        .replace("ExpiresInHours: 0", "ExpiresInHours: 24")
        .replace("MaxViews: 0", "MaxViews: 3")
}
