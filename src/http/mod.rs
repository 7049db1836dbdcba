//! http: the transport. The hyper accept loop with connection limits, the connection guard's
//! timeouts and graceful shutdown; request ids, tracing spans and request metrics; the
//! service endpoints (health, metrics, backup); turns hyper requests into size-limited
//! [`crate::api::Request`]s and api responses back into hyper responses. Knows nothing of
//! operations or storage beyond what the service endpoints report.

mod admin;
mod body;
mod client_ip;
mod exchange;
mod io;
mod server;
mod slots;

pub use body::ResponseBody;
pub use exchange::REQUEST_ID;
pub use server::{connection, serve};
