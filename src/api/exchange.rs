//! Negotiation for one request: the reply format, casing and JSONP callback decided from the
//! path suffix, query, `Accept` and `Content-Type` before the body is read, refined by dispatch
//! once the operation and the caller are known.

use hyper::header::{ACCEPT, CONTENT_TYPE, HeaderValue, VARY};

use super::casing::{self, CasingRule};
use super::resolve::Resolved;
use super::routes::{self, RouteForm};
use super::{Request, Response, header};
use crate::config::CasingSetting;
use crate::wire;
use crate::wire::casing::Casing;
use crate::wire::encode::Style;
use crate::wire::negotiate::{Decided, Negotiated, negotiate};

/// What negotiation decided for one request, refined as the request is read.
pub(super) struct Exchange {
    pub query: Vec<(String, String)>,
    /// The path routing sees (format suffix removed).
    pub path: String,
    pub decided_by: Decided,
    pub casing: CasingRule,
    pub style: Style,
    /// `Accept` chose the reply format, or would have had it been sent (`Vary: Accept`).
    pub vary_accept: bool,
}

/// What the request itself says about its reply before it is looked up: the query and the
/// format its path suffix, query, `Accept` and `Content-Type` decide. The lookup then runs on
/// `negotiated.path` (the format suffix removed).
pub(super) struct Negotiation {
    pub query: Vec<(String, String)>,
    pub negotiated: Negotiated,
}

impl Negotiation {
    pub fn of(req: &Request) -> Negotiation {
        let query = req.query().map(wire::form::pairs).unwrap_or_default();
        let negotiated = negotiate(
            req.path(),
            &query,
            header(&req.headers, ACCEPT),
            header(&req.headers, CONTENT_TYPE),
        );
        Negotiation { query, negotiated }
    }
}

impl Exchange {
    /// Settles negotiation with the one lookup's answer: how the path names its operation
    /// and which operation it reaches. `server` is the configured reply casing (`[wire]
    /// casing`).
    pub fn new(
        server: CasingSetting,
        req: &Request,
        negotiation: Negotiation,
        resolved: &Resolved,
    ) -> Exchange {
        let Negotiation { query, negotiated } = negotiation;
        let api_route = resolved.form == RouteForm::Api;
        let casing = CasingRule {
            jsconfig: wire::form::get(&query, "jsconfig").and_then(Casing::from_jsconfig),
            server: match server {
                CasingSetting::Auto => None,
                CasingSetting::Pascal => Some(Casing::Pascal),
                CasingSetting::Camel => Some(Casing::Camel),
            },
            api_json_only: api_route && header(&req.headers, ACCEPT).is_some_and(casing::json_only),
        };
        // Before the body is read (and for errors raised before routing), the query's member
        // names of the operation the path reaches are all there is to go on.
        let members = resolved.reaches.and_then(|route| {
            let names = query.iter().map(|(k, _)| k.as_str());
            Casing::of_members(names, routes::request_members(route.request))
        });
        let style = Style {
            format: negotiated.format,
            casing: casing.decide(None, members),
            jsonp: negotiated.jsonp,
            operation: "ErrorResponse",
        };
        // On `/api/{Op}` Accept may decide the casing; elsewhere on a predefined route the
        // route's own format wins over it.
        let vary_accept = api_route
            || (matches!(negotiated.decided_by, Decided::Accept | Decided::Default)
                && resolved.form == RouteForm::Custom);
        Exchange {
            query,
            path: negotiated.path,
            decided_by: negotiated.decided_by,
            casing,
            style,
            vary_accept,
        }
    }

    /// `Vary: Accept` when the Accept header chose (or could have chosen) the format.
    pub fn vary(&self, response: &mut Response) {
        if self.vary_accept {
            response
                .headers
                .append(VARY, HeaderValue::from_static("Accept"));
        }
    }
}
