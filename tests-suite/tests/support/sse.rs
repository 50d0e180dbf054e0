//! Builders for Responses API and Chat Completions SSE bodies.

use serde_json::Value;
use serde_json::json;

/// Frames JSON events as an SSE body (`event:` line taken from each event's `type`).
pub fn body(events: &[Value]) -> String {
    events.iter().map(frame).collect()
}

/// One SSE frame for one event.
pub fn frame(event: &Value) -> String {
    match event.get("type").and_then(Value::as_str) {
        Some(kind) => format!("event: {kind}\ndata: {event}\n\n"),
        None => format!("data: {event}\n\n"),
    }
}

pub fn created(id: &str) -> Value {
    json!({"type": "response.created", "response": {"id": id}})
}

pub fn text_delta(delta: &str) -> Value {
    json!({"type": "response.output_text.delta", "delta": delta})
}

pub fn reasoning_delta(delta: &str) -> Value {
    json!({"type": "response.reasoning_summary_text.delta", "delta": delta})
}

pub fn assistant_message(id: &str, text: &str) -> Value {
    json!({"type": "response.output_item.done", "item": {
        "type": "message", "role": "assistant", "id": id,
        "content": [{"type": "output_text", "text": text}]
    }})
}

pub fn reasoning_item(summary: &str) -> Value {
    json!({"type": "response.output_item.done", "item": {
        "type": "reasoning", "id": "rs_1",
        "summary": [{"type": "summary_text", "text": summary}]
    }})
}

pub fn function_call(call_id: &str, name: &str, arguments: &str) -> Value {
    json!({"type": "response.output_item.done", "item": {
        "type": "function_call", "id": format!("fc_{call_id}"), "call_id": call_id,
        "name": name, "arguments": arguments
    }})
}

pub fn completed(id: &str) -> Value {
    completed_with_usage(id, 10, 0, 5, 0)
}

pub fn completed_with_usage(
    id: &str,
    input: u64,
    cached: u64,
    output: u64,
    reasoning: u64,
) -> Value {
    json!({"type": "response.completed", "response": {
        "id": id,
        "usage": {
            "input_tokens": input,
            "input_tokens_details": {"cached_tokens": cached},
            "output_tokens": output,
            "output_tokens_details": {"reasoning_tokens": reasoning},
            "total_tokens": input + output
        }
    }})
}

pub fn failed(code: &str, message: &str) -> Value {
    json!({"type": "response.failed", "response": {
        "id": "resp_failed", "error": {"code": code, "message": message}
    }})
}

/// A whole successful answer: created, streamed text in `pieces`, the message item, completed.
pub fn answer(id: &str, pieces: &[&str]) -> String {
    let mut events = vec![created(id)];
    events.extend(pieces.iter().map(|p| text_delta(p)));
    events.push(assistant_message(&format!("msg_{id}"), &pieces.concat()));
    events.push(completed(id));
    body(&events)
}

/// A Chat Completions chunk carrying `delta`.
pub fn chat_chunk(delta: Value, finish_reason: Option<&str>) -> String {
    let chunk = json!({
        "id": "chatcmpl-1", "object": "chat.completion.chunk", "model": "mock-model",
        "choices": [{"index": 0, "delta": delta, "finish_reason": finish_reason}]
    });
    format!("data: {chunk}\n\n")
}

pub fn chat_done() -> String {
    "data: [DONE]\n\n".to_string()
}

/// A finished freeform (`type: "custom"`) tool call, e.g. `apply_patch` with the raw patch text.
pub fn custom_tool_call(call_id: &str, name: &str, input: &str) -> Value {
    json!({"type": "response.output_item.done", "item": {
        "type": "custom_tool_call", "id": format!("ctc_{call_id}"), "call_id": call_id,
        "name": name, "input": input
    }})
}

/// A finished built-in `local_shell` call running `command`.
pub fn local_shell_call(call_id: &str, command: &[&str]) -> Value {
    json!({"type": "response.output_item.done", "item": {
        "type": "local_shell_call", "id": format!("lsc_{call_id}"), "call_id": call_id,
        "status": "completed",
        "action": {"type": "exec", "command": command}
    }})
}

/// A `shell` function call: `command` as argv plus any extra arguments (`timeout_ms`, ...).
pub fn shell_call(call_id: &str, command: &[&str], extra: Value) -> Value {
    let mut arguments = json!({"command": command});
    if let (Some(args), Value::Object(extra)) = (arguments.as_object_mut(), extra) {
        args.extend(extra);
    }
    function_call(call_id, "shell", &arguments.to_string())
}

/// A whole response made of `items` (output-item events): created, the items, completed.
pub fn response(id: &str, items: &[Value]) -> String {
    let mut events = vec![created(id)];
    events.extend(items.iter().cloned());
    events.push(completed(id));
    body(&events)
}
