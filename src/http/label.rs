//! Names for requests in metrics and logs: the operation's request DTO name from the route
//! table, or a fixed name for service endpoints. The set is closed (no path text ever becomes
//! a label), so metric series stay bounded and no token in a path reaches a log.

use hyper::Method;

use crate::api::routes::{self, Miss};

/// The operation a request is for.
pub fn operation(method: &Method, path: &str) -> &'static str {
    match path {
        "/health/live" => return "HealthLive",
        "/health/ready" => return "HealthReady",
        "/metrics" => return "Metrics",
        "/admin/backup" => return "AdminBackup",
        "/openapi.json" => return "OpenApi",
        _ => {}
    }
    if method == Method::OPTIONS {
        return "Preflight";
    }
    if matches!(
        path,
        "/portal"
            | "/portal/style.css"
            | "/portal/otp"
            | "/portal/verify"
            | "/portal/open"
            | "/portal/switch"
    ) {
        // The browser pages (the JSON portal has a token segment in each path).
        return "PortalPage";
    }
    let verb = if method == Method::HEAD {
        "GET"
    } else {
        method.as_str()
    };
    match routes::find(verb, path) {
        Ok(m) => m.route.request,
        Err(Miss::WrongVerb(_)) => "WrongVerb",
        Err(Miss::NotFound) => "NotFound",
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn labels_come_from_the_route_table_or_a_fixed_set() {
        assert_eq!(
            operation(&Method::POST, "/v1/customerlink"),
            "CustomerLinkCreateRequest"
        );
        assert_eq!(
            operation(&Method::GET, "/v1/customerlink/0123"),
            "CustomerLinkRequest"
        );
        assert_eq!(
            operation(&Method::POST, "/api/CustomerLinkCreateRequest"),
            "CustomerLinkCreateRequest"
        );
        assert_eq!(operation(&Method::GET, "/health/ready"), "HealthReady");
        assert_eq!(
            operation(&Method::GET, "/nope/secret-looking-thing"),
            "NotFound"
        );
        assert_eq!(operation(&Method::PATCH, "/v1/customerlink"), "WrongVerb");
        assert_eq!(operation(&Method::GET, "/portal"), "PortalPage");
    }
}
