//! Every table of the store, dumped and loaded as raw key and value bytes (redb's own
//! encodings of the table's types), so the backup does not depend on record schemas. The
//! tables come from the store's one list (`store::tables::visit_all`); a backup still refuses
//! a database with a table it does not know (one a newer build added).

use std::convert::Infallible;
use std::io;
use std::sync::LazyLock;

use redb::{
    Key, MultimapTableHandle, ReadTransaction, ReadableTable, ReadableTableMetadata,
    TableDefinition, TableHandle, Value, WriteTransaction,
};

use super::OpsError;
use crate::store::tables::{self, TableVisitor};

/// Receives one raw entry (key bytes, value bytes).
pub type EntrySink<'a> = &'a mut dyn FnMut(&[u8], &[u8]) -> io::Result<()>;

/// Dumps and loads one table.
pub trait TableCodec: Send + Sync {
    fn name(&self) -> &str;
    fn len(&self, txn: &ReadTransaction) -> Result<u64, OpsError>;
    fn dump(&self, txn: &ReadTransaction, each: EntrySink<'_>) -> Result<(), OpsError>;
    /// Inserts raw entries; refuses bytes of the wrong width for fixed-width types.
    fn load(&self, txn: &WriteTransaction, entries: &[(Vec<u8>, Vec<u8>)]) -> Result<(), OpsError>;
}

struct Typed<K: Key + 'static, V: Value + 'static>(TableDefinition<'static, K, V>);

fn width_ok<T: Value>(bytes: &[u8]) -> bool {
    T::fixed_width().is_none_or(|w| w == bytes.len())
}

impl<K: Key + Send + Sync + 'static, V: Value + Send + Sync + 'static> TableCodec for Typed<K, V> {
    fn name(&self) -> &str {
        self.0.name()
    }

    fn len(&self, txn: &ReadTransaction) -> Result<u64, OpsError> {
        Ok(txn.open_table(self.0)?.len()?)
    }

    fn dump(&self, txn: &ReadTransaction, each: EntrySink<'_>) -> Result<(), OpsError> {
        let table = txn.open_table(self.0)?;
        for entry in table.iter()? {
            let (k, v) = entry?;
            let (k, v) = (k.value(), v.value());
            each(K::as_bytes(&k).as_ref(), V::as_bytes(&v).as_ref())?;
        }
        Ok(())
    }

    fn load(&self, txn: &WriteTransaction, entries: &[(Vec<u8>, Vec<u8>)]) -> Result<(), OpsError> {
        let mut table = txn.open_table(self.0)?;
        for (k, v) in entries {
            if !(width_ok::<K>(k) && width_ok::<V>(v)) {
                return Err(OpsError::Format(format!(
                    "an entry of {} has the wrong size",
                    self.name()
                )));
            }
            table.insert(K::from_bytes(k), V::from_bytes(v))?;
        }
        Ok(())
    }
}

/// Every table's codec, in dump order (the store's one list, [`tables::visit_all`]).
pub fn all() -> &'static [Box<dyn TableCodec>] {
    static ALL: LazyLock<Vec<Box<dyn TableCodec>>> = LazyLock::new(|| {
        let mut codecs = Codecs(Vec::new());
        let Ok(()) = tables::visit_all(&mut codecs);
        codecs.0
    });
    &ALL
}

/// Collects a codec per table.
struct Codecs(Vec<Box<dyn TableCodec>>);

impl TableVisitor for Codecs {
    type Error = Infallible;

    fn visit<K, V>(&mut self, table: TableDefinition<'static, K, V>) -> Result<(), Infallible>
    where
        K: Key + Send + Sync + 'static,
        V: Value + Send + Sync + 'static,
    {
        self.0.push(Box::new(Typed(table)));
        Ok(())
    }
}

/// The codec of a table by name.
pub fn find(name: &str) -> Option<&'static dyn TableCodec> {
    all().iter().map(|t| &**t).find(|t| t.name() == name)
}

/// Fails if the snapshot holds a table this list does not cover.
pub fn check_covered(txn: &ReadTransaction) -> Result<(), OpsError> {
    for handle in txn.list_tables()? {
        if find(handle.name()).is_none() {
            return Err(OpsError::Refused(format!(
                "table '{}' is not covered by the backup (declare it in src/store/tables.rs)",
                handle.name()
            )));
        }
    }
    if let Some(handle) = txn.list_multimap_tables()?.next() {
        return Err(OpsError::Refused(format!(
            "multimap table '{}' is not covered by the backup",
            handle.name()
        )));
    }
    Ok(())
}
