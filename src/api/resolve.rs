//! The one lookup of a request: a browser page of the portal, a preflight, the OpenAPI
//! document or an operation of the route table — after `X-Http-Method-Override` — with the
//! surface of what its path reaches. Dispatch, the edge policy, the error's root DTO and the
//! metrics label all read this one answer, so they cannot disagree.

use hyper::header::HeaderName;

use super::portal::{brand, html};
use super::routes::{self, Matched, Miss, Op, Route, RouteForm, Surface};
use super::{Request, header};
use crate::wire;

/// What a request resolves to.
#[derive(Debug)]
pub(super) enum Target {
    /// A browser page of the portal.
    Page(html::Route),
    /// A tenant's stylesheet or logo (`/brand/{TenantId}/…`), on the portal's surface.
    Brand(brand::Asset),
    /// `OPTIONS` (a CORS preflight), by any method override.
    Preflight,
    /// `GET /openapi.json`.
    OpenApi,
    /// A page of development mode (resolved only in dev mode).
    Dev(super::dev::Page),
    /// An operation of the route table.
    Op(Matched),
    Miss(Miss),
}

/// One lookup of a request: its target, the effective method (after `X-Http-Method-Override`)
/// and the edge policy of what its path reaches.
#[derive(Debug)]
pub(super) struct Resolved {
    pub target: Target,
    pub method: String,
    pub surface: Surface,
    /// The route the path reaches by any verb (its members guide casing before the body).
    pub reaches: Option<&'static Route>,
    /// How the path names its operation (predefined routes negotiate their own way).
    pub form: RouteForm,
}

impl Resolved {
    /// The name metrics and logs give the request: a closed set (no path text ever becomes a
    /// label), so series stay bounded and no token in a path reaches a log.
    pub fn label(&self) -> &'static str {
        match &self.target {
            Target::Page(_) => "PortalPage",
            Target::Brand(_) => "BrandAsset",
            Target::Preflight => "Preflight",
            Target::OpenApi => "OpenApi",
            Target::Dev(page) => page.label(),
            Target::Op(m) => m.route.request,
            Target::Miss(Miss::WrongVerb(_)) => "WrongVerb",
            Target::Miss(Miss::NotFound) => "NotFound",
        }
    }
}

/// Looks a request up once: a browser page (by the real method), else by the effective method
/// a preflight, the OpenAPI document or the route table's operation. The surface is the one of
/// the operation the path reaches by any verb (so a wrong verb keeps its path's policy).
/// Dev pages exist only when `dev` (development mode) is on; otherwise their paths miss like
/// any unknown path.
pub(super) fn resolve(
    req: &Request,
    path: &str,
    query: &[(String, String)],
    form: &[(String, String)],
    dev: bool,
) -> Resolved {
    let method = effective_method(req, query, form);
    let verb = if method == "HEAD" {
        "GET"
    } else {
        method.as_str()
    };
    let lookup = routes::lookup(verb, path);
    let (reaches, form) = (lookup.at, lookup.form);
    let (target, surface) = if let Some(route) = html::route(req) {
        (Target::Page(route), Surface::Portal)
    } else if let Some(asset) = brand::route(req) {
        (Target::Brand(asset), Surface::Portal)
    } else if let Some(page) = super::dev::Page::at(dev, verb, path) {
        (Target::Dev(page), Surface::Staff)
    } else if method == "OPTIONS" {
        (Target::Preflight, surface_of(reaches))
    } else if verb == "GET" && req.path().eq_ignore_ascii_case("/openapi.json") {
        (Target::OpenApi, surface_of(reaches))
    } else {
        let target = lookup.found.map_or_else(Target::Miss, Target::Op);
        (target, surface_of(reaches))
    };
    Resolved {
        target,
        method,
        surface,
        reaches,
        form,
    }
}

/// The edge policy of what a path reaches; paths that reach nothing are staff's (no portal
/// limit spent on them).
fn surface_of(reaches: Option<&'static Route>) -> Surface {
    reaches.map_or(Surface::Staff, |r| Op::surface(r.op))
}

/// `X-Http-Method-Override` header, then query, then form field, then the real method
/// (servicestack-wire.md §7.3).
fn effective_method(
    req: &Request,
    query: &[(String, String)],
    form: &[(String, String)],
) -> String {
    // The header by a constant name: a mixed-case name would be lower-cased on every request.
    const OVERRIDE: HeaderName = HeaderName::from_static("x-http-method-override");
    let name = "X-Http-Method-Override";
    header(&req.headers, OVERRIDE)
        .or_else(|| wire::form::get(query, name))
        .or_else(|| wire::form::get(form, name))
        .map_or_else(
            || req.method.as_str().to_owned(),
            |m| m.trim().to_ascii_uppercase(),
        )
}

#[cfg(test)]
mod tests {
    use super::*;
    use bytes::Bytes;
    use hyper::Method;
    use hyper::header::{HeaderMap, HeaderValue};

    fn request(method: Method, path: &str, headers: &[(&'static str, &'static str)]) -> Request {
        let mut map = HeaderMap::new();
        for (name, value) in headers {
            map.insert(*name, HeaderValue::from_static(value));
        }
        Request {
            method,
            uri: path.parse().unwrap(),
            headers: map,
            body: Bytes::new(),
            remote: None,
        }
    }

    fn resolved(req: &Request, form: &[(String, String)]) -> Resolved {
        resolve(req, req.path(), &[], form, false)
    }

    #[test]
    fn the_label_is_what_dispatch_runs_after_the_method_override() {
        let over = [("x-http-method-override", "get")];
        let r = resolved(&request(Method::POST, "/v1/customerlink", &over), &[]);
        assert_eq!(
            (r.label(), r.method.as_str()),
            ("CustomerLinkQueryRequest", "GET")
        );
        let form = [("X-Http-Method-Override".to_owned(), "DELETE".to_owned())];
        let r = resolved(&request(Method::POST, "/v1/customerlink/abc", &[]), &form);
        assert_eq!(r.label(), "CustomerLinkRevokeRequest");
        let r = resolved(&request(Method::HEAD, "/v1/customerlink/abc", &[]), &[]);
        assert_eq!(r.label(), "CustomerLinkRequest");
        let preflight = [("x-http-method-override", "OPTIONS")];
        let r = resolved(&request(Method::POST, "/v1/customerlink", &preflight), &[]);
        assert_eq!(r.label(), "Preflight");
    }

    /// The label and surface a request with these method, path and (maybe) `Accept:
    /// text/html` resolves to.
    fn names(method: Method, path: &str, html: bool) -> (&'static str, Surface) {
        let headers: &[(&str, &str)] = if html {
            &[("accept", "text/html")]
        } else {
            &[]
        };
        let r = resolved(&request(method, path, headers), &[]);
        (r.label(), r.surface)
    }

    #[test]
    fn pages_misses_and_fixed_names() {
        let portal = |label| (label, Surface::Portal);
        let staff = |label| (label, Surface::Staff);
        assert_eq!(names(Method::GET, "/portal", false), portal("PortalPage"));
        assert_eq!(names(Method::GET, "/portal/t", true), portal("PortalPage"));
        let landing = portal("PortalLandingRequest");
        assert_eq!(names(Method::GET, "/portal/t", false), landing);
        assert_eq!(
            names(Method::OPTIONS, "/portal/t/otp", false),
            portal("Preflight")
        );
        assert_eq!(
            names(Method::PATCH, "/portal/t/open", false),
            portal("WrongVerb")
        );
        assert_eq!(
            names(Method::PATCH, "/v1/customerlink", false),
            staff("WrongVerb")
        );
        let unknown = names(Method::GET, "/nope/secret-looking", false);
        assert_eq!(unknown, staff("NotFound"));
        assert_eq!(names(Method::GET, "/OpenAPI.json", false), staff("OpenApi"));
    }
}
