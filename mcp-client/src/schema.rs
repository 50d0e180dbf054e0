//! MCP tool input schemas turned into `parameters` the Responses and Chat APIs accept.
//!
//! MCP servers publish arbitrary JSON Schema; the model APIs want an object schema at the top,
//! a `type` on every subschema, `items` on arrays and `properties` on objects, and reject a few
//! keywords. The conversion keeps everything else (enums, `integer`, `anyOf`, descriptions,
//! `$defs`/`$ref`) because the model uses it.

use serde_json::Map;
use serde_json::Value;

/// Keywords dropped everywhere: metadata the APIs refuse or that only costs tokens.
const DROPPED_KEYWORDS: &[&str] = &[
    "$schema",
    "$id",
    "$comment",
    "$anchor",
    "$dynamicAnchor",
    "$dynamicRef",
    "examples",
    "readOnly",
    "writeOnly",
    "deprecated",
    "contentMediaType",
    "contentEncoding",
];

/// Keywords whose value is a map of name → subschema.
const SCHEMA_MAPS: &[&str] = &["properties", "patternProperties", "$defs", "definitions"];
/// Keywords whose value is a list of subschemas.
const SCHEMA_LISTS: &[&str] = &["anyOf", "oneOf", "allOf", "prefixItems"];
/// Keywords whose value is one subschema.
const SCHEMA_SINGLE: &[&str] = &["items", "additionalProperties", "not", "contains"];

const TYPE_PREFERENCE: &[&str] = &[
    "object", "array", "string", "number", "integer", "boolean", "null",
];

/// Converts a tool's `inputSchema`. The result is always an object schema with `properties`.
pub fn convert_input_schema(input_schema: &Map<String, Value>) -> Value {
    let mut schema = Value::Object(input_schema.clone());
    sanitize(&mut schema);
    let Value::Object(mut root) = schema else {
        return empty_object_schema();
    };
    // The APIs want a plain object at the top: a top-level union or a non-object type cannot be
    // expressed as function parameters, so it becomes an open object the model can still fill.
    let is_object = root.get("type").and_then(Value::as_str) == Some("object");
    if !is_object {
        return empty_object_schema();
    }
    for keyword in ["anyOf", "oneOf", "allOf", "not", "enum", "const"] {
        root.remove(keyword);
    }
    root.entry("properties")
        .or_insert_with(|| Value::Object(Map::new()));
    Value::Object(root)
}

fn empty_object_schema() -> Value {
    serde_json::json!({ "type": "object", "properties": {} })
}

fn sanitize(schema: &mut Value) {
    let Value::Object(map) = schema else {
        // `true`/`false` schemas (and garbage) accept anything as far as the model is concerned.
        *schema = serde_json::json!({});
        return;
    };
    for keyword in DROPPED_KEYWORDS {
        map.remove(*keyword);
    }
    for keyword in SCHEMA_MAPS {
        if let Some(Value::Object(children)) = map.get_mut(*keyword) {
            children.values_mut().for_each(sanitize);
        }
    }
    for keyword in SCHEMA_LISTS {
        if let Some(Value::Array(children)) = map.get_mut(*keyword) {
            children.iter_mut().for_each(sanitize);
        }
    }
    for keyword in SCHEMA_SINGLE {
        match map.get_mut(*keyword) {
            // `additionalProperties: false` is meaningful and accepted as a boolean.
            Some(Value::Bool(_)) if *keyword == "additionalProperties" => {}
            Some(child) => sanitize(child),
            None => {}
        }
    }
    if let Some(Value::Array(types)) = map.get("type") {
        let chosen = pick_type(types);
        match chosen {
            Some(t) => map.insert("type".into(), Value::String(t)),
            None => map.remove("type"),
        };
    }
    let has_union = SCHEMA_LISTS[..3].iter().any(|k| map.contains_key(*k));
    if !map.contains_key("type") && !map.contains_key("$ref") && !has_union {
        let inferred = infer_type(map);
        if let Some(inferred) = inferred {
            map.insert("type".into(), Value::String(inferred.into()));
        }
    }
    match map.get("type").and_then(Value::as_str) {
        Some("object") => {
            map.entry("properties")
                .or_insert_with(|| Value::Object(Map::new()));
        }
        Some("array") => {
            map.entry("items").or_insert_with(|| serde_json::json!({}));
        }
        _ => {}
    }
}

/// `"type": ["string", "null"]` is the usual way to say "optional"; the APIs want one name, and
/// the most structured non-null one tells the model the most.
fn pick_type(types: &[Value]) -> Option<String> {
    let names: Vec<&str> = types.iter().filter_map(Value::as_str).collect();
    TYPE_PREFERENCE
        .iter()
        .find(|t| **t != "null" && names.contains(t))
        .map(|t| t.to_string())
}

fn infer_type(map: &Map<String, Value>) -> Option<&'static str> {
    let has = |keys: &[&str]| keys.iter().any(|k| map.contains_key(*k));
    if has(&[
        "properties",
        "required",
        "additionalProperties",
        "patternProperties",
    ]) {
        Some("object")
    } else if has(&["items", "prefixItems", "minItems", "maxItems"]) {
        Some("array")
    } else if has(&[
        "minimum",
        "maximum",
        "exclusiveMinimum",
        "exclusiveMaximum",
        "multipleOf",
    ]) {
        Some("number")
    } else if has(&["enum", "const"]) {
        enum_type(map)
    } else if has(&["format", "pattern", "minLength", "maxLength"]) {
        Some("string")
    } else {
        // `{}` means "any value"; leave it open rather than guessing.
        None
    }
}

fn enum_type(map: &Map<String, Value>) -> Option<&'static str> {
    let values: Vec<&Value> = match (map.get("enum"), map.get("const")) {
        (Some(Value::Array(values)), _) => values.iter().collect(),
        (_, Some(value)) => vec![value],
        _ => return None,
    };
    let kind = |v: &Value| match v {
        Value::String(_) => Some("string"),
        Value::Number(n) if n.is_i64() || n.is_u64() => Some("integer"),
        Value::Number(_) => Some("number"),
        Value::Bool(_) => Some("boolean"),
        _ => None,
    };
    let first = kind(values.first()?)?;
    values
        .iter()
        .all(|v| kind(v) == Some(first))
        .then_some(first)
}

#[cfg(test)]
mod tests {
    use pretty_assertions::assert_eq;
    use serde_json::json;

    use super::*;

    fn convert(schema: Value) -> Value {
        convert_input_schema(schema.as_object().unwrap())
    }

    #[test]
    fn empty_schema_becomes_an_object_with_properties() {
        assert_eq!(
            convert(json!({})),
            json!({"type": "object", "properties": {}})
        );
        assert_eq!(
            convert(json!({"type": "object"})),
            json!({"type": "object", "properties": {}})
        );
    }

    #[test]
    fn keeps_what_the_model_uses_and_drops_metadata() {
        let got = convert(json!({
            "$schema": "http://json-schema.org/draft-07/schema#",
            "type": "object",
            "properties": {
                "count": {"type": "integer", "minimum": 1, "description": "How many"},
                "mode": {"enum": ["a", "b"]},
                "tags": {"type": "array"},
                "opt": {"type": ["string", "null"]},
                "anything": true,
                "nested": {"properties": {"x": {"format": "uri", "examples": ["u"]}}}
            },
            "required": ["count"],
            "additionalProperties": false
        }));
        assert_eq!(
            got,
            json!({
                "type": "object",
                "properties": {
                    "count": {"type": "integer", "minimum": 1, "description": "How many"},
                    "mode": {"type": "string", "enum": ["a", "b"]},
                    "tags": {"type": "array", "items": {}},
                    "opt": {"type": "string"},
                    "anything": {},
                    "nested": {"type": "object", "properties": {"x": {"type": "string", "format": "uri"}}}
                },
                "required": ["count"],
                "additionalProperties": false
            })
        );
    }

    #[test]
    fn top_level_unions_become_an_open_object() {
        let got = convert(json!({"anyOf": [{"type": "object"}, {"type": "string"}]}));
        assert_eq!(got, json!({"type": "object", "properties": {}}));
        let got = convert(json!({"type": "string"}));
        assert_eq!(got, json!({"type": "object", "properties": {}}));
    }

    #[test]
    fn nested_unions_and_refs_are_walked_not_typed() {
        let got = convert(json!({
            "type": "object",
            "properties": {
                "v": {"anyOf": [{"type": "string"}, {"items": {"type": "number"}}]},
                "r": {"$ref": "#/$defs/Thing"}
            },
            "$defs": {"Thing": {"properties": {}}}
        }));
        assert_eq!(
            got,
            json!({
                "type": "object",
                "properties": {
                    "v": {"anyOf": [{"type": "string"}, {"type": "array", "items": {"type": "number"}}]},
                    "r": {"$ref": "#/$defs/Thing"}
                },
                "$defs": {"Thing": {"type": "object", "properties": {}}}
            })
        );
    }
}
