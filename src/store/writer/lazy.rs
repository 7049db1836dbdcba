//! A table of the write transaction opened the first time a command touches it. Each table a
//! transaction opens costs a lookup in redb's table tree on open, on close and again at
//! commit, and a batch of creates touches 8 of the 25 tables: opening them all per batch was
//! about 4 % of the writer thread's time under durable creates. The methods mirror redb's
//! `Table` ones the writer uses, so commands read as if the table were open.

use std::borrow::Borrow;
use std::cell::OnceCell;
use std::ops::RangeBounds;

use redb::{
    AccessGuard, Key, Range, ReadableTable, ReadableTableMetadata, Table, TableDefinition, Value,
    WriteTransaction,
};

use super::super::StoreError;

/// One table of the transaction, open once it is first used.
pub struct Lazy<'t, K: Key + 'static, V: Value + 'static> {
    txn: &'t WriteTransaction,
    definition: TableDefinition<'static, K, V>,
    table: OnceCell<Table<'t, K, V>>,
}

impl<'t, K: Key + 'static, V: Value + 'static> Lazy<'t, K, V> {
    pub(super) fn new(
        txn: &'t WriteTransaction,
        definition: TableDefinition<'static, K, V>,
    ) -> Self {
        Lazy {
            txn,
            definition,
            table: OnceCell::new(),
        }
    }

    /// Whether a command has opened the table in this transaction.
    #[cfg(test)]
    pub(super) fn is_open(&self) -> bool {
        self.table.get().is_some()
    }

    fn open(&self) -> Result<&Table<'t, K, V>, StoreError> {
        if let Some(table) = self.table.get() {
            return Ok(table);
        }
        let table = self.txn.open_table(self.definition)?;
        Ok(self.table.get_or_init(|| table))
    }

    fn open_mut(&mut self) -> Result<&mut Table<'t, K, V>, StoreError> {
        self.open()?;
        self.table
            .get_mut()
            .ok_or_else(|| StoreError::Io("a table failed to open".into()))
    }

    pub(super) fn get<'a>(
        &self,
        key: impl Borrow<K::SelfType<'a>>,
    ) -> Result<Option<AccessGuard<'_, V>>, StoreError> {
        Ok(self.open()?.get(key)?)
    }

    pub(super) fn range<'a, KR>(
        &self,
        range: impl RangeBounds<KR> + 'a,
    ) -> Result<Range<'_, K, V>, StoreError>
    where
        KR: Borrow<K::SelfType<'a>> + 'a,
    {
        Ok(self.open()?.range(range)?)
    }

    pub(super) fn len(&self) -> Result<u64, StoreError> {
        Ok(self.open()?.len()?)
    }

    pub(super) fn insert<'k, 'v>(
        &mut self,
        key: impl Borrow<K::SelfType<'k>>,
        value: impl Borrow<V::SelfType<'v>>,
    ) -> Result<Option<AccessGuard<'_, V>>, StoreError> {
        Ok(self.open_mut()?.insert(key, value)?)
    }

    pub(super) fn remove<'a>(
        &mut self,
        key: impl Borrow<K::SelfType<'a>>,
    ) -> Result<Option<AccessGuard<'_, V>>, StoreError> {
        Ok(self.open_mut()?.remove(key)?)
    }

    pub(super) fn retain<F>(&mut self, predicate: F) -> Result<(), StoreError>
    where
        F: for<'f> FnMut(K::SelfType<'f>, V::SelfType<'f>) -> bool,
    {
        Ok(self.open_mut()?.retain(predicate)?)
    }

    pub(super) fn retain_in<'a, KR, F>(
        &mut self,
        range: impl RangeBounds<KR> + 'a,
        predicate: F,
    ) -> Result<(), StoreError>
    where
        KR: Borrow<K::SelfType<'a>> + 'a,
        F: for<'f> FnMut(K::SelfType<'f>, V::SelfType<'f>) -> bool,
    {
        Ok(self.open_mut()?.retain_in(range, predicate)?)
    }
}
