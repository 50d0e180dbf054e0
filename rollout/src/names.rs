//! Where session files live and what their names say: every listing and lookup works from names
//! alone, so the format here is the index.
//!
//! `$CODEX_HOME/sessions/YYYY/MM/DD/rollout-YYYY-MM-DDThh-mm-ss-<uuid>.jsonl`, in local time like
//! Codex CLI. Line timestamps, in contrast, are UTC.

use std::fmt;
use std::path::Path;
use std::path::PathBuf;
use std::time::SystemTime;

use chrono::DateTime;
use chrono::Datelike;
use chrono::Local;
use chrono::NaiveDate;
use chrono::SecondsFormat;
use chrono::TimeZone;
use chrono::Timelike;
use chrono::Utc;
use uuid::Uuid;

/// The folder under `$CODEX_HOME` that holds the session files.
pub const SESSIONS_DIR: &str = "sessions";

pub(crate) const FILE_PREFIX: &str = "rollout-";
const FILE_SUFFIX: &str = ".jsonl";
/// `YYYY-MM-DDThh-mm-ss`.
const TIMESTAMP_LEN: usize = 19;
const UUID_LEN: usize = 36;

/// A line timestamp for `time`: UTC, RFC 3339, milliseconds, `Z` (`2025-01-02T03:04:05.678Z`).
pub fn rollout_timestamp(time: SystemTime) -> String {
    DateTime::<Utc>::from(time).to_rfc3339_opts(SecondsFormat::Millis, true)
}

/// The second a session file was created, as written in its name (local time, no offset).
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub(crate) struct FileTimestamp {
    pub(crate) year: u16,
    pub(crate) month: u8,
    pub(crate) day: u8,
    hour: u8,
    minute: u8,
    second: u8,
}

impl FileTimestamp {
    pub(crate) fn from_local(time: &DateTime<Local>) -> Self {
        Self {
            year: u16::try_from(time.year()).unwrap_or(0),
            // chrono keeps these in range (month 1..=12, second 0..=59 outside leap seconds).
            month: time.month() as u8,
            day: time.day() as u8,
            hour: time.hour() as u8,
            minute: time.minute() as u8,
            second: time.second().min(59) as u8,
        }
    }

    /// Parses `YYYY-MM-DDThh-mm-ss`; `None` unless it names a real date and time.
    pub(crate) fn parse(text: &str) -> Option<Self> {
        let b = text.as_bytes();
        if b.len() != TIMESTAMP_LEN
            || b[4] != b'-'
            || b[7] != b'-'
            || b[10] != b'T'
            || b[13] != b'-'
            || b[16] != b'-'
        {
            return None;
        }
        let num = |range: std::ops::Range<usize>| -> Option<u16> {
            let digits = text.get(range)?;
            if digits.bytes().all(|c| c.is_ascii_digit()) {
                digits.parse().ok()
            } else {
                None
            }
        };
        let small = |range| num(range).and_then(|n| u8::try_from(n).ok());
        let ts = Self {
            year: num(0..4)?,
            month: small(5..7)?,
            day: small(8..10)?,
            hour: small(11..13)?,
            minute: small(14..16)?,
            second: small(17..19)?,
        };
        ts.naive()?;
        Some(ts)
    }

    fn naive(&self) -> Option<chrono::NaiveDateTime> {
        NaiveDate::from_ymd_opt(
            i32::from(self.year),
            u32::from(self.month),
            u32::from(self.day),
        )?
        .and_hms_opt(
            u32::from(self.hour),
            u32::from(self.minute),
            u32::from(self.second),
        )
    }

    /// The instant this local time denotes; in a DST gap the name is read as UTC.
    pub(crate) fn to_system_time(self) -> SystemTime {
        let Some(naive) = self.naive() else {
            return SystemTime::UNIX_EPOCH;
        };
        match Local.from_local_datetime(&naive).earliest() {
            Some(local) => local.into(),
            None => Utc.from_utc_datetime(&naive).into(),
        }
    }

    /// `sessions/YYYY/MM/DD` under `codex_home`.
    pub(crate) fn day_dir(&self, codex_home: &Path) -> PathBuf {
        codex_home
            .join(SESSIONS_DIR)
            .join(format!("{:04}", self.year))
            .join(format!("{:02}", self.month))
            .join(format!("{:02}", self.day))
    }
}

impl fmt::Display for FileTimestamp {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "{:04}-{:02}-{:02}T{:02}-{:02}-{:02}",
            self.year, self.month, self.day, self.hour, self.minute, self.second
        )
    }
}

/// What a session file's name says: sorting by this key is sorting by age, ties broken by id.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub(crate) struct FileKey {
    pub(crate) ts: FileTimestamp,
    pub(crate) id: Uuid,
}

impl FileKey {
    /// Parses `rollout-YYYY-MM-DDThh-mm-ss-<uuid>.jsonl`.
    pub(crate) fn from_file_name(name: &str) -> Option<Self> {
        let stem = name.strip_prefix(FILE_PREFIX)?.strip_suffix(FILE_SUFFIX)?;
        if stem.len() != TIMESTAMP_LEN + 1 + UUID_LEN
            || stem.as_bytes().get(TIMESTAMP_LEN) != Some(&b'-')
        {
            return None;
        }
        Some(Self {
            ts: FileTimestamp::parse(stem.get(..TIMESTAMP_LEN)?)?,
            id: Uuid::parse_str(stem.get(TIMESTAMP_LEN + 1..)?).ok()?,
        })
    }

    pub(crate) fn from_path(path: &Path) -> Option<Self> {
        Self::from_file_name(path.file_name()?.to_str()?)
    }

    pub(crate) fn file_name(&self) -> String {
        format!("{FILE_PREFIX}{}-{}{FILE_SUFFIX}", self.ts, self.id)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use pretty_assertions::assert_eq;

    #[test]
    fn file_names_round_trip() {
        let name = "rollout-2025-01-02T03-04-05-67e55044-10b1-426f-9247-bb680e5fe0c8.jsonl";
        let key = FileKey::from_file_name(name).unwrap();
        assert_eq!(key.ts.to_string(), "2025-01-02T03-04-05");
        assert_eq!(key.file_name(), name);
        for bad in [
            "rollout-2025-01-02T03-04-05-not-a-uuid.jsonl",
            "rollout-2025-02-30T03-04-05-67e55044-10b1-426f-9247-bb680e5fe0c8.jsonl",
            "rollout-2025-01-02T03-04-05-67e55044-10b1-426f-9247-bb680e5fe0c8.json",
            "rollout-2025-01-02 03-04-05-67e55044-10b1-426f-9247-bb680e5fe0c8.jsonl",
            "rollout-+025-01-02T03-04-05-67e55044-10b1-426f-9247-bb680e5fe0c8.jsonl",
            "x.jsonl",
        ] {
            assert_eq!(FileKey::from_file_name(bad), None, "{bad}");
        }
    }

    #[test]
    fn line_timestamps_are_utc_millis() {
        let t = SystemTime::UNIX_EPOCH + std::time::Duration::from_millis(1_735_787_045_678);
        assert_eq!(rollout_timestamp(t), "2025-01-02T03:04:05.678Z");
    }
}
