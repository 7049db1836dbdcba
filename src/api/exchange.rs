//! Negotiation for one request: the reply format, casing and JSONP callback decided from the
//! path suffix, query, `Accept` and `Content-Type` before the body is read, refined by dispatch
//! once the operation and the caller are known.

use hyper::header::{ACCEPT, CONTENT_TYPE, HeaderValue, VARY};

use super::casing::{self, CasingRule};
use super::{Request, Response, header, routes};
use crate::config::CasingSetting;
use crate::wire;
use crate::wire::casing::Casing;
use crate::wire::encode::Style;
use crate::wire::negotiate::{Decided, negotiate};

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

impl Exchange {
    /// `server` is the configured reply casing (`[wire] casing`).
    pub fn new(server: CasingSetting, req: &Request) -> Exchange {
        let query = req
            .query
            .as_deref()
            .map(wire::form::pairs)
            .unwrap_or_default();
        let negotiated = negotiate(
            &req.path,
            &query,
            header(&req.headers, ACCEPT),
            header(&req.headers, CONTENT_TYPE),
        );
        let casing = CasingRule {
            jsconfig: wire::form::get(&query, "jsconfig").and_then(Casing::from_jsconfig),
            server: match server {
                CasingSetting::Auto => None,
                CasingSetting::Pascal => Some(Casing::Pascal),
                CasingSetting::Camel => Some(Casing::Camel),
            },
            api_json_only: routes::is_api_route(&negotiated.path)
                && header(&req.headers, ACCEPT).is_some_and(casing::json_only),
        };
        // Before the body is read (and for errors raised before routing), the query's member
        // names of the operation the path reaches are all there is to go on.
        let members = routes::route_at(&negotiated.path).and_then(|route| {
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
        let vary_accept = routes::is_api_route(&negotiated.path)
            || (matches!(negotiated.decided_by, Decided::Accept | Decided::Default)
                && !routes::is_predefined_route(&negotiated.path));
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
