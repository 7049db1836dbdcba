//! The batch's tables: opened on first use, and `meta` ids counted in memory and written
//! back once.

use redb::{Database, ReadableDatabase};

use super::super::tables::META;
use super::tables::Tables;

#[test]
fn a_batch_opens_only_the_tables_its_commands_touch() {
    let dir = tempfile::tempdir().unwrap();
    let db = Database::create(dir.path().join("t.redb")).unwrap();
    let txn = db.begin_write().unwrap();
    {
        let mut t = Tables::open(&txn);
        assert!(!t.links.is_open() && !t.meta.is_open());
        t.tenants.insert(1u128, [1u8].as_slice()).unwrap();
        assert!(t.links.get(7u128).unwrap().is_none());
        assert!(t.tenants.is_open() && t.links.is_open());
        assert!(!t.by_token.is_open() && !t.webhooks.is_open() && !t.meta.is_open());
    }
    txn.commit().unwrap();
}

#[test]
fn ids_drawn_in_a_batch_follow_each_other_and_are_written_back_at_its_end() {
    let dir = tempfile::tempdir().unwrap();
    let db = Database::create(dir.path().join("t.redb")).unwrap();
    let stored = |name: &str| {
        let txn = db.begin_read().unwrap();
        let meta = txn.open_table(META).unwrap();
        meta.get(name).unwrap().map(|g| g.value())
    };
    for (first, second, log) in [(1, 2, 1), (3, 4, 2)] {
        let txn = db.begin_write().unwrap();
        let mut t = Tables::open(&txn);
        assert_eq!(t.next_id("next_link_id").unwrap(), first);
        assert_eq!(t.next_id("next_log_id").unwrap(), log);
        assert_eq!(t.next_id("next_link_id").unwrap(), second);
        assert_eq!(
            t.meta.get("next_link_id").unwrap().map(|g| g.value()),
            (first > 1).then_some(first)
        );
        t.finish().unwrap();
        txn.commit().unwrap();
    }
    assert_eq!(stored("next_link_id"), Some(5));
    assert_eq!(stored("next_log_id"), Some(3));
}
