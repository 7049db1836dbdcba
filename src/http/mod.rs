//! http: the transport. The hyper accept loop with connection limits, timeouts and graceful
//! shutdown; turns hyper requests into size-limited [`crate::api::Request`]s and api responses
//! back into hyper responses. Knows nothing of operations or storage.

mod server;

pub use server::{connection, serve};
