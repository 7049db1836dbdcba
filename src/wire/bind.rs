//! Binding: builds a request DTO from the body, the route's path variables and the query
//! string, in that order, matching member names case-insensitively as ServiceStack does
//! (servicestack-wire.md §2.1, §7.1). Unknown members are ignored; a value of the wrong type is
//! a 400 naming the field (a deliberate difference: ServiceStack would silently default it).

use serde::de::{self, DeserializeOwned, Deserializer, Visitor};
use serde_json::{Map, Value};

/// Why a request could not be bound.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct BindError {
    /// The DTO member (canonical PascalCase) that failed, if one did.
    pub field: Option<String>,
    pub message: String,
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

/// Binds `T` from all sources: body, then path, then query, then form; later sources override
/// earlier ones (servicestack-wire.md §7.1), repeated query/form keys are joined with `,`.
pub fn bind<T: DeserializeOwned>(sources: Sources<'_>) -> Result<T, BindError> {
    let names = member_names::<T>();
    let canonical = |key: &str| names.iter().find(|n| n.eq_ignore_ascii_case(key)).copied();
    let mut members = Map::new();
    match sources.body {
        None | Some(Value::Null) => {}
        Some(Value::Object(body)) => {
            for (key, value) in body {
                if let Some(name) = canonical(&key) {
                    members.insert(name.to_owned(), value);
                }
            }
        }
        Some(_) => {
            return Err(BindError {
                field: None,
                message: "The request body must be an object.".into(),
            });
        }
    }
    for (key, value) in sources.path {
        if let Some(name) = canonical(key) {
            members.insert(name.to_owned(), Value::String(value.clone()));
        }
    }
    for text_source in [sources.query, sources.form] {
        let mut joined: Vec<(&str, String)> = Vec::new();
        for (key, value) in text_source {
            let Some(name) = canonical(key) else { continue };
            match joined.iter_mut().find(|(n, _)| *n == name) {
                Some((_, text)) => {
                    text.push(',');
                    text.push_str(value);
                }
                None => joined.push((name, value.clone())),
            }
        }
        for (name, value) in joined {
            members.insert(name.to_owned(), Value::String(value));
        }
    }
    serde_path_to_error::deserialize(Value::Object(members)).map_err(|e| {
        let field = e.path().iter().next().map(|segment| segment.to_string());
        let message = match &field {
            Some(f) => format!("'{f}': {}", e.inner()),
            None => e.inner().to_string(),
        };
        BindError { field, message }
    })
}

/// The member names a DTO's serde derive declares (asks the derive through a probe).
pub fn member_names<T: DeserializeOwned>() -> &'static [&'static str] {
    let mut probe = Probe(&[]);
    let _ = T::deserialize(&mut probe);
    probe.0
}

struct Probe(&'static [&'static str]);

#[derive(Debug)]
struct ProbeDone;

impl std::fmt::Display for ProbeDone {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("probe")
    }
}

impl std::error::Error for ProbeDone {}

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
        assert_eq!(err.field.as_deref(), Some("MaxViews"));
    }

    #[test]
    fn probe_lists_members() {
        assert_eq!(member_names::<Dto>(), ["ResourceType", "MaxViews"]);
    }
}
