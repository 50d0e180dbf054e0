//! Property tests: the SSE parsers of both wire APIs never panic and always end, whatever bytes a
//! server sends and however they are split. Run longer with
//! `PROPTEST_CASES=20000 cargo test -p codex-core client::fuzz_tests`.

use std::convert::Infallible;
use std::time::Duration;

use proptest::prelude::*;
use tokio::sync::mpsc;

use super::ResponseEvent;
use super::chat;
use super::responses;
use crate::error::Result;

/// Pieces that look like the Responses/Chat streams, so random mixes reach deep parser states.
fn fragment() -> impl Strategy<Value = String> {
    prop_oneof![
        Just("data: ".to_string()),
        Just("event: response.output_text.delta\n".to_string()),
        Just("\n\n".to_string()),
        Just("\n".to_string()),
        Just("data: [DONE]\n\n".to_string()),
        Just(r#"{"type":"response.output_text.delta","delta":"hé"}"#.to_string()),
        Just(r#"{"type":"response.completed","response":{"id":"r","usage":{"input_tokens":-1}}}"#.to_string()),
        Just(r#"{"type":"response.output_item.done","item":{"type":"function_call","name":"x","arguments":"{","call_id":"c"}}"#.to_string()),
        Just(r#"{"type":"response.failed","response":{"error":{"code":"context_length_exceeded"}}}"#.to_string()),
        Just(r#"{"choices":[{"delta":{"tool_calls":[{"index":4294967295,"function":{"arguments":"{"}}]},"finish_reason":null}]}"#.to_string()),
        Just(r#"{"choices":[{"delta":{"content":"x"},"finish_reason":"stop"}]}"#.to_string()),
        Just(r#"{"choices":[]}"#.to_string()),
        ".{0,40}",
    ]
}

fn chunks() -> impl Strategy<Value = Vec<Vec<u8>>> {
    prop_oneof![
        prop::collection::vec(prop::collection::vec(any::<u8>(), 0..64), 0..16),
        prop::collection::vec(fragment(), 0..24).prop_flat_map(|parts| {
            let text = parts.concat().into_bytes();
            let len = text.len();
            prop::collection::vec(0..=len, 0..6).prop_map(move |mut cuts| {
                cuts.sort_unstable();
                let mut pieces = Vec::new();
                let mut start = 0;
                for cut in cuts {
                    pieces.push(text[start..cut].to_vec());
                    start = cut;
                }
                pieces.push(text[start..].to_vec());
                pieces
            })
        }),
    ]
}

fn drain(chunks: Vec<Vec<u8>>, chat: bool) -> Vec<Result<ResponseEvent>> {
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_time()
        .build()
        .expect("runtime");
    runtime.block_on(async move {
        let (tx, mut rx) = mpsc::channel(1600);
        let bytes = futures::stream::iter(chunks.into_iter().map(Ok::<_, Infallible>));
        let idle = Duration::from_secs(5);
        if chat {
            chat::process_sse(bytes, idle, tx).await;
        } else {
            responses::process_sse(bytes, idle, tx).await;
        }
        let mut events = Vec::new();
        while let Some(event) = rx.recv().await {
            events.push(event);
        }
        events
    })
}

proptest! {
    #[test]
    fn responses_parser_never_panics_and_ends_once(chunks in chunks()) {
        let events = drain(chunks, false);
        // Exactly one terminal outcome: Completed or an error, and nothing after it.
        let terminal = events
            .iter()
            .filter(|e| matches!(e, Err(_) | Ok(ResponseEvent::Completed { .. })))
            .count();
        prop_assert_eq!(terminal, 1);
        let ends_terminal =
            matches!(events.last(), Some(Err(_) | Ok(ResponseEvent::Completed { .. })));
        prop_assert!(ends_terminal, "stream did not end with its terminal event");
    }

    #[test]
    fn chat_parser_never_panics_and_ends_once(chunks in chunks()) {
        let events = drain(chunks, true);
        let terminal = events
            .iter()
            .filter(|e| matches!(e, Err(_) | Ok(ResponseEvent::Completed { .. })))
            .count();
        prop_assert_eq!(terminal, 1);
    }
}

#[test]
fn leading_byte_order_mark_is_ignored_even_when_split() {
    let body = "\u{feff}data: {\"type\":\"response.completed\",\"response\":{\"id\":\"r\"}}\n\n";
    for cut in 0..4 {
        let bytes = body.as_bytes();
        let events = drain(vec![bytes[..cut].to_vec(), bytes[cut..].to_vec()], false);
        assert!(
            matches!(events.as_slice(), [Ok(ResponseEvent::Completed { response_id, .. })] if response_id == "r"),
            "cut at {cut}: {events:?}"
        );
    }
}
