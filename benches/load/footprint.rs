//! Where a data folder's bytes go: per table, its entries, pages and stored bytes, read from
//! redb's own statistics on a closed file. "Bytes per link" is the file's size over N; the
//! per-table rows say which index or record to shrink.

use std::fmt::Write as _;
use std::path::Path;

use customerlink::store::tables::{TableVisitor, visit_all};
use redb::{Database, Key, ReadableDatabase, ReadableTableMetadata, TableDefinition, Value};

/// redb's page size: what a leaf or branch page occupies in the file.
const PAGE: u64 = 4096;

/// One table's share of the file.
pub struct TableFootprint {
    pub name: String,
    pub entries: u64,
    pub pages: u64,
    /// Keys and values as stored in leaves (what the data itself needs).
    pub stored: u64,
    /// Bytes of pages left unused (page-fill loss).
    pub fragmented: u64,
}

/// Every table of the closed database at `file`, largest first.
pub fn measure(file: &Path) -> Result<Vec<TableFootprint>, String> {
    let db = Database::open(file).map_err(|e| e.to_string())?;
    let txn = db.begin_read().map_err(|e| e.to_string())?;
    let mut visitor = Stats {
        txn: &txn,
        rows: Vec::new(),
    };
    visit_all(&mut visitor)?;
    visitor.rows.sort_by_key(|r| std::cmp::Reverse(r.pages));
    Ok(visitor.rows)
}

struct Stats<'a> {
    txn: &'a redb::ReadTransaction,
    rows: Vec<TableFootprint>,
}

impl TableVisitor for Stats<'_> {
    type Error = String;

    fn visit<K, V>(&mut self, table: TableDefinition<'static, K, V>) -> Result<(), String>
    where
        K: Key + Send + Sync + 'static,
        V: Value + Send + Sync + 'static,
    {
        let name = redb::TableHandle::name(&table).to_owned();
        let opened = self.txn.open_table(table).map_err(|e| e.to_string())?;
        let stats = opened.stats().map_err(|e| e.to_string())?;
        self.rows.push(TableFootprint {
            name,
            entries: opened.len().map_err(|e| e.to_string())?,
            pages: stats.leaf_pages() + stats.branch_pages(),
            stored: stats.stored_bytes(),
            fragmented: stats.fragmented_bytes(),
        });
        Ok(())
    }
}

/// The per-table rows as a Markdown table, per link for `links` links in a file of length
/// `file_size` occupying `on_disk` bytes.
pub fn table(
    report: &mut String,
    links: u64,
    (file_size, on_disk): (u64, u64),
    rows: &[TableFootprint],
) {
    let per = |bytes: u64| bytes as f64 / links.max(1) as f64;
    let _ = writeln!(
        report,
        "\nWhere the bytes go at N = {links} (file length {:.1} MiB, {:.0} B per link; on disk \
         {:.1} MiB, {:.0} B per link):\n\n\
         | table | entries | pages × 4 KiB per link | stored B per link | unused B per link |\n\
         |---|---:|---:|---:|---:|",
        file_size as f64 / 1048576.0,
        per(file_size),
        on_disk as f64 / 1048576.0,
        per(on_disk)
    );
    for r in rows.iter().filter(|r| r.entries > 0) {
        let _ = writeln!(
            report,
            "| `{}` | {} | {:.0} | {:.0} | {:.0} |",
            r.name,
            r.entries,
            per(r.pages * PAGE),
            per(r.stored),
            per(r.fragmented)
        );
    }
}
