//! Binding: builds a request DTO from the body, the route's path variables and the query
//! string, in that order, matching member names case-insensitively as ServiceStack does
//! (servicestack-wire.md §2.1, §7.1). Unknown members are ignored; a value of the wrong type is
//! a 400 naming the field as the client sent it (a deliberate difference for bodies:
//! ServiceStack would silently default it), with every offending member listed as
//! `StringMapTypeDeserializer` lists them.

use serde::de::{self, DeserializeOwned, Deserializer, Visitor};
use serde_json::{Map, Value};

/// Members whose values are credentials: never echoed in an error.
const SECRET_MEMBERS: [&str; 2] = ["Token", "Code"];

/// Why a request could not be bound.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum BindError {
    /// The body is not a well-formed document of its format, or not an object. `detail` says
    /// why without quoting the body (it may hold a passcode).
    Unreadable {
        /// The request's media type, when known.
        content_type: Option<String>,
        detail: String,
    },
    /// Values that do not convert to their members' types, in the order met.
    Invalid(Vec<BadValue>),
}

/// One member whose value could not be converted.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct BadValue {
    /// The name as the client sent it (`maxviews`, `MaxViews`), as ServiceStack reports it.
    pub name: String,
    /// The DTO member (canonical PascalCase).
    pub member: &'static str,
    /// The text sent; `None` for credentials.
    pub value: Option<String>,
}

/// Where a request's values came from.
#[derive(Debug, Default)]
pub struct Sources<'a> {
    /// The parsed body; `None` when the request had none.
    pub body: Option<Value>,
    pub path: &'a [(String, String)],
    pub query: &'a [(String, String)],
    pub form: &'a [(String, String)],
}

/// Values by canonical member name, in the order first set.
type Members = Map<String, Value>;

/// Binds `T` from all sources: body, then path, then query, then form; later sources override
/// earlier ones (servicestack-wire.md §7.1), repeated query/form keys are joined with `,`.
/// Fails with every member whose value does not convert.
pub fn bind<T: DeserializeOwned>(sources: Sources<'_>) -> Result<T, BindError> {
    let names = member_names::<T>();
    let canonical = |key: &str| names.iter().find(|n| n.eq_ignore_ascii_case(key)).copied();
    let mut members = Members::new();
    let mut sent_as: Vec<(&'static str, String)> = Vec::new();
    let mut set = |name: &'static str, key: &str, value: Value, members: &mut Members| {
        members.insert(name.to_owned(), value);
        sent_as.retain(|(n, _)| *n != name);
        sent_as.push((name, key.to_owned()));
    };
    match sources.body {
        None | Some(Value::Null) => {}
        Some(Value::Object(body)) => {
            for (key, value) in body {
                if let Some(name) = canonical(&key) {
                    set(name, &key, value, &mut members);
                }
            }
        }
        Some(_) => return Err(not_an_object(None)),
    }
    for (key, value) in sources.path {
        if let Some(name) = canonical(key) {
            set(name, key, Value::String(value.clone()), &mut members);
        }
    }
    for text_source in [sources.query, sources.form] {
        let mut joined: Vec<(&'static str, &str, String)> = Vec::new();
        for (key, value) in text_source {
            let Some(name) = canonical(key) else { continue };
            match joined.iter_mut().find(|(n, _, _)| *n == name) {
                Some((_, _, text)) => {
                    text.push(',');
                    text.push_str(value);
                }
                None => joined.push((name, key, value.clone())),
            }
        }
        for (name, key, value) in joined {
            set(name, key, Value::String(value), &mut members);
        }
    }
    convert(members, &sent_as)
}

/// Deserializes, and on failure drops the offending member and tries again, so every bad
/// member is reported (at most one pass per member). Reads the members by reference: a copy
/// of them per attempt was a visible share of a small request's time.
fn convert<T: DeserializeOwned>(
    members: Members,
    sent_as: &[(&'static str, String)],
) -> Result<T, BindError> {
    let mut bad = Vec::new();
    let mut members = Value::Object(members);
    loop {
        match serde_path_to_error::deserialize::<_, T>(&members) {
            Ok(dto) if bad.is_empty() => return Ok(dto),
            Ok(_) => return Err(BindError::Invalid(bad)),
            Err(e) => {
                let failed = e.path().iter().next().map(|s| s.to_string());
                let Some((member, key)) = failed
                    .and_then(|f| sent_as.iter().find(|(n, _)| *n == f))
                    .map(|(n, k)| (*n, k.clone()))
                else {
                    return Err(unattributed(bad));
                };
                let value = members.as_object_mut().and_then(|m| m.remove(member));
                bad.push(BadValue {
                    name: key,
                    member,
                    value: value
                        .filter(|_| !SECRET_MEMBERS.contains(&member))
                        .map(text_of),
                });
            }
        }
    }
}

/// A value as the client wrote it: text as is, anything else as compact JSON.
fn text_of(value: Value) -> String {
    match value {
        Value::String(text) => text,
        other => other.to_string(),
    }
}

/// A failure no sent member explains (none is expected: every DTO member has a default): the
/// members found so far, or the request as a whole.
fn unattributed(bad: Vec<BadValue>) -> BindError {
    if bad.is_empty() {
        BindError::Unreadable {
            content_type: None,
            detail: "The request does not fit the operation's request DTO".into(),
        }
    } else {
        BindError::Invalid(bad)
    }
}

/// A body that is not an object cannot be a request DTO (ServiceStack.Text:
/// `Type definitions should start with a '{'`).
pub fn not_an_object(content_type: Option<String>) -> BindError {
    BindError::Unreadable {
        content_type,
        detail: "Type definitions should start with a '{'".into(),
    }
}

/// The member names a DTO's serde derive declares (asks the derive through a probe).
pub fn member_names<T: DeserializeOwned>() -> &'static [&'static str] {
    let mut probe = Probe(&[]);
    let _ = T::deserialize(&mut probe);
    probe.0
}

struct Probe(&'static [&'static str]);

#[derive(Debug, thiserror::Error)]
#[error("probe")]
struct ProbeDone;

impl de::Error for ProbeDone {
    fn custom<M: std::fmt::Display>(_: M) -> Self {
        ProbeDone
    }
}

impl<'de> Deserializer<'de> for &mut Probe {
    type Error = ProbeDone;

    fn deserialize_any<V: Visitor<'de>>(self, _: V) -> Result<V::Value, ProbeDone> {
        Err(ProbeDone)
    }

    fn deserialize_struct<V: Visitor<'de>>(
        self,
        _: &'static str,
        fields: &'static [&'static str],
        _: V,
    ) -> Result<V::Value, ProbeDone> {
        self.0 = fields;
        Err(ProbeDone)
    }

    serde::forward_to_deserialize_any! {
        bool i8 i16 i32 i64 i128 u8 u16 u32 u64 u128 f32 f64 char str string bytes byte_buf
        option unit unit_struct newtype_struct seq tuple tuple_struct map enum identifier
        ignored_any
    }
}

#[cfg(test)]
mod tests {
    #![allow(non_snake_case)]
    use super::*;
    use serde::Deserialize;

    #[derive(Debug, Deserialize, Default, PartialEq)]
    #[serde(default)]
    struct Dto {
        ResourceType: Option<String>,
        #[serde(deserialize_with = "crate::wire::types::lenient::opt_i32")]
        MaxViews: Option<i32>,
    }

    fn pairs(p: &[(&str, &str)]) -> Vec<(String, String)> {
        p.iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect()
    }

    #[test]
    fn names_are_matched_case_insensitively() {
        let body = serde_json::json!({"resourcetype": "Quote", "MAXVIEWS": 3, "Other": 1});
        let dto: Dto = bind(Sources {
            body: Some(body),
            ..Sources::default()
        })
        .unwrap();
        assert_eq!(
            dto,
            Dto {
                ResourceType: Some("Quote".into()),
                MaxViews: Some(3)
            }
        );
    }

    #[test]
    fn path_query_and_form_values_are_text_and_override_the_body() {
        let path = pairs(&[("resourceType", "Invoice")]);
        let query = pairs(&[("maxViews", "7")]);
        let body = serde_json::json!({"ResourceType": "Quote", "MaxViews": 3});
        let dto: Dto = bind(Sources {
            body: Some(body),
            path: &path,
            query: &query,
            form: &[],
        })
        .unwrap();
        assert_eq!(
            dto,
            Dto {
                ResourceType: Some("Invoice".into()),
                MaxViews: Some(7)
            }
        );
        let form = pairs(&[
            ("MaxViews", "9"),
            ("resourcetype", "A"),
            ("ResourceType", "B"),
        ]);
        let dto: Dto = bind(Sources {
            form: &form,
            query: &query,
            ..Sources::default()
        })
        .unwrap();
        assert_eq!(
            dto,
            Dto {
                ResourceType: Some("A,B".into()),
                MaxViews: Some(9)
            }
        );
    }

    #[test]
    fn wrong_type_names_the_field() {
        let body = serde_json::json!({"maxviews": "many"});
        let err = bind::<Dto>(Sources {
            body: Some(body),
            ..Sources::default()
        })
        .unwrap_err();
        assert_eq!(
            err,
            BindError::Invalid(vec![BadValue {
                name: "maxviews".into(),
                member: "MaxViews",
                value: Some("many".into())
            }])
        );
    }

    #[test]
    fn every_bad_member_is_reported_with_the_name_sent() {
        let query = pairs(&[("MAXVIEWS", "x")]);
        let body = serde_json::json!({"resourceType": 5});
        let err = bind::<Dto>(Sources {
            body: Some(body),
            query: &query,
            ..Sources::default()
        })
        .unwrap_err();
        let BindError::Invalid(bad) = err else {
            panic!("{err:?}")
        };
        let names: Vec<_> = bad
            .iter()
            .map(|b| (b.name.as_str(), b.value.as_deref()))
            .collect();
        assert_eq!(
            names,
            [("resourceType", Some("5")), ("MAXVIEWS", Some("x"))]
        );
    }

    #[test]
    fn probe_lists_members() {
        assert_eq!(member_names::<Dto>(), ["ResourceType", "MaxViews"]);
    }
}
