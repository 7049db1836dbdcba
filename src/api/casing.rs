//! How the reply casing of one request is chosen (README "Wire compatibility"). The signals
//! are read elsewhere (`wire::casing` reads `?jsconfig=` and member names, `routes` knows the
//! route and its DTO's members, `auth` the key's pin); this is the one place that ranks them.

use crate::domain::tenant::CasingPin;
use crate::wire::casing::Casing;

/// The reply casing, from the strongest signal present (README "Wire compatibility"):
/// `?jsconfig=`, the API key's pin, the server setting, the casing of the operation's DTO
/// member names in the request, and last the route. Custom and `/{fmt}/reply/` routes answer
/// PascalCase (the seed). `/api/{Op}` answers camelCase — ServiceStack's endpoint-routing
/// default and all the Python client reads — to a request that asks for JSON alone
/// (`Accept: application/json`, as the Python and .NET JSON clients send), and PascalCase to
/// one that does not (the TypeScript client sets none: fetch sends `*/*`; its DTOs read PascalCase).
/// Never the User-Agent: official clients send any.
#[derive(Debug, Clone, Copy)]
pub(super) struct CasingRule {
    pub jsconfig: Option<Casing>,
    pub server: Option<Casing>,
    /// `/api/{Op}` and the request's Accept names `application/json` alone.
    pub api_json_only: bool,
}

impl CasingRule {
    pub fn decide(self, pin: Option<CasingPin>, members: Option<Casing>) -> Casing {
        let pin = pin.map(|p| match p {
            CasingPin::Camel => Casing::Camel,
            CasingPin::Pascal => Casing::Pascal,
        });
        let route = if self.api_json_only {
            Casing::Camel
        } else {
            Casing::Pascal
        };
        self.jsconfig
            .or(pin)
            .or(self.server)
            .or(members)
            .unwrap_or(route)
    }
}

/// An Accept header that names `application/json` and nothing else (parameters ignored).
pub(super) fn json_only(accept: &str) -> bool {
    accept.split(',').all(|range| {
        let media = range.split(';').next().unwrap_or_default().trim();
        media.eq_ignore_ascii_case("application/json")
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_strongest_signal_wins() {
        let rule = |jsconfig, server, api_json_only| CasingRule {
            jsconfig,
            server,
            api_json_only,
        };
        let (camel, pascal) = (Some(Casing::Camel), Some(Casing::Pascal));
        assert_eq!(rule(None, None, true).decide(None, None), Casing::Camel);
        assert_eq!(rule(None, None, false).decide(None, None), Casing::Pascal);
        assert_eq!(rule(None, None, true).decide(None, pascal), Casing::Pascal);
        assert_eq!(
            rule(None, pascal, false).decide(None, camel),
            Casing::Pascal
        );
        let pinned = Some(CasingPin::Camel);
        assert_eq!(
            rule(None, pascal, false).decide(pinned, pascal),
            Casing::Camel
        );
        assert_eq!(
            rule(pascal, None, true).decide(pinned, camel),
            Casing::Pascal
        );
    }

    #[test]
    fn only_a_json_only_accept_counts() {
        assert!(json_only("application/json"));
        assert!(json_only("Application/JSON; charset=utf-8"));
        assert!(!json_only("*/*"));
        assert!(!json_only("application/json, */*"));
        assert!(!json_only(""));
    }
}
