//! Reading the index: search, listing, id prefixes, totals.
//!
//! Whatever a user types must be a valid query, so user text never reaches FTS5's query syntax:
//! [`escape_query`] turns it into quoted strings (implicit AND), keeping only phrases and prefix
//! stars.

use std::path::PathBuf;

use rusqlite::Row;
use rusqlite::ToSql;

use super::Filters;
use super::Hit;
use super::IndexError;
use super::IndexStats;
use super::SessionCounts;
use super::SessionIndex;
use super::SessionInfo;
use super::Snippet;
use super::from_millis;
use super::to_millis;

/// Marks a match in `snippet()` output; control characters never occur in indexed text (they are
/// stripped from it below if they do).
const MATCH_OPEN: char = '\u{1}';
const MATCH_CLOSE: char = '\u{2}';
/// Words around a match in a snippet.
const SNIPPET_TOKENS: u32 = 20;
const BIGGEST: usize = 5;

const INFO_COLUMNS: &str = "s.id, s.path, s.title, s.created_ms, s.updated_ms, s.cwd, s.git_branch,
    s.git_repo, s.model, s.model_provider, s.file_size, s.user_messages, s.assistant_messages,
    s.commands, s.patches, s.skipped_lines";

/// An FTS5 query matching `input` as plain text: every word or `"quoted phrase"` must occur (in
/// any column); a trailing `*` makes a word a prefix. Operators (`AND`, `OR`, `NOT`, `NEAR`),
/// parentheses, colons and other punctuation are searched as text, never interpreted. `None`
/// when nothing searchable is left.
pub fn escape_query(input: &str) -> Option<String> {
    let mut terms = Vec::new();
    let mut rest = input.trim();
    while !rest.is_empty() {
        let (raw, after) = if let Some(quoted) = rest.strip_prefix('"') {
            match quoted.find('"') {
                Some(end) => (&quoted[..end], &quoted[end + 1..]),
                None => (quoted, ""),
            }
        } else {
            match rest.find(char::is_whitespace) {
                Some(end) => (&rest[..end], &rest[end..]),
                None => (rest, ""),
            }
        };
        // A star only directly after a word (`log*`, `"flaky log"*`) asks for a prefix.
        let (raw, after, prefix) = match after.strip_prefix('*') {
            Some(after) => (raw, after, true),
            None => match raw.strip_suffix('*') {
                Some(word) => (word, after, true),
                None => (raw, after, false),
            },
        };
        rest = after.trim_start();
        let text: String = raw
            .chars()
            .map(|c| if c == '*' || c.is_control() { ' ' } else { c })
            .collect();
        if !text.chars().any(char::is_alphanumeric) {
            continue;
        }
        let quoted = format!("\"{}\"", text.trim().replace('"', "\"\""));
        terms.push(if prefix { format!("{quoted}*") } else { quoted });
    }
    (!terms.is_empty()).then(|| terms.join(" "))
}

/// The parts of a WHERE clause for `filters`, with their parameters (numbered from `first`).
fn filter_sql(filters: &Filters, first: usize) -> (String, Vec<Box<dyn ToSql>>) {
    let mut sql = String::new();
    let mut params: Vec<Box<dyn ToSql>> = Vec::new();
    if let Some(cwd) = &filters.cwd {
        params.push(Box::new(cwd.to_string_lossy().into_owned()));
        sql.push_str(&format!(" AND s.cwd = ?{}", first + params.len() - 1));
    }
    if let Some(since) = filters.since {
        params.push(Box::new(to_millis(since)));
        sql.push_str(&format!(
            " AND s.updated_ms >= ?{}",
            first + params.len() - 1
        ));
    }
    if let Some(before) = filters.before {
        params.push(Box::new(to_millis(before)));
        sql.push_str(&format!(
            " AND s.updated_ms < ?{}",
            first + params.len() - 1
        ));
    }
    (sql, params)
}

fn limit_sql(filters: &Filters) -> String {
    match filters.limit {
        Some(limit) => format!(" LIMIT {limit}"),
        None => String::new(),
    }
}

impl SessionIndex {
    pub(super) fn search_fts(
        &mut self,
        fts: &str,
        filters: &Filters,
    ) -> Result<Vec<Hit>, IndexError> {
        let sqlite = |source| IndexError::sqlite("search", &self.db_path, source);
        let (where_sql, filter_params) = filter_sql(filters, 2);
        // `ORDER BY rank` lets FTS5 sort by its configured bm25 itself; snippets are then made
        // only for the rows returned.
        let sql = format!(
            "SELECT s.id, s.path, s.title, s.updated_ms, s.cwd,
                 snippet(sessions_fts, -1, char(1), char(2), '…', {SNIPPET_TOKENS}), rank
             FROM sessions_fts JOIN sessions s ON s.rowid = sessions_fts.rowid
             WHERE sessions_fts MATCH ?1{where_sql}
             ORDER BY rank{}",
            limit_sql(filters)
        );
        let mut params: Vec<&dyn ToSql> = vec![&fts];
        params.extend(filter_params.iter().map(|p| p.as_ref()));
        let mut stmt = self.conn.prepare_cached(&sql).map_err(sqlite)?;
        let rows = stmt
            .query_map(params.as_slice(), |row| {
                Ok(Hit {
                    id: row.get(0)?,
                    path: PathBuf::from(row.get::<_, String>(1)?),
                    title: row.get::<_, Option<String>>(2)?.unwrap_or_default(),
                    updated: from_millis(row.get(3)?),
                    cwd: row.get::<_, Option<String>>(4)?.map(PathBuf::from),
                    snippet: parse_snippet(&row.get::<_, Option<String>>(5)?.unwrap_or_default()),
                    score: -row.get::<_, f64>(6)?,
                })
            })
            .map_err(sqlite)?;
        rows.collect::<Result<_, _>>().map_err(sqlite)
    }

    pub(super) fn list_sessions(
        &mut self,
        filters: &Filters,
    ) -> Result<Vec<SessionInfo>, IndexError> {
        let (where_sql, params) = filter_sql(filters, 1);
        let sql = format!(
            "SELECT {INFO_COLUMNS} FROM sessions s WHERE 1{where_sql}
             ORDER BY s.updated_ms DESC, s.id DESC{}",
            limit_sql(filters)
        );
        self.query_infos(&sql, &params)
    }

    pub(super) fn sessions_with_prefix(
        &mut self,
        prefix: &str,
    ) -> Result<Vec<SessionInfo>, IndexError> {
        // A range scan on the id index: every id starting with `prefix` sorts between `prefix`
        // and `prefix` followed by the highest character.
        let sql = format!(
            "SELECT {INFO_COLUMNS} FROM sessions s WHERE s.id >= ?1 AND s.id < ?2
             ORDER BY s.updated_ms DESC LIMIT 50"
        );
        let params: Vec<Box<dyn ToSql>> = vec![
            Box::new(prefix.to_string()),
            Box::new(format!("{prefix}\u{10ffff}")),
        ];
        self.query_infos(&sql, &params)
    }

    pub(super) fn collect_stats(&mut self) -> Result<IndexStats, IndexError> {
        let sqlite = |source| IndexError::sqlite("read", &self.db_path, source);
        let mut stats = self
            .conn
            .query_row(
                "SELECT count(*), coalesce(sum(file_size), 0), coalesce(sum(skipped_lines), 0),
                     coalesce(sum(skipped_lines > 0), 0), min(created_ms), max(updated_ms)
                 FROM sessions",
                [],
                |row| {
                    Ok(IndexStats {
                        sessions: to_u64(row.get(0)?),
                        session_bytes: to_u64(row.get(1)?),
                        skipped_lines: to_u64(row.get(2)?),
                        sessions_with_skipped_lines: to_u64(row.get(3)?),
                        oldest: row.get::<_, Option<i64>>(4)?.map(from_millis),
                        newest: row.get::<_, Option<i64>>(5)?.map(from_millis),
                        ..IndexStats::default()
                    })
                },
            )
            .map_err(sqlite)?;
        stats.biggest = self.query_infos(
            &format!(
                "SELECT {INFO_COLUMNS} FROM sessions s ORDER BY s.file_size DESC LIMIT {BIGGEST}"
            ),
            &[],
        )?;
        stats.index_bytes = ["", "-wal"]
            .iter()
            .filter_map(|suffix| {
                let mut name = self.db_path.as_os_str().to_owned();
                name.push(suffix);
                std::fs::metadata(name).ok().map(|meta| meta.len())
            })
            .sum();
        Ok(stats)
    }

    fn query_infos(
        &self,
        sql: &str,
        params: &[Box<dyn ToSql>],
    ) -> Result<Vec<SessionInfo>, IndexError> {
        let sqlite = |source| IndexError::sqlite("read", &self.db_path, source);
        let params: Vec<&dyn ToSql> = params.iter().map(|p| p.as_ref()).collect();
        let mut stmt = self.conn.prepare_cached(sql).map_err(sqlite)?;
        let rows = stmt
            .query_map(params.as_slice(), info_from_row)
            .map_err(sqlite)?;
        rows.collect::<Result<_, _>>().map_err(sqlite)
    }
}

fn info_from_row(row: &Row<'_>) -> rusqlite::Result<SessionInfo> {
    Ok(SessionInfo {
        id: row.get(0)?,
        path: PathBuf::from(row.get::<_, String>(1)?),
        title: row.get::<_, Option<String>>(2)?.unwrap_or_default(),
        created: from_millis(row.get(3)?),
        updated: from_millis(row.get(4)?),
        cwd: row.get::<_, Option<String>>(5)?.map(PathBuf::from),
        git_branch: row.get(6)?,
        git_repo: row.get(7)?,
        model: row.get(8)?,
        model_provider: row.get(9)?,
        size_bytes: to_u64(row.get(10)?),
        counts: SessionCounts {
            user_messages: to_u64(row.get(11)?),
            assistant_messages: to_u64(row.get(12)?),
            commands: to_u64(row.get(13)?),
            patches: to_u64(row.get(14)?),
            skipped_lines: to_u64(row.get(15)?),
        },
    })
}

fn to_u64(value: i64) -> u64 {
    u64::try_from(value).unwrap_or(0)
}

/// Turns `snippet()` output (matches between [`MATCH_OPEN`] and [`MATCH_CLOSE`]) into one line of
/// text with match ranges.
fn parse_snippet(raw: &str) -> Snippet {
    let mut snippet = Snippet::default();
    let mut open_at = None;
    let mut last_space = true;
    for c in raw.chars() {
        match c {
            MATCH_OPEN => open_at = Some(snippet.text.len()),
            MATCH_CLOSE => {
                if let Some(start) = open_at.take()
                    && start < snippet.text.len()
                {
                    snippet.matches.push(start..snippet.text.len());
                }
            }
            c if c.is_whitespace() || c.is_control() => {
                if !last_space {
                    snippet.text.push(' ');
                    last_space = true;
                }
            }
            c => {
                snippet.text.push(c);
                last_space = false;
            }
        }
    }
    let trimmed = snippet.text.trim_end().len();
    snippet.text.truncate(trimmed);
    for range in &mut snippet.matches {
        range.end = range.end.min(trimmed);
    }
    snippet.matches.retain(|range| range.start < range.end);
    snippet
}

#[cfg(test)]
mod tests {
    use super::*;
    use pretty_assertions::assert_eq;

    #[test]
    fn queries_are_always_quoted() {
        let cases = [
            ("flaky login test", Some(r#""flaky" "login" "test""#)),
            (r#""flaky login" test"#, Some(r#""flaky login" "test""#)),
            ("log*", Some(r#""log"*"#)),
            (r#""flaky log"*"#, Some(r#""flaky log"*"#)),
            ("NOT (a OR b)", Some(r#""NOT" "(a" "OR" "b)""#)),
            (r#"say "hi"#, Some(r#""say" "hi""#)),
            ("a\"b", Some(r#""a""b""#)),
            ("col:umn ^x", Some(r#""col:umn" "^x""#)),
            ("* ( ) \"\" -", None),
            ("", None),
        ];
        for (input, expected) in cases {
            assert_eq!(escape_query(input).as_deref(), expected, "{input}");
        }
    }

    #[test]
    fn snippets_become_ranges_on_one_line() {
        let snippet = parse_snippet("…fix the \u{1}flaky\u{2}\n  \u{1}login\u{2} test…");
        assert_eq!(snippet.text, "…fix the flaky login test…");
        assert_eq!(snippet.marked("[", "]"), "…fix the [flaky] [login] test…");
    }
}
