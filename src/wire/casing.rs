//! Member-name casing of JSON, JSONL and JSV output, and the signals that choose it. The rule
//! (README "Wire compatibility") is decided in `api` from the route, the member names of the
//! operation's request DTO, the API key's pin, the server setting and `?jsconfig=`; this module
//! only reads each signal. Nothing here looks at the User-Agent: official clients send any.
//! Dictionary keys are data and are never re-cased (servicestack-wire.md §2.1).

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

    /// The casing of the first sent name that is a member of the operation's request DTO
    /// (`members`, compared ignoring case): camelCase when it starts with a lower-case letter.
    /// Any other name (`utm_source`, `v`, `format`) says nothing about the client.
    pub fn of_members<'a>(
        names: impl Iterator<Item = &'a str>,
        members: &[impl AsRef<str>],
    ) -> Option<Casing> {
        let is_member = |n: &str| members.iter().any(|m| m.as_ref().eq_ignore_ascii_case(n));
        let first = names
            .filter(|n| is_member(n))
            .find_map(|n| n.chars().next().filter(char::is_ascii_alphabetic))?;
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
    fn only_member_names_decide() {
        let members = ["ResourceType", "Skip"];
        let of = |names: &[&str]| Casing::of_members(names.iter().copied(), &members);
        assert_eq!(of(&["resourceType"]), Some(Casing::Camel));
        assert_eq!(of(&["utm_source", "ResourceType"]), Some(Casing::Pascal));
        assert_eq!(of(&["v", "utm_source", "format"]), None);
        assert_eq!(of(&[]), None);
    }
}
