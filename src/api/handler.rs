//! What a route-table row runs: each row of [`super::routes::ROUTES`] holds its operation's
//! handler, so dispatch looks the request up once and runs what it found, and a new operation
//! is one row plus its own module. Staff handlers answer a DTO (encoded as the response, or
//! kept as one item of an AutoBatch); portal handlers answer the response themselves (they set
//! cookies and statuses).

use std::fmt;
use std::future::Future;
use std::pin::Pin;

use hyper::header::HeaderMap;
use schemars::JsonSchema;
use serde::Serialize;
use serde::de::DeserializeOwned;

use super::body::Body;
use super::error::ApiError;
use super::portal::Visitor;
use super::routes::Matched;
use super::{Response, respond::respond};
use crate::api::AppState;
use crate::domain::tenant::{Role, StaffCaller};
use crate::wire::bind::{Sources, bind};
use crate::wire::encode::Style;
use crate::wire::node::{Node, to_node};

/// A handler's answer, still to come.
pub type Pending<'a, T> = Pin<Box<dyn Future<Output = Result<T, ApiError>> + Send + 'a>>;

/// A staff operation: bind, run, answer its response DTO.
pub type StaffFn = for<'a> fn(StaffCall<'a>) -> Pending<'a, Dto>;

/// A portal operation: bind, run, answer the response.
pub type PortalFn = for<'a> fn(PortalCall<'a>) -> Pending<'a, Response>;

/// The handler of one route-table row. Matched once, in dispatch.
#[derive(Clone, Copy)]
pub enum Handler {
    /// Needs an API key with this role; may be batched.
    Staff(Role, StaffFn),
    /// Public (the token in the path is the credential); never batched.
    Portal(PortalFn),
}

impl Handler {
    /// The role an API key must have; `None` for the public (portal) operations.
    pub fn needs(self) -> Option<Role> {
        match self {
            Handler::Staff(role, _) => Some(role),
            Handler::Portal(_) => None,
        }
    }
}

impl fmt::Debug for Handler {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Handler::Staff(role, _) => write!(f, "Staff({role:?})"),
            Handler::Portal(_) => f.write_str("Portal"),
        }
    }
}

/// Everything bound from one request, before the operation runs.
pub struct Call<'a> {
    pub matched: Matched,
    pub body: Body,
    pub query: &'a [(String, String)],
}

impl Call<'_> {
    /// Binds the route's request DTO: body, then path variables, then query, then form.
    pub fn bind<T: DeserializeOwned>(self) -> Result<T, ApiError> {
        Ok(bind(Sources {
            body: self.body.value,
            path: &self.matched.vars,
            query: self.query,
            form: &self.body.form,
        })?)
    }
}

/// The inputs of a staff operation. `item` is the index within an AutoBatch (it scopes the
/// `Idempotency-Key` to the item).
pub struct StaffCall<'a> {
    pub state: &'a AppState,
    pub caller: &'a StaffCaller,
    pub headers: &'a HeaderMap,
    pub item: Option<usize>,
    pub call: Call<'a>,
}

/// The inputs of a portal operation: who asks (typed, not the raw request) and how to answer.
pub struct PortalCall<'a> {
    pub portal: super::portal::Portal<'a>,
    pub visitor: Visitor,
    pub style: &'a Style,
    pub call: Call<'a>,
}

/// A response DTO of any type: encoded as the response, or kept (format-neutral) to be
/// written later with its batch.
pub trait Reply: Send {
    fn respond(&self, style: &Style) -> Result<Response, ApiError>;
    fn keep(&self) -> Result<Node, ApiError>;
}

impl<T: Serialize + JsonSchema + Send> Reply for T {
    fn respond(&self, style: &Style) -> Result<Response, ApiError> {
        respond(self, style)
    }

    fn keep(&self) -> Result<Node, ApiError> {
        to_node(self).map_err(|e| ApiError::Internal(e.to_string()))
    }
}

/// A staff operation's answer.
pub type Dto = Box<dyn Reply>;

/// The [`Handler`] of a staff row, with the role its key needs: `staff!(Role::X => module::f)`
/// for an async `f(state, caller, dto)` (where `state` is whatever part of the [`AppState`] `f`
/// declares: `Issuer`, `Keyed`, `Records` or `&Store`), and `staff!(once Role::X => module::f)`
/// for one that also takes the request's `Idempotency-Key`. Every handler is async: a store
/// read may have to wait (for a database server).
macro_rules! staff {
    (once $role:path => $($f:ident)::+) => {
        $crate::api::handler::Handler::Staff($role, |c| {
            Box::pin(async move {
                let operation = c.call.matched.route.request;
                let dto = c.call.bind()?;
                let once = $crate::api::idempotency::Once::for_item(c.headers, operation, &dto, c.item)?;
                let reply = $($f)::+(c.state.into(), c.caller, dto, once).await?;
                Ok(Box::new(reply) as $crate::api::handler::Dto)
            })
        })
    };
    ($role:path => $($f:ident)::+) => {
        $crate::api::handler::Handler::Staff($role, |c| {
            Box::pin(async move {
                let dto = c.call.bind()?;
                let reply = $($f)::+(c.state.into(), c.caller, dto).await?;
                Ok(Box::new(reply) as $crate::api::handler::Dto)
            })
        })
    };
}

/// The [`Handler`] of a portal row: `portal!(f)` for an async `f(portal, &visitor, dto, style)`.
macro_rules! portal {
    ($($f:ident)::+) => {
        $crate::api::handler::Handler::Portal(|c| {
            Box::pin(async move { $($f)::+(c.portal, &c.visitor, c.call.bind()?, c.style).await })
        })
    };
}

pub(crate) use {portal, staff};
