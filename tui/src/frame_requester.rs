//! Coalesced redraws.
//!
//! Anything that changes what is on screen asks for a frame; requests that arrive before the
//! frame is drawn are merged into it, and frames are spaced at least [`MIN_FRAME_INTERVAL`]
//! apart, so a model streaming hundreds of deltas a second costs at most one draw per interval.

use std::time::Duration;

use tokio::sync::mpsc;
use tokio::time::Instant;

use crate::app_event::AppEvent;
use crate::app_event::AppEventSender;

/// About 120 frames per second at most.
pub const MIN_FRAME_INTERVAL: Duration = Duration::from_millis(8);

#[derive(Debug, Clone)]
pub struct FrameRequester {
    tx: Option<mpsc::UnboundedSender<Instant>>,
}

impl FrameRequester {
    /// Starts the scheduler task; it sends [`AppEvent::Draw`] when a requested frame is due.
    pub fn new(app_tx: AppEventSender) -> Self {
        let (tx, rx) = mpsc::unbounded_channel();
        tokio::spawn(schedule_frames(rx, app_tx));
        Self { tx: Some(tx) }
    }

    /// A requester that drops every request, for tests that render by hand.
    #[cfg(test)]
    pub fn test_dummy() -> Self {
        Self { tx: None }
    }

    pub fn schedule_frame(&self) {
        self.schedule_frame_in(Duration::ZERO);
    }

    pub fn schedule_frame_in(&self, delay: Duration) {
        if let Some(tx) = &self.tx {
            let _ = tx.send(Instant::now() + delay);
        }
    }
}

async fn schedule_frames(mut rx: mpsc::UnboundedReceiver<Instant>, app_tx: AppEventSender) {
    let mut due: Option<Instant> = None;
    let mut last_frame = Instant::now() - MIN_FRAME_INTERVAL;
    loop {
        let deadline = due.unwrap_or_else(|| Instant::now() + Duration::from_secs(3600));
        let draw_now = tokio::select! {
            // Requests already waiting join the frame that is due.
            biased;
            request = rx.recv() => match request {
                Some(at) => {
                    request_at(at, &mut due, last_frame);
                    while let Ok(at) = rx.try_recv() {
                        request_at(at, &mut due, last_frame);
                    }
                    // A frame already due (a key press after a quiet spell) is drawn at once:
                    // a timer would add up to a millisecond of tick granularity.
                    due.is_some_and(|due| due <= Instant::now())
                }
                None => break,
            },
            () = tokio::time::sleep_until(deadline), if due.is_some() => true,
        };
        if draw_now {
            due = None;
            last_frame = Instant::now();
            app_tx.send(AppEvent::Draw);
        }
    }
}

/// Merges a frame requested for `at` into the one `due`, no sooner than the minimum interval
/// after the last frame.
fn request_at(at: Instant, due: &mut Option<Instant>, last_frame: Instant) {
    let at = at.max(last_frame + MIN_FRAME_INTERVAL);
    *due = Some(due.map_or(at, |d| d.min(at)));
}

#[cfg(test)]
mod tests {
    use super::*;
    use pretty_assertions::assert_eq;

    #[tokio::test]
    async fn requests_are_coalesced_into_one_frame() {
        let (tx, mut rx) = mpsc::unbounded_channel();
        let frames = FrameRequester::new(AppEventSender::new(tx));
        for _ in 0..10 {
            frames.schedule_frame();
        }
        frames.schedule_frame_in(Duration::from_millis(1));
        tokio::time::sleep(Duration::from_millis(50)).await;
        let mut draws = 0;
        while let Ok(event) = rx.try_recv() {
            assert!(matches!(event, AppEvent::Draw));
            draws += 1;
        }
        assert_eq!(draws, 1);

        // A later request gets its own frame, no sooner than the minimum interval.
        let asked = Instant::now();
        frames.schedule_frame();
        let event = rx.recv().await;
        assert!(matches!(event, Some(AppEvent::Draw)));
        assert!(Instant::now() >= asked);
    }
}
