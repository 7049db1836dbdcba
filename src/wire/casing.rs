//! Member-name casing of JSON, JSONL and JSV output. PascalCase as the seed's samples show,
//! unless the request named its fields in camelCase (DESIGN.md "Wire decisions": the official
//! Python client sends and reads camelCase), `?jsconfig=` says otherwise, or the server forces
//! one. Dictionary keys are data and are never re-cased (servicestack-wire.md §2.1).

use std::borrow::Cow;

/// How member names are written.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Casing {
    #[default]
    Pascal,
    Camel,
}

impl Casing {
    /// The member name in this casing.
    pub fn apply(self, name: &str) -> Cow<'_, str> {
        match self {
            Casing::Pascal => Cow::Borrowed(name),
            Casing::Camel => Cow::Owned(to_camel_case(name)),
        }
    }

    /// The casing a `?jsconfig=` value asks for, if it names one
    /// (`TextCase:CamelCase`, `tc:cc`, `eccn`, `EmitCamelCaseNames`, `epcn`, …).
    pub fn from_jsconfig(jsconfig: &str) -> Option<Casing> {
        let mut chosen = None;
        for item in jsconfig.split(',') {
            let (key, value) = item.split_once(':').unwrap_or((item, "true"));
            let key = key.trim().to_ascii_lowercase();
            let value = value.trim().to_ascii_lowercase();
            let on = !matches!(value.as_str(), "false" | "0");
            chosen = match (key.as_str(), value.as_str()) {
                ("textcase" | "tc", "camelcase" | "cc") => Some(Casing::Camel),
                ("textcase" | "tc", "pascalcase" | "pc" | "default") => Some(Casing::Pascal),
                ("emitcamelcasenames" | "eccn", _) if on => Some(Casing::Camel),
                ("emitpascalcasenames" | "epcn", _) if on => Some(Casing::Pascal),
                _ => chosen,
            };
        }
        chosen
    }

    /// For a request that names no members at all (a parameterless GET): the official Python
    /// client, which reads only camelCase, is recognised by the `requests` library's
    /// User-Agent. Every other client keeps the PascalCase default.
    pub fn of_user_agent(user_agent: &str) -> Option<Casing> {
        user_agent
            .starts_with("python-requests/")
            .then_some(Casing::Camel)
    }

    /// camelCase when the first member name the client sent starts with a lower-case letter.
    pub fn of_request_names<'a>(mut names: impl Iterator<Item = &'a str>) -> Option<Casing> {
        let first = names.find_map(|n| n.chars().next().filter(char::is_ascii_alphabetic))?;
        Some(if first.is_ascii_lowercase() {
            Casing::Camel
        } else {
            Casing::Pascal
        })
    }
}

/// ServiceStack's `ToCamelCase`: lower-case the leading run of capitals, except the last one
/// when a lower-case letter follows it (`ID`→`id`, `URLValue`→`urlValue`, `CustomerLinkUID`→
/// `customerLinkUID`).
pub fn to_camel_case(name: &str) -> String {
    let chars: Vec<char> = name.chars().collect();
    let mut out = String::with_capacity(name.len());
    let mut leading = true;
    for (i, c) in chars.iter().enumerate() {
        if leading && c.is_uppercase() {
            let next_is_lower = chars.get(i + 1).is_some_and(|n| n.is_lowercase());
            if i > 0 && next_is_lower {
                leading = false;
                out.push(*c);
            } else {
                out.extend(c.to_lowercase());
            }
        } else {
            leading = false;
            out.push(*c);
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn camel_case_follows_servicestack() {
        for (from, to) in [
            ("Id", "id"),
            ("ID", "id"),
            ("URLValue", "urlValue"),
            ("IPAddress", "ipAddress"),
            ("ResponseStatus", "responseStatus"),
            ("CustomerLinkUID", "customerLinkUID"),
            ("SMSOptIn", "smsOptIn"),
            ("ContactGUID", "contactGUID"),
            ("already", "already"),
        ] {
            assert_eq!(to_camel_case(from), to, "{from}");
        }
    }

    #[test]
    fn jsconfig_values() {
        assert_eq!(
            Casing::from_jsconfig("TextCase:CamelCase"),
            Some(Casing::Camel)
        );
        assert_eq!(Casing::from_jsconfig("tc:pc"), Some(Casing::Pascal));
        assert_eq!(
            Casing::from_jsconfig("dh:iso8601,eccn"),
            Some(Casing::Camel)
        );
        assert_eq!(Casing::from_jsconfig("epcn"), Some(Casing::Pascal));
        assert_eq!(Casing::from_jsconfig("eccn:false"), None);
        assert_eq!(Casing::from_jsconfig("edv"), None);
    }

    #[test]
    fn only_the_python_client_is_recognised_by_its_user_agent() {
        assert_eq!(
            Casing::of_user_agent("python-requests/2.32.3"),
            Some(Casing::Camel)
        );
        assert_eq!(Casing::of_user_agent("node"), None);
        assert_eq!(Casing::of_user_agent("curl/8.5.0"), None);
    }

    #[test]
    fn request_names_decide() {
        assert_eq!(
            Casing::of_request_names(["resourceType"].into_iter()),
            Some(Casing::Camel)
        );
        assert_eq!(
            Casing::of_request_names(["ResourceType"].into_iter()),
            Some(Casing::Pascal)
        );
        assert_eq!(Casing::of_request_names(["_x", "1"].into_iter()), None);
    }
}
