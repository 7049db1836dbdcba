//! What ServiceStack's `CsvSerializer<T>` decides from the response *type* alone
//! (`T/CsvSerializer.cs` `GetWriteFn` for a `[DataContract]` type, see `IsDto` in
//! `T/PlatformExtensions.cs`; `T/CsvWriter.cs` `Reset`): which member is written and which
//! columns the rows have. Values cannot decide either — an empty or null list has no
//! record to take names from — so the type's JSON schema (every DTO derives one for
//! `/openapi.json`) stands in for .NET reflection.

use crate::wire::node::Node;
use schemars::{JsonSchema, SchemaGenerator};
use serde_json::Value;

/// The columns of the records written.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Columns {
    /// Records of a DTO type: a header row of these member names, then one row per record.
    Named(Vec<String>),
    /// Strings, numbers and other scalars: one header-less row holding every item, as
    /// `CsvWriter<string>` / `GetSingleRow` write them.
    Scalars,
}

/// Which part of the response becomes CSV records.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Shape {
    /// The response is itself a list: its items.
    Items(Columns),
    /// The first member other than `ResponseStatus` whose type is a list: its items; nothing
    /// at all when it is null (`CsvWriter<T>.Write` returns on a null list).
    ListMember(String, Columns),
    /// No list member, but a member of a DTO type: that one record.
    ObjectMember(String, Columns),
    /// Neither: the response itself as one record, every member a column.
    Itself(Columns),
}

impl Shape {
    /// The shape of a value whose type is known only at run time (an AutoBatch's list of
    /// replies): a list's records take their columns from its first record, whose members
    /// include the null ones, so they are still the record type's members.
    pub fn of_node(node: &Node) -> Shape {
        let columns = |record: Option<&Node>| match record {
            Some(Node::Object { members, .. }) => {
                Columns::Named(members.iter().map(|(name, _)| (*name).to_owned()).collect())
            }
            _ => Columns::Scalars,
        };
        match node {
            Node::List(items) => Shape::Items(columns(items.first())),
            other => Shape::Itself(columns(Some(other))),
        }
    }

    /// The shape of `T`, following `GetWriteFn` for a `[DataContract]` DTO: members of string
    /// and value types (numbers, bools, Guids, dates) and `ResponseStatus` are passed over; the
    /// first list-typed member wins even after a DTO-typed one.
    pub fn of<T: JsonSchema>() -> Shape {
        let root = SchemaGenerator::default().into_root_schema_for::<T>();
        let root = root.as_value();
        match kind(root, root) {
            Kind::List(items) => Shape::Items(columns(root, items)),
            Kind::Scalar => Shape::Itself(Columns::Scalars),
            Kind::Object(members) => {
                let mut first_object = None;
                for (name, schema) in members.iter().filter(|(n, _)| *n != "ResponseStatus") {
                    match kind(root, schema) {
                        Kind::List(items) => {
                            return Shape::ListMember(name.clone(), columns(root, items));
                        }
                        Kind::Object(_) if first_object.is_none() => {
                            first_object = Some((name, schema));
                        }
                        _ => {}
                    }
                }
                match first_object {
                    Some((name, schema)) => {
                        Shape::ObjectMember(name.clone(), columns(root, schema))
                    }
                    None => Shape::Itself(Columns::Named(members.keys().cloned().collect())),
                }
            }
        }
    }
}

/// How a schema is written: a list, a DTO with named members, or a scalar.
enum Kind<'a> {
    List(&'a Value),
    Object(&'a serde_json::Map<String, Value>),
    Scalar,
}

/// The columns of records of type `schema`: its members' names in declaration order
/// (`TypeConfig<T>.Properties`), or a scalar row.
fn columns(root: &Value, schema: &Value) -> Columns {
    match kind(root, schema) {
        Kind::Object(members) => Columns::Named(members.keys().cloned().collect()),
        Kind::List(_) | Kind::Scalar => Columns::Scalars,
    }
}

fn kind<'a>(root: &'a Value, schema: &'a Value) -> Kind<'a> {
    let schema = resolve(root, schema);
    let types: Vec<&str> = match schema.get("type") {
        Some(Value::String(t)) => vec![t.as_str()],
        Some(Value::Array(ts)) => ts.iter().filter_map(Value::as_str).collect(),
        _ => Vec::new(),
    };
    if types.contains(&"array") {
        return schema.get("items").map_or(Kind::Scalar, Kind::List);
    }
    match schema.get("properties") {
        Some(Value::Object(members)) => Kind::Object(members),
        _ => Kind::Scalar,
    }
}

/// Follows `$ref`s into `$defs` and looks through `Option`'s `anyOf [T, null]`.
fn resolve<'a>(root: &'a Value, mut schema: &'a Value) -> &'a Value {
    // A DTO graph is shallow; the bound only guards against a reference cycle.
    for _ in 0..16 {
        if let Some(name) = schema
            .get("$ref")
            .and_then(Value::as_str)
            .and_then(|r| r.strip_prefix("#/$defs/"))
        {
            match root.get("$defs").and_then(|d| d.get(name)) {
                Some(target) => schema = target,
                None => return schema,
            }
        } else if let Some(Value::Array(variants)) =
            schema.get("anyOf").or_else(|| schema.get("oneOf"))
        {
            let not_null = variants
                .iter()
                .find(|v| v.get("type").and_then(Value::as_str) != Some("null"));
            match not_null {
                Some(variant) => schema = variant,
                None => return schema,
            }
        } else {
            return schema;
        }
    }
    schema
}
