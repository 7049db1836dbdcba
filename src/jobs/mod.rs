//! jobs: background work owned by handles — purge of retired links. Each job stops when its
//! handle's `stop` is awaited, finishing the batch it is in.

pub mod purge;
