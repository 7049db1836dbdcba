//! jobs: background work owned by handles — purge of retired links and the outbox worker
//! that retries deliveries. Each job stops when its
//! handle's `stop` is awaited, finishing the batch it is in.

pub mod landing_log;
pub mod outbox;
pub mod purge;
