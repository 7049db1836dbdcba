//! The custom routes of [`ROUTES`] split into segments once and grouped by their number of
//! segments, so a lookup compares a path only with the rows of its own length and never
//! re-splits a pattern (splitting every row's pattern on every request was most of a
//! lookup's cost). Each group keeps table order, so the first row that matches still wins.

use std::sync::OnceLock;

use super::{ROUTES, Route};

/// The most segments a path may have to reach a route (longer paths reach none).
pub(super) const MAX_SEGMENTS: usize = 8;

/// One segment of a route's path.
#[derive(Debug, Clone, Copy)]
enum Part {
    /// Compared ignoring ASCII case.
    Literal(&'static str),
    /// `{Name}`: any segment, bound to the member `Name`.
    Variable(&'static str),
}

/// A row of the table and its path, split.
pub(super) struct Shape {
    pub route: &'static Route,
    parts: Vec<Part>,
}

impl Shape {
    fn of(route: &'static Route) -> Shape {
        let parts = route
            .path
            .trim_matches('/')
            .split('/')
            .map(
                |part| match part.strip_prefix('{').and_then(|p| p.strip_suffix('}')) {
                    Some(name) => Part::Variable(name),
                    None => Part::Literal(part),
                },
            )
            .collect();
        Shape { route, parts }
    }

    /// Same number of segments and every literal equal (ignoring case).
    pub fn matches(&self, segments: &[&str]) -> bool {
        self.parts.len() == segments.len()
            && self
                .parts
                .iter()
                .zip(segments)
                .all(|(part, segment)| match part {
                    Part::Literal(literal) => literal.eq_ignore_ascii_case(segment),
                    Part::Variable(_) => true,
                })
    }

    /// The path variables of a matching path, percent-decoded; `None` when one does not
    /// decode.
    pub fn bind(&self, segments: &[&str]) -> Option<Vec<(String, String)>> {
        self.parts
            .iter()
            .zip(segments)
            .filter_map(|(part, segment)| match part {
                Part::Variable(name) => Some((*name, *segment)),
                Part::Literal(_) => None,
            })
            .map(|(name, segment)| {
                crate::wire::form::percent_decode(segment).map(|value| (name.to_owned(), value))
            })
            .collect()
    }
}

/// The rows whose paths have `count` segments, in table order.
pub(super) fn of_length(count: usize) -> &'static [Shape] {
    static GROUPS: OnceLock<Vec<Vec<Shape>>> = OnceLock::new();
    let groups = GROUPS.get_or_init(|| {
        let mut groups: Vec<Vec<Shape>> = (0..=MAX_SEGMENTS).map(|_| Vec::new()).collect();
        for shape in ROUTES.iter().map(Shape::of) {
            if let Some(group) = groups.get_mut(shape.parts.len()) {
                group.push(shape);
            }
        }
        groups
    });
    groups.get(count).map_or(&[], Vec::as_slice)
}

#[cfg(test)]
mod tests {
    use super::super::{Lookup, Miss, lookup};
    use super::*;

    /// What a lookup found (the row's path and the bound variables) and the path it reaches.
    type Seen = (
        Result<(&'static str, Vec<(String, String)>), Miss>,
        Option<&'static str>,
    );

    /// The lookup as it was: every row of the table, its pattern split on each request.
    fn scan(verb: &str, path: &str) -> Seen {
        let segments: Vec<&str> = path.split('/').filter(|s| !s.is_empty()).collect();
        if segments.len() > MAX_SEGMENTS {
            return (Err(Miss::NotFound), None);
        }
        let variable =
            |part: &'static str| part.strip_prefix('{').and_then(|p| p.strip_suffix('}'));
        let mut at = None;
        let mut wrong_verb = None;
        for route in ROUTES {
            let parts: Vec<&'static str> = route.path.trim_matches('/').split('/').collect();
            let shape = parts.len() == segments.len()
                && parts
                    .iter()
                    .zip(&segments)
                    .all(|(p, s)| variable(p).is_some() || p.eq_ignore_ascii_case(s));
            if !shape {
                continue;
            }
            at.get_or_insert(route.path);
            let vars: Option<Vec<(String, String)>> = parts
                .iter()
                .zip(&segments)
                .filter_map(|(p, s)| variable(p).map(|name| (name, s)))
                .map(|(name, s)| crate::wire::form::percent_decode(s).map(|v| (name.to_owned(), v)))
                .collect();
            let Some(vars) = vars else { continue };
            if route.verbs.iter().any(|v| v.eq_ignore_ascii_case(verb)) {
                return (Ok((route.path, vars)), at);
            }
            wrong_verb.get_or_insert(route.request);
        }
        (Err(wrong_verb.map_or(Miss::NotFound, Miss::WrongVerb)), at)
    }

    fn seen(l: Lookup) -> Seen {
        let found = l.found.map(|m| (m.route.path, m.vars));
        (found, l.at.map(|r| r.path))
    }

    /// Paths that reach each row (in several spellings) and many that reach none.
    fn paths() -> Vec<String> {
        let mut paths = Vec::new();
        for route in ROUTES {
            for value in ["abc", "Q%20X", "%FF", "resource", "revoke", "download"] {
                let path = route
                    .path
                    .split('/')
                    .map(|p| if p.starts_with('{') { value } else { p })
                    .collect::<Vec<_>>()
                    .join("/");
                paths.push(path.to_uppercase());
                paths.push(format!("/{path}/"));
                paths.push(format!("{path}/extra"));
                if let Some((shorter, _)) = path.rsplit_once('/') {
                    paths.push(shorter.to_owned());
                }
                paths.push(path);
            }
        }
        for miss in [
            "",
            "/",
            "/nope",
            "/v1",
            "/v1/x/y/z",
            "/v2/customerlink/a",
            "/a/b/c/d/e/f/g/h",
            "/a/b/c/d/e/f/g/h/i",
            "/portal",
            "/share",
        ] {
            paths.push(miss.to_owned());
        }
        paths
    }

    #[test]
    fn the_grouped_lookup_answers_as_the_scan_of_every_row() {
        let verbs = [
            "GET", "get", "POST", "PUT", "DELETE", "PATCH", "OPTIONS", "HEAD",
        ];
        let mut checked = 0;
        for path in paths() {
            for verb in verbs {
                assert_eq!(
                    seen(lookup(verb, &path)),
                    scan(verb, &path),
                    "{verb} {path}"
                );
                checked += 1;
            }
        }
        assert!(checked > ROUTES.len() * 30 * verbs.len(), "{checked}");
    }

    #[test]
    fn every_row_is_in_the_group_of_its_length() {
        let grouped: usize = (0..=MAX_SEGMENTS).map(|n| of_length(n).len()).sum();
        assert_eq!(grouped, ROUTES.len());
        assert!(of_length(MAX_SEGMENTS + 1).is_empty());
    }
}
