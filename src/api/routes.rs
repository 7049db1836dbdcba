//! The route table: every operation, its verbs, its custom route and its request DTO name.
//! The router, the predefined `/api/{Operation}` routes and (later) the OpenAPI description
//! all read this one table, so they cannot drift apart.

/// Every operation the service offers.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Op {
    CreateLink,
    ListResourceLinks,
    QueryLinks,
    GetLink,
    RevokeLink,
    PutContact,
    GetContact,
    DeleteContact,
    ListContacts,
}

/// One custom route.
#[derive(Debug)]
pub struct Route {
    pub verbs: &'static [&'static str],
    /// Literal segments and `{Member}` variables, e.g. `/v1/customerlink/{CustomerLinkUID}`.
    pub path: &'static str,
    pub op: Op,
    /// The request DTO name, as used by `/api/{Operation}`.
    pub request: &'static str,
}

/// Literal routes come before variable ones with the same shape so they win.
pub const ROUTES: &[Route] = &[
    Route {
        verbs: &["POST"],
        path: "/v1/customerlink",
        op: Op::CreateLink,
        request: "CustomerLinkCreateRequest",
    },
    Route {
        verbs: &["GET"],
        path: "/v1/customerlink",
        op: Op::QueryLinks,
        request: "CustomerLinkQueryRequest",
    },
    Route {
        verbs: &["GET"],
        path: "/v1/customerlink/resource/{ResourceType}/{ResourceUid}",
        op: Op::ListResourceLinks,
        request: "CustomerLinkListRequest",
    },
    Route {
        verbs: &["GET"],
        path: "/v1/customerlink/{CustomerLinkUID}",
        op: Op::GetLink,
        request: "CustomerLinkRequest",
    },
    Route {
        verbs: &["DELETE"],
        path: "/v1/customerlink/{CustomerLinkUID}",
        op: Op::RevokeLink,
        request: "CustomerLinkRevokeRequest",
    },
    Route {
        verbs: &["POST"],
        path: "/v1/customerlink/{CustomerLinkUID}/revoke",
        op: Op::RevokeLink,
        request: "CustomerLinkRevokeRequest",
    },
    Route {
        verbs: &["GET"],
        path: "/v1/contact",
        op: Op::ListContacts,
        request: "ContactListRequest",
    },
    Route {
        verbs: &["PUT"],
        path: "/v1/contact/{ContactId}",
        op: Op::PutContact,
        request: "ContactPutRequest",
    },
    Route {
        verbs: &["GET"],
        path: "/v1/contact/{ContactId}",
        op: Op::GetContact,
        request: "ContactRequest",
    },
    Route {
        verbs: &["DELETE"],
        path: "/v1/contact/{ContactId}",
        op: Op::DeleteContact,
        request: "ContactDeleteRequest",
    },
];

/// Why no operation was found.
#[derive(Debug, PartialEq, Eq)]
pub enum Miss {
    NotFound,
    /// The path exists but not with this verb; names the request DTO of the path.
    WrongVerb(&'static str),
}

/// A matched operation and its path variables (percent-decoded).
#[derive(Debug)]
pub struct Matched {
    pub route: &'static Route,
    pub vars: Vec<(String, String)>,
}

/// Finds the operation for a verb and path (path literals compare case-insensitively).
pub fn find(verb: &str, path: &str) -> Result<Matched, Miss> {
    if let Some(name) = strip_prefix_ci(path, "/api/") {
        return find_by_name(verb, name.trim_end_matches('/'));
    }
    let segments: Vec<&str> = path.trim_matches('/').split('/').collect();
    let mut wrong_verb = None;
    for route in ROUTES {
        if let Some(vars) = match_path(route.path, &segments) {
            if route.verbs.iter().any(|v| v.eq_ignore_ascii_case(verb)) {
                return Ok(Matched { route, vars });
            }
            wrong_verb.get_or_insert(route.request);
        }
    }
    Err(wrong_verb.map_or(Miss::NotFound, Miss::WrongVerb))
}

/// `/api/{Operation}`: any of the operation's verbs, or POST (ServiceStack's default).
fn find_by_name(verb: &str, name: &str) -> Result<Matched, Miss> {
    let candidates: Vec<&'static Route> = ROUTES
        .iter()
        .filter(|r| r.request.eq_ignore_ascii_case(name))
        .collect();
    let first = candidates.first().ok_or(Miss::NotFound)?;
    let route = candidates
        .iter()
        .find(|r| r.verbs.iter().any(|v| v.eq_ignore_ascii_case(verb)))
        .or_else(|| verb.eq_ignore_ascii_case("POST").then_some(first))
        .ok_or(Miss::WrongVerb(first.request))?;
    Ok(Matched {
        route,
        vars: Vec::new(),
    })
}

fn match_path(pattern: &str, segments: &[&str]) -> Option<Vec<(String, String)>> {
    let parts: Vec<&str> = pattern.trim_matches('/').split('/').collect();
    if parts.len() != segments.len() {
        return None;
    }
    let mut vars = Vec::new();
    for (part, segment) in parts.iter().zip(segments) {
        match part.strip_prefix('{').and_then(|p| p.strip_suffix('}')) {
            Some(name) => vars.push((name.to_owned(), percent_decode(segment)?)),
            None if part.eq_ignore_ascii_case(segment) => {}
            None => return None,
        }
    }
    Some(vars)
}

fn strip_prefix_ci<'a>(text: &'a str, prefix: &str) -> Option<&'a str> {
    let head = text.get(..prefix.len())?;
    head.eq_ignore_ascii_case(prefix)
        .then(|| &text[prefix.len()..])
}

/// Decodes `%XX` escapes (and `+` as space when `plus_is_space`); `None` on invalid UTF-8.
pub fn percent_decode_with(text: &str, plus_is_space: bool) -> Option<String> {
    let bytes = text.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        match bytes[i] {
            b'%' if i + 2 < bytes.len() => {
                let hex = std::str::from_utf8(&bytes[i + 1..i + 3]).ok();
                match hex.and_then(|h| u8::from_str_radix(h, 16).ok()) {
                    Some(b) => {
                        out.push(b);
                        i += 3;
                        continue;
                    }
                    None => out.push(b'%'),
                }
            }
            b'+' if plus_is_space => out.push(b' '),
            b => out.push(b),
        }
        i += 1;
    }
    String::from_utf8(out).ok()
}

fn percent_decode(text: &str) -> Option<String> {
    percent_decode_with(text, false)
}

/// Splits a query string into decoded pairs (undecodable pairs are dropped).
pub fn query_pairs(query: &str) -> Vec<(String, String)> {
    query
        .split('&')
        .filter(|p| !p.is_empty())
        .filter_map(|pair| {
            let (k, v) = pair.split_once('=').unwrap_or((pair, ""));
            Some((percent_decode_with(k, true)?, percent_decode_with(v, true)?))
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn literal_routes_win_and_variables_are_decoded() {
        let m = find("GET", "/v1/customerlink/resource/Quote%20X/0123").unwrap();
        assert_eq!(m.route.op, Op::ListResourceLinks);
        assert_eq!(m.vars[0], ("ResourceType".into(), "Quote X".into()));
        assert_eq!(
            find("GET", "/V1/CustomerLink/abc").unwrap().route.op,
            Op::GetLink
        );
        assert_eq!(
            find("DELETE", "/v1/customerlink/abc").unwrap().route.op,
            Op::RevokeLink
        );
    }

    #[test]
    fn misses() {
        assert_eq!(find("GET", "/nope").unwrap_err(), Miss::NotFound);
        assert_eq!(
            find("PATCH", "/v1/customerlink/abc").unwrap_err(),
            Miss::WrongVerb("CustomerLinkRequest")
        );
    }

    #[test]
    fn predefined_api_route_by_name() {
        assert_eq!(
            find("POST", "/api/customerlinkcreaterequest")
                .unwrap()
                .route
                .op,
            Op::CreateLink
        );
        assert_eq!(
            find("GET", "/api/CustomerLinkRequest").unwrap().route.op,
            Op::GetLink
        );
        assert_eq!(find("GET", "/api/Nope").unwrap_err(), Miss::NotFound);
    }

    #[test]
    fn query_strings() {
        assert_eq!(
            query_pairs("Status=Active&Take=5&x=%E2%9C%93+y&bad=%FF"),
            vec![
                ("Status".into(), "Active".into()),
                ("Take".into(), "5".into()),
                ("x".into(), "\u{2713} y".into())
            ]
        );
        assert_eq!(percent_decode("100%"), Some("100%".into()));
        assert_eq!(percent_decode("%4"), Some("%4".into()));
    }
}
