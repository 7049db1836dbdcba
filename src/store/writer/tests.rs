//! The batch rule: a command that fails leaves none of its writes and takes no batch-mate
//! down; a storage failure fails the whole batch.

use redb::{Database, ReadableDatabase, ReadableTableMetadata};
use tokio::sync::oneshot;

use super::super::StoreError;
use super::super::commands::{Command, CreateTenant};
use super::super::tables::TENANTS;
use super::job::{Apply, Job, Queued};
use super::tables::Tables;
use super::{Failed, LeftBehind, apply_batch};
use crate::domain::TenantId;
use crate::domain::millis::ms;
use crate::domain::tenant::Tenant;

/// Writes a tenant, then fails as a damaged record would.
struct HalfWrite(Tenant);

impl Command for HalfWrite {
    type Output = ();
}

impl Apply for HalfWrite {
    fn apply(&self, t: &mut Tables<'_>) -> Result<(), StoreError> {
        CreateTenant(self.0.clone()).apply(t)?;
        Err(StoreError::Corrupt("damaged".into()))
    }
}

/// Fails as the disk would.
struct DiskFails;

impl Command for DiskFails {
    type Output = ();
}

impl Apply for DiskFails {
    fn apply(&self, _: &mut Tables<'_>) -> Result<(), StoreError> {
        Err(StoreError::Io("disk".into()))
    }
}

fn tenant(n: u128) -> Tenant {
    Tenant {
        tenant_id: TenantId::from_u128(n),
        name: format!("t{n}"),
        created_at: ms(0),
        accent: None,
        logo: None,
    }
}

type Rx = oneshot::Receiver<Result<(), StoreError>>;

fn job<C: Apply<Output = ()>>(command: C) -> (Box<dyn Job>, Rx) {
    let (tx, rx) = oneshot::channel();
    (Box::new(Queued::new(command, tx)), rx)
}

fn tenants(db: &Database) -> u64 {
    let txn = db.begin_read().unwrap();
    txn.open_table(TENANTS).map_or(0, |t| t.len().unwrap())
}

#[test]
fn a_failing_command_leaves_no_writes_and_its_batch_mates_commit() {
    let dir = tempfile::tempdir().unwrap();
    let db = Database::create(dir.path().join("t.redb")).unwrap();
    let (a, mut a_rx) = job(CreateTenant(tenant(1)));
    let (half, mut half_rx) = job(HalfWrite(tenant(2)));
    let (c, mut c_rx) = job(CreateTenant(tenant(3)));
    let (done, left) = apply_batch(&db, vec![a, half, c], false).ok().unwrap();
    assert_eq!(
        left,
        LeftBehind::Nothing,
        "creating tenants queues no delivery"
    );
    assert!(
        matches!(half_rx.try_recv(), Ok(Err(StoreError::Corrupt(_)))),
        "the failed command is answered with its own error"
    );
    assert_eq!(done.len(), 2);
    for job in done {
        job.answer(Ok(()));
    }
    assert!(matches!(a_rx.try_recv(), Ok(Ok(()))));
    assert!(matches!(c_rx.try_recv(), Ok(Ok(()))));
    assert_eq!(tenants(&db), 2, "tenant 2 was rolled back with its command");
}

#[test]
fn a_storage_failure_fails_the_whole_batch() {
    let dir = tempfile::tempdir().unwrap();
    let db = Database::create(dir.path().join("t.redb")).unwrap();
    let (a, _a_rx) = job(CreateTenant(tenant(1)));
    let (b, _b_rx) = job(DiskFails);
    let Err(Failed {
        error,
        at_commit,
        jobs,
    }) = apply_batch(&db, vec![a, b], false)
    else {
        panic!("the batch must fail");
    };
    assert!(matches!(error, StoreError::Io(_)) && !at_commit);
    assert_eq!(jobs.len(), 2, "every caller is still to be answered");
    assert_eq!(tenants(&db), 0);
}
