//! The result of a `tools/call`, kept close to the wire, and its conversion into what the model
//! reads back as the function call's output.

use serde::Deserialize;
use serde::Serialize;
use serde_json::Value;

/// What a server answered to `tools/call`, in MCP's own JSON shape (camelCase), so it can be put
/// into events and rollouts as is. Content blocks stay raw JSON: new block types from newer
/// servers pass through instead of failing the call.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct McpToolCallResult {
    #[serde(default)]
    pub content: Vec<Value>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub structured_content: Option<Value>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub is_error: Option<bool>,
}

impl McpToolCallResult {
    /// Images in the content as `data:` URLs, for front-ends and models that take image input.
    pub fn image_data_urls(&self) -> Vec<String> {
        self.content
            .iter()
            .filter(|block| block_type(block) == Some("image"))
            .filter_map(|block| {
                let data = block.get("data")?.as_str()?;
                let mime = block
                    .get("mimeType")
                    .and_then(Value::as_str)
                    .unwrap_or("image/png");
                Some(format!("data:{mime};base64,{data}"))
            })
            .collect()
    }
}

/// The function call output for the model and whether the call succeeded.
///
/// `structuredContent` wins when present (it is the machine-readable form the server promises);
/// otherwise text blocks are joined with newlines and other blocks are described in one line
/// each. `isError: true` makes the call a failure.
pub fn to_function_output(result: &McpToolCallResult) -> (String, bool) {
    let success = result.is_error != Some(true);
    if let Some(structured) = result.structured_content.as_ref().filter(|v| !v.is_null()) {
        return (structured.to_string(), success);
    }
    let parts: Vec<String> = result.content.iter().map(describe_block).collect();
    (parts.join("\n"), success)
}

fn block_type(block: &Value) -> Option<&str> {
    block.get("type").and_then(Value::as_str)
}

fn describe_block(block: &Value) -> String {
    let str_field = |name: &str| block.get(name).and_then(Value::as_str);
    match block_type(block) {
        Some("text") => str_field("text").unwrap_or_default().to_string(),
        Some(kind @ ("image" | "audio")) => {
            let mime = str_field("mimeType").unwrap_or("unknown type");
            let bytes = str_field("data").map_or(0, |d| d.len() / 4 * 3);
            format!("[{kind}: {mime}, about {bytes} bytes]")
        }
        Some("resource") => {
            let resource = block.get("resource");
            let field = |name: &str| resource.and_then(|r| r.get(name)).and_then(Value::as_str);
            match (field("text"), field("uri")) {
                (Some(text), _) => text.to_string(),
                (None, Some(uri)) => format!("[embedded resource: {uri}]"),
                (None, None) => "[embedded resource]".to_string(),
            }
        }
        Some("resource_link") => {
            let uri = str_field("uri").unwrap_or_default();
            match str_field("name") {
                Some(name) => format!("[resource link: {name} {uri}]"),
                None => format!("[resource link: {uri}]"),
            }
        }
        _ => block.to_string(),
    }
}

#[cfg(test)]
mod tests {
    use pretty_assertions::assert_eq;
    use serde_json::json;

    use super::*;

    fn result(value: Value) -> McpToolCallResult {
        serde_json::from_value(value).unwrap()
    }

    #[test]
    fn structured_content_wins() {
        let r = result(json!({
            "content": [{"type": "text", "text": "{\"t\": 1}"}],
            "structuredContent": {"t": 1}
        }));
        assert_eq!(to_function_output(&r), ("{\"t\":1}".to_string(), true));
    }

    #[test]
    fn text_blocks_are_joined_and_others_described() {
        let r = result(json!({
            "content": [
                {"type": "text", "text": "first"},
                {"type": "image", "data": "AAAA", "mimeType": "image/png"},
                {"type": "resource", "resource": {"uri": "file:///a", "text": "inside"}},
                {"type": "resource_link", "uri": "file:///b", "name": "b"}
            ],
            "isError": true
        }));
        assert_eq!(
            to_function_output(&r),
            (
                "first\n[image: image/png, about 3 bytes]\ninside\n[resource link: b file:///b]"
                    .to_string(),
                false
            )
        );
        assert_eq!(r.image_data_urls(), vec!["data:image/png;base64,AAAA"]);
    }

    #[test]
    fn null_structured_content_falls_back_to_text() {
        let r =
            result(json!({"content": [{"type": "text", "text": "x"}], "structuredContent": null}));
        assert_eq!(to_function_output(&r), ("x".to_string(), true));
    }
}
