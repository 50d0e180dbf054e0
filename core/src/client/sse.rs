//! Server-sent events over a byte stream, with the provider's idle timeout. Both wire APIs read their
//! streams through [`SseReader`]; each then maps event payloads to [`ResponseEvent`]s.

use std::fmt::Display;
use std::future::Future;
use std::pin::Pin;
use std::time::Duration;

use eventsource_stream::Event;
use eventsource_stream::EventStream;
use eventsource_stream::Eventsource;
use futures::Stream;
use futures::StreamExt;
use tokio::sync::mpsc;

use super::ResponseEvent;
use super::ResponseStream;
use crate::error::CodexErr;
use crate::error::Result;

/// Room for a whole response's deltas, so a slow consumer rarely stalls the reader.
const EVENT_CHANNEL_CAPACITY: usize = 1600;

pub(crate) type EventSender = mpsc::Sender<Result<ResponseEvent>>;

/// Runs `produce` on its own task and hands back the stream it feeds. Dropping the stream drops the
/// producer, which cancels the HTTP body read.
pub(crate) fn spawn_event_stream<F, Fut>(produce: F) -> ResponseStream
where
    F: FnOnce(EventSender) -> Fut,
    Fut: Future<Output = ()> + Send + 'static,
{
    let (tx_event, rx_event) = mpsc::channel(EVENT_CHANNEL_CAPACITY);
    let receiver_gone = tx_event.clone();
    let producer = produce(tx_event);
    tokio::spawn(async move {
        // Stop at once when the consumer drops the stream, even while the server is silent.
        tokio::select! {
            () = producer => {}
            () = receiver_gone.closed() => {}
        }
    });
    ResponseStream { rx_event }
}

/// Yields SSE events one by one; errors are already in the engine's terms.
pub(crate) struct SseReader<S> {
    events: Pin<Box<EventStream<BodyPieces<S>>>>,
    idle_timeout: Duration,
}

/// The body as the SSE parser should see it: a leading UTF-8 byte-order mark removed, as the SSE
/// spec allows one, and no read larger than [`MAX_PIECE`].
///
/// `eventsource-stream` 0.2.3 mis-slices a BOM (it drops one byte of three) and panics, which the
/// SSE property tests found. It also moves the rest of its buffer after every line it parses, so
/// one read of N lines costs O(N × read size); capping the read size keeps a large body (a proxy
/// that buffers the whole response, a test server) linear in its length.
pub(crate) struct BodyPieces<S> {
    inner: Pin<Box<S>>,
    /// The first bytes, while they could still be the start of a BOM; `None` once decided.
    head: Option<Vec<u8>>,
    /// A read not yet handed on in full, and how much of it was.
    rest: Vec<u8>,
    rest_pos: usize,
}

const UTF8_BOM: &[u8] = b"\xEF\xBB\xBF";

/// Large enough to cost nothing on real networks (TLS records are 16 KiB), small enough that
/// moving the parser's buffer once per line stays cheap.
const MAX_PIECE: usize = 16 * 1024;

impl<S> BodyPieces<S> {
    fn new(inner: S) -> Self {
        Self {
            inner: Box::pin(inner),
            head: Some(Vec::new()),
            rest: Vec::new(),
            rest_pos: 0,
        }
    }

    /// The next at most [`MAX_PIECE`] bytes of `rest`, if any are left.
    fn next_piece(&mut self) -> Option<Vec<u8>> {
        if self.rest_pos >= self.rest.len() {
            return None;
        }
        let end = self.rest.len().min(self.rest_pos + MAX_PIECE);
        let piece = if self.rest_pos == 0 && end == self.rest.len() {
            std::mem::take(&mut self.rest)
        } else {
            self.rest[self.rest_pos..end].to_vec()
        };
        self.rest_pos = end;
        Some(piece)
    }
}

impl<S, B, E> Stream for BodyPieces<S>
where
    S: Stream<Item = std::result::Result<B, E>>,
    B: AsRef<[u8]>,
{
    type Item = std::result::Result<Vec<u8>, E>;

    fn poll_next(
        mut self: Pin<&mut Self>,
        cx: &mut std::task::Context<'_>,
    ) -> std::task::Poll<Option<Self::Item>> {
        use std::task::Poll;
        loop {
            if let Some(piece) = self.next_piece() {
                return Poll::Ready(Some(Ok(piece)));
            }
            let chunk = match self.inner.as_mut().poll_next(cx) {
                Poll::Pending => return Poll::Pending,
                Poll::Ready(None) => return Poll::Ready(None),
                Poll::Ready(Some(Err(err))) => return Poll::Ready(Some(Err(err))),
                Poll::Ready(Some(Ok(chunk))) => chunk,
            };
            self.rest_pos = 0;
            let Some(mut head) = self.head.take() else {
                self.rest.clear();
                self.rest.extend_from_slice(chunk.as_ref());
                continue;
            };
            head.extend_from_slice(chunk.as_ref());
            // Any number of marks: the parser would choke on a second one just the same.
            while head.starts_with(UTF8_BOM) {
                head.drain(..UTF8_BOM.len());
            }
            if head.len() < UTF8_BOM.len() && UTF8_BOM.starts_with(&head) {
                self.head = Some(head);
                continue;
            }
            self.rest = head;
        }
    }
}

impl<S, B, E> SseReader<S>
where
    S: Stream<Item = std::result::Result<B, E>>,
    B: AsRef<[u8]>,
    E: Display,
{
    pub(crate) fn new(bytes: S, idle_timeout: Duration) -> Self {
        Self {
            events: Box::pin(BodyPieces::new(bytes).eventsource()),
            idle_timeout,
        }
    }

    pub(crate) fn set_idle_timeout(&mut self, idle_timeout: Duration) {
        self.idle_timeout = idle_timeout;
    }

    /// The next event, `Ok(None)` at the end of the body, or an error for a broken or idle stream.
    pub(crate) async fn next_event(&mut self) -> Result<Option<Event>> {
        match tokio::time::timeout(self.idle_timeout, self.events.next()).await {
            Err(_) => Err(CodexErr::Stream(
                "idle timeout waiting for SSE".to_string(),
                None,
            )),
            Ok(None) => Ok(None),
            Ok(Some(Ok(event))) => Ok(Some(event)),
            Ok(Some(Err(err))) => Err(CodexErr::Stream(err.to_string(), None)),
        }
    }
}

#[cfg(test)]
pub(crate) mod test_support {
    use bytes::Bytes;
    use futures::Stream;

    use super::*;

    /// A byte stream delivering `chunks` as separate reads, the way a network would split them.
    pub(crate) fn byte_stream(
        chunks: &[&str],
    ) -> impl Stream<Item = std::result::Result<Bytes, std::io::Error>> + Send + 'static {
        let owned: Vec<std::result::Result<Bytes, std::io::Error>> = chunks
            .iter()
            .map(|c| Ok(Bytes::from(c.to_string())))
            .collect();
        futures::stream::iter(owned)
    }

    /// Everything a parser sent, in order, after it finished.
    pub(crate) fn drain(
        mut rx: mpsc::Receiver<Result<ResponseEvent>>,
    ) -> Vec<Result<ResponseEvent>> {
        let mut out = Vec::new();
        while let Ok(event) = rx.try_recv() {
            out.push(event);
        }
        out
    }
}

#[cfg(test)]
mod tests {
    use super::test_support::byte_stream;
    use super::*;

    #[tokio::test]
    async fn events_split_across_chunks() {
        let mut reader = SseReader::new(
            byte_stream(&["data: {\"a\"", ":1}\n", "\nevent: x\ndata: 2\n\n"]),
            Duration::from_secs(5),
        );
        let first = reader.next_event().await.ok().flatten();
        assert_eq!(first.map(|e| e.data), Some("{\"a\":1}".to_string()));
        let second = reader.next_event().await.ok().flatten();
        assert_eq!(
            second.map(|e| (e.event, e.data)),
            Some(("x".into(), "2".into()))
        );
        assert!(matches!(reader.next_event().await, Ok(None)));
    }

    #[tokio::test]
    async fn one_large_read_is_parsed_in_pieces_without_losing_characters() {
        // Multi-byte characters everywhere, so piece boundaries fall inside them too.
        let events: Vec<String> = (0..5000).map(|i| format!("é{i}€")).collect();
        let body: String = events.iter().map(|e| format!("data: {e}\n\n")).collect();
        assert!(body.len() > 4 * MAX_PIECE);
        let mut reader = SseReader::new(byte_stream(&[&body]), Duration::from_secs(5));
        let mut seen = Vec::new();
        while let Some(event) = reader.next_event().await.expect("event") {
            seen.push(event.data);
        }
        assert_eq!(seen, events);
    }

    #[tokio::test]
    async fn a_line_longer_than_a_piece_arrives_whole() {
        let long = "ü".repeat(3 * MAX_PIECE);
        let body = format!("\u{feff}data: {long}\n\n");
        let mut reader = SseReader::new(byte_stream(&[&body]), Duration::from_secs(5));
        let event = reader
            .next_event()
            .await
            .expect("event")
            .expect("one event");
        assert_eq!(event.data, long);
        assert!(matches!(reader.next_event().await, Ok(None)));
    }

    #[tokio::test]
    async fn dropping_the_stream_stops_the_producer() {
        struct SetOnDrop(std::sync::Arc<std::sync::atomic::AtomicBool>);
        impl Drop for SetOnDrop {
            fn drop(&mut self) {
                self.0.store(true, std::sync::atomic::Ordering::SeqCst);
            }
        }
        let dropped = std::sync::Arc::new(std::sync::atomic::AtomicBool::new(false));
        let guard = SetOnDrop(std::sync::Arc::clone(&dropped));
        let mut stream = spawn_event_stream(move |tx| async move {
            let _guard = guard;
            let _ = tx.send(Ok(ResponseEvent::Created)).await;
            // A server that never sends anything again.
            futures::future::pending::<()>().await;
        });
        assert_eq!(
            stream.next().await.and_then(|e| e.ok()),
            Some(ResponseEvent::Created)
        );
        drop(stream);
        for _ in 0..100 {
            if dropped.load(std::sync::atomic::Ordering::SeqCst) {
                return;
            }
            tokio::time::sleep(Duration::from_millis(10)).await;
        }
        panic!("producer still running after the stream was dropped");
    }

    #[tokio::test]
    async fn idle_stream_times_out() {
        let pending =
            futures::stream::pending::<std::result::Result<bytes::Bytes, std::io::Error>>();
        let mut reader = SseReader::new(pending, Duration::from_millis(20));
        match reader.next_event().await {
            Err(CodexErr::Stream(message, None)) => {
                assert_eq!(message, "idle timeout waiting for SSE")
            }
            other => panic!("expected idle timeout, got {other:?}"),
        }
    }
}
