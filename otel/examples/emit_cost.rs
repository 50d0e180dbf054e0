//! Measures what an event costs the caller: `cargo run --release -p codex-otel --example
//! emit_cost -- <collector endpoint>` (an OTLP/HTTP endpoint; a closed port works too).

use std::time::Duration;
use std::time::Instant;

use codex_otel::ConversationMetadata;
use codex_otel::OtelExporter;
use codex_otel::OtelProvider;
use codex_otel::OtelSettings;
use codex_otel::OtlpHttpExporter;
use codex_protocol::protocol::ConversationId;

fn main() -> Result<(), codex_otel::OtelError> {
    let endpoint = std::env::args()
        .nth(1)
        .unwrap_or_else(|| "http://127.0.0.1:9/v1/logs".to_string());
    let settings = OtelSettings {
        exporter: OtelExporter::OtlpHttp(OtlpHttpExporter {
            endpoint,
            protocol: Default::default(),
            headers: Default::default(),
            tls: None,
        }),
        ..OtelSettings::default()
    };
    let provider = OtelProvider::from_settings(&settings, "bench")?;
    let otel = provider.event_manager(ConversationMetadata::new(
        ConversationId::new(),
        "gpt-5-codex",
        "gpt-5-codex",
    ));
    // Paced below the queue bound so every event takes the full enqueue path.
    let rounds = 20;
    let per_round = 1000;
    let mut total = Duration::ZERO;
    for _ in 0..rounds {
        let started = Instant::now();
        for _ in 0..per_round {
            otel.sse_event("response.output_text.delta", Duration::from_millis(1));
        }
        total += started.elapsed();
        std::thread::sleep(Duration::from_millis(100));
    }
    let events = rounds * per_round;
    println!(
        "{events} events: {:.2} µs per event on the caller's thread",
        total.as_secs_f64() * 1e6 / events as f64
    );
    let started = Instant::now();
    let stats = provider.shutdown();
    println!("shutdown {:?}: {stats:?}", started.elapsed());
    Ok(())
}
