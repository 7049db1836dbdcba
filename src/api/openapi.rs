//! `GET /openapi.json`: an OpenAPI 3.1 description generated from the same route table the
//! router uses, with JSON Schemas derived from the DTOs' own serde derives, so the document
//! cannot drift from what the server does.

use schemars::generate::SchemaSettings;
use serde_json::{Map, Value, json};

use super::routes::{ROUTES, Route};

/// The whole document (built once at start-up).
pub fn document(public_url: &str) -> Value {
    let mut generator = SchemaSettings::draft2020_12()
        .with(|s| {
            s.definitions_path = "/components/schemas".into();
            s.meta_schema = None;
        })
        .into_generator();
    let error = generator
        .subschema_for::<crate::wire::status::ErrorResponse>()
        .to_value();
    let mut paths = Map::new();
    let mut shared = Vec::new();
    for route in ROUTES {
        let (request, response) = (route.schemas)(&mut generator);
        let request = named(
            request.to_value(),
            route.request,
            &mut generator,
            &mut shared,
        );
        let response = response.to_value();
        let item = paths
            .entry(route.path.to_owned())
            .or_insert_with(|| json!({}));
        for verb in route.verbs {
            item[verb.to_ascii_lowercase()] =
                operation(route, verb, &request, &response, &error, &generator);
        }
    }
    for name in shared {
        if !ROUTES.iter().any(|r| r.request == name) {
            generator.definitions_mut().remove(&name);
        }
    }
    json!({
        "openapi": "3.1.0",
        "info": {
            "title": "customerlink",
            "version": env!("CARGO_PKG_VERSION"),
            "description": "Secure customer links. Every operation is also reachable as /api/{RequestDto} (JSON), \
                /json/reply/{RequestDto}, /jsv/reply/{RequestDto} and /xml/reply/{RequestDto}; replies come in \
                JSON, JSV, XML, CSV or JSONL by suffix, ?format=, or Accept."
        },
        "servers": [{ "url": public_url }],
        "paths": paths,
        "components": {
            "schemas": generator.take_definitions(true),
            "securitySchemes": {
                "bearer": { "type": "http", "scheme": "bearer" },
                "basic": { "type": "http", "scheme": "basic", "description": "The API key as user name, empty password." },
                "apiKey": { "type": "apiKey", "in": "header", "name": "X-Api-Key" }
            }
        },
        "security": [{ "bearer": [] }, { "basic": [] }, { "apiKey": [] }]
    })
}

fn operation(
    route: &Route,
    verb: &str,
    request: &Value,
    response: &Value,
    error: &Value,
    generator: &schemars::SchemaGenerator,
) -> Value {
    let properties = resolve(request, generator)
        .and_then(|schema| schema.get("properties").cloned())
        .unwrap_or_else(|| json!({}));
    let path_vars: Vec<&str> = route
        .path
        .split('/')
        .filter_map(|seg| seg.strip_prefix('{').and_then(|s| s.strip_suffix('}')))
        .collect();
    let mut parameters: Vec<Value> = path_vars
        .iter()
        .map(|name| json!({"name": name, "in": "path", "required": true, "schema": properties.get(*name).cloned().unwrap_or(json!({"type": "string"}))}))
        .collect();
    let has_body = matches!(verb, "POST" | "PUT");
    if let Some(props) = properties.as_object().filter(|_| !has_body) {
        parameters.extend(
            props
                .iter()
                .filter(|(name, _)| !path_vars.contains(&name.as_str()))
                .map(|(name, schema)| json!({"name": name, "in": "query", "required": false, "schema": schema})),
        );
    }
    let mut op = json!({
        "operationId": format!("{}.{}", route.request, verb.to_ascii_lowercase()),
        "parameters": parameters,
        "responses": {
            "200": { "description": "Success", "content": { "application/json": { "schema": response } } },
            "default": { "description": "ServiceStack ResponseStatus error", "content": { "application/json": { "schema": error } } }
        }
    });
    if super::attachment::streams(route.op) {
        streamed_file(&mut op, verb);
    } else if has_body {
        op["requestBody"] = json!({
            "required": false,
            "content": {
                "application/json": { "schema": request },
                "application/jsv": { "schema": request },
                "application/xml": { "schema": request },
                "application/x-www-form-urlencoded": { "schema": request }
            }
        });
    }
    op
}

/// The request schema under the operation's own name. One Rust DTO may serve several
/// operations (`DocumentShareIdRequest` binds resend, log and revoke), but clients know each
/// operation's request DTO by the platform's name (`DocumentShareResendRequest`, …), so the
/// schema is published under that name; the shared name is noted in `shared` so it can be
/// dropped when no operation is called so.
fn named(
    schema: Value,
    name: &str,
    generator: &mut schemars::SchemaGenerator,
    shared: &mut Vec<String>,
) -> Value {
    let reference = schema.get("$ref").and_then(Value::as_str);
    let Some(own) = reference.and_then(|r| r.rsplit('/').next()) else {
        return schema;
    };
    if own == name {
        return schema;
    }
    let definitions = generator.definitions_mut();
    let Some(definition) = definitions.get(own).cloned() else {
        return schema;
    };
    shared.push(own.to_owned());
    definitions.entry(name.to_owned()).or_insert(definition);
    json!({ "$ref": format!("#/components/schemas/{name}") })
}

/// The attachment operations carry the file itself: the upload's body (raw, or the `file`
/// part of a multipart form), the download's reply.
fn streamed_file(op: &mut Value, verb: &str) {
    let binary = json!({ "type": "string", "format": "binary" });
    if verb == "PUT" {
        op["description"] = json!(
            "Uploads a file (streamed; limit `attachments.max_bytes`, 413 beyond it). The raw body \
             with `Content-Disposition: attachment; filename=\"…\"`, or multipart/form-data with \
             the file in the field `file`. The content type is sniffed from the bytes."
        );
        op["requestBody"] = json!({
            "required": true,
            "content": {
                "application/octet-stream": { "schema": binary },
                "multipart/form-data": {
                    "schema": { "type": "object", "properties": { "file": binary }, "required": ["file"] }
                }
            }
        });
    } else {
        op["description"] = json!(
            "Downloads the file (streamed), always as an attachment; `application/json` here \
             describes only the shape of errors."
        );
        op["responses"]["200"]["content"]["application/octet-stream"] = json!({ "schema": binary });
    }
}

/// Follows a `$ref` into the generator's definitions.
fn resolve(schema: &Value, generator: &schemars::SchemaGenerator) -> Option<Value> {
    match schema.get("$ref").and_then(Value::as_str) {
        Some(reference) => {
            let name = reference.rsplit('/').next()?;
            generator.definitions().get(name).cloned()
        }
        None => Some(schema.clone()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_route_and_verb_is_described_with_its_schemas() {
        let doc = document("https://links.example");
        assert_eq!(doc["openapi"], "3.1.0");
        for route in ROUTES {
            for verb in route.verbs {
                let op = &doc["paths"][route.path][verb.to_ascii_lowercase()];
                assert!(op.is_object(), "{verb} {}", route.path);
                assert!(
                    op["responses"]["200"]["content"]["application/json"]["schema"]["$ref"]
                        .is_string()
                );
            }
        }
        let create = &doc["paths"]["/v1/customerlink"]["post"];
        assert_eq!(
            create["requestBody"]["content"]["application/json"]["schema"]["$ref"],
            "#/components/schemas/CustomerLinkCreateRequest"
        );
        let upload = &doc["paths"]["/v1/attachment"]["put"]["requestBody"]["content"];
        assert_eq!(
            upload["application/octet-stream"]["schema"]["format"],
            "binary"
        );
        assert!(upload["multipart/form-data"]["schema"]["properties"]["file"].is_object());
        let download = &doc["paths"]["/v1/attachment/{AttachmentId}"]["get"];
        assert!(download["responses"]["200"]["content"]["application/octet-stream"].is_object());
        let schemas = &doc["components"]["schemas"];
        assert!(schemas["CustomerLinkExtended"]["properties"]["CustomerLinkUID"].is_object());
        assert_eq!(
            schemas["CustomerLinkExtended"]["properties"]["CreatedAtUtc"]["format"],
            "date-time"
        );
        let get = &doc["paths"]["/v1/customerlink/{CustomerLinkUID}"]["get"];
        assert_eq!(get["parameters"][0]["name"], "CustomerLinkUID");
        assert_eq!(get["parameters"][0]["in"], "path");
        let query = &doc["paths"]["/v1/customerlink"]["get"]["parameters"];
        let names: Vec<&str> = query
            .as_array()
            .unwrap()
            .iter()
            .filter_map(|p| p["name"].as_str())
            .collect();
        assert_eq!(names, ["Status", "Skip", "Take"]);
    }
}
