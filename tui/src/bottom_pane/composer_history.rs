//! What Up and Down recall in the composer: this session's messages first (newest first), then
//! older ones from `$CODEX_HOME/history.jsonl`. The file is never read here: its entries come
//! one at a time from the engine (`Op::GetHistoryEntryRequest`), are cached, and land in the
//! composer only if the user is still waiting for that entry, so typing never waits on a fetch.
//!
//! Positions form one space, as in Codex CLI: `0..file_count` are the file's lines as counted
//! when the session started (oldest first), then this session's messages.

use std::collections::HashMap;
use std::collections::HashSet;

#[derive(Debug, Default)]
pub(super) struct ComposerHistory {
    /// Messages sent (or cleared with Ctrl-C) in this session, oldest first.
    local: Vec<String>,
    /// The file's identity and its line count when the session started.
    log_id: u64,
    file_count: usize,
    /// File lines already fetched, by offset.
    fetched: HashMap<usize, String>,
    /// Offsets asked for (answered or not), so each is fetched once.
    requested: HashSet<usize>,
    /// Fetches not yet handed to the engine.
    outbox: Vec<(u64, usize)>,
    /// The position shown while browsing.
    index: Option<usize>,
    /// The text recall last put in the composer; browsing goes on only while it is unedited.
    shown: String,
}

/// What a recall key does to the composer.
#[derive(Debug, PartialEq, Eq)]
pub(super) enum Recall {
    Show(String),
    /// The entry is being fetched; the composer keeps its text until it arrives.
    Pending,
    Nothing,
}

impl ComposerHistory {
    /// A new session (or a replaced one): the file's identity and size as it reports them.
    pub(super) fn set_file(&mut self, log_id: u64, count: usize) {
        if log_id != self.log_id {
            self.fetched.clear();
            self.requested.clear();
        }
        self.log_id = log_id;
        self.file_count = count;
        self.stop_browsing();
    }

    pub(super) fn record(&mut self, text: String) {
        if self.local.last() != Some(&text) {
            self.local.push(text);
        }
        self.stop_browsing();
    }

    pub(super) fn stop_browsing(&mut self) {
        self.index = None;
        self.shown.clear();
    }

    /// Recall keys browse only from an empty composer or one still showing a recalled entry,
    /// so they never replace text the user typed.
    pub(super) fn can_browse(&self, composer_text: &str) -> bool {
        match self.index {
            Some(_) => composer_text == self.shown,
            None => composer_text.is_empty() && self.len() > 0,
        }
    }

    pub(super) fn older(&mut self) -> Recall {
        let next = match self.index {
            None => self.len().checked_sub(1),
            Some(0) => None,
            Some(i) => Some(i - 1),
        };
        match next {
            Some(i) => self.go_to(i),
            None => Recall::Nothing,
        }
    }

    pub(super) fn newer(&mut self) -> Recall {
        let Some(i) = self.index else {
            return Recall::Nothing;
        };
        if i + 1 < self.len() {
            self.go_to(i + 1)
        } else {
            self.stop_browsing();
            Recall::Show(String::new())
        }
    }

    /// An entry fetched from the file; returns the text to show when it is the one awaited and
    /// the composer still shows what it showed when the fetch started.
    pub(super) fn on_entry(
        &mut self,
        log_id: u64,
        offset: usize,
        text: Option<String>,
        composer_text: &str,
    ) -> Option<String> {
        if log_id != self.log_id {
            return None;
        }
        let text = text?;
        self.fetched.insert(offset, text.clone());
        if self.index == Some(offset) && composer_text == self.shown {
            self.shown = text.clone();
            return Some(text);
        }
        None
    }

    /// Fetches to send as `Op::GetHistoryEntryRequest { log_id, offset }`.
    pub(super) fn take_requests(&mut self) -> Vec<(u64, usize)> {
        std::mem::take(&mut self.outbox)
    }

    fn len(&self) -> usize {
        self.file_count + self.local.len()
    }

    fn go_to(&mut self, i: usize) -> Recall {
        self.index = Some(i);
        let entry = match i.checked_sub(self.file_count) {
            Some(local) => self.local.get(local).cloned(),
            None => self.fetched.get(&i).cloned(),
        };
        match entry {
            Some(text) => {
                self.shown = text.clone();
                Recall::Show(text)
            }
            None => {
                if self.requested.insert(i) {
                    self.outbox.push((self.log_id, i));
                }
                Recall::Pending
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use pretty_assertions::assert_eq;

    #[test]
    fn session_messages_come_first_then_the_file_lazily() {
        let mut h = ComposerHistory::default();
        h.set_file(7, 2);
        h.record("mine".into());
        assert!(h.can_browse(""));
        assert_eq!(h.older(), Recall::Show("mine".into()));
        assert!(h.can_browse("mine"));
        assert_eq!(h.older(), Recall::Pending);
        assert_eq!(h.take_requests(), [(7, 1)]);
        // Still browsing while the fetch is out: another Up asks for the next one.
        assert!(h.can_browse("mine"));
        assert_eq!(h.older(), Recall::Pending);
        assert_eq!(h.take_requests(), [(7, 0)]);
        // The answer for 1 arrives late: cached, not shown (the user moved on to 0).
        assert_eq!(h.on_entry(7, 1, Some("file one".into()), "mine"), None);
        assert_eq!(
            h.on_entry(7, 0, Some("file zero".into()), "mine"),
            Some("file zero".into())
        );
        assert_eq!(h.older(), Recall::Nothing);
        assert_eq!(h.newer(), Recall::Show("file one".into()));
        assert!(
            h.take_requests().is_empty(),
            "cached entries are not fetched again"
        );
        assert_eq!(h.newer(), Recall::Show("mine".into()));
        assert_eq!(h.newer(), Recall::Show(String::new()));
        assert!(!h.can_browse("typed"));
    }

    #[test]
    fn answers_for_another_file_or_after_typing_are_not_shown() {
        let mut h = ComposerHistory::default();
        h.set_file(7, 1);
        assert_eq!(h.older(), Recall::Pending);
        assert_eq!(h.on_entry(8, 0, Some("other file".into()), ""), None);
        assert_eq!(
            h.on_entry(7, 0, Some("late".into()), "typed meanwhile"),
            None
        );
        assert_eq!(h.on_entry(7, 0, None, ""), None);
    }
}
