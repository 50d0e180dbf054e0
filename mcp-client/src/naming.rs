//! Tool names the model sees: `<server>__<tool>`, made valid for the model APIs
//! (`^[a-zA-Z0-9_-]{1,64}$`) and unique, deterministically, so the same servers always yield the
//! same names (which keeps prompt caches warm across sessions).

/// Between the server and the tool name.
pub const DELIMITER: &str = "__";
/// The longest function name the Responses and Chat APIs accept.
pub const MAX_TOOL_NAME_LENGTH: usize = 64;
/// Hex digits of the hash appended to shortened or clashing names.
const HASH_LEN: usize = 8;

/// One tool to name.
#[derive(Debug, Clone, Copy)]
pub struct ToolRef<'a> {
    pub server: &'a str,
    pub tool: &'a str,
}

/// Qualified names for `tools`, in the same order. A name that is too long is cut and given a
/// short hash of the full original name; so is a name that clashes with one already handed out
/// (clashes are resolved in (server, tool) order, so the result does not depend on input order).
/// `None` marks a tool that could not get a unique name (only possible with hash collisions).
pub fn qualify_tool_names(tools: &[ToolRef<'_>]) -> Vec<Option<String>> {
    let mut order: Vec<usize> = (0..tools.len()).collect();
    order.sort_by_key(|&i| (tools[i].server, tools[i].tool));
    let mut taken = std::collections::HashSet::new();
    let mut names = vec![None; tools.len()];
    for i in order {
        let ToolRef { server, tool } = tools[i];
        let raw = format!("{server}{DELIMITER}{tool}");
        let sanitized = sanitize(&raw);
        let candidate = if sanitized.len() > MAX_TOOL_NAME_LENGTH {
            with_hash(&sanitized, &raw)
        } else {
            sanitized.clone()
        };
        let name = if taken.contains(&candidate) {
            with_hash(&sanitized, &raw)
        } else {
            candidate
        };
        if taken.insert(name.clone()) {
            names[i] = Some(name);
        } else {
            tracing::warn!(server, tool, "skipping MCP tool: no unique name for it");
        }
    }
    names
}

/// Replaces every character the model APIs refuse with `_`.
fn sanitize(name: &str) -> String {
    name.chars()
        .map(|c| {
            if c.is_ascii_alphanumeric() || c == '_' || c == '-' {
                c
            } else {
                '_'
            }
        })
        .collect()
}

/// `sanitized` cut so that `_` plus the hash of `raw` fits in [`MAX_TOOL_NAME_LENGTH`].
fn with_hash(sanitized: &str, raw: &str) -> String {
    let keep = MAX_TOOL_NAME_LENGTH - HASH_LEN - 1;
    // `sanitized` is ASCII, so any byte index is a char boundary.
    let prefix = &sanitized[..sanitized.len().min(keep)];
    let hash = format!("{:016x}", fnv1a64(raw.as_bytes()));
    format!("{prefix}_{}", &hash[..HASH_LEN])
}

/// A short stable hash, for file names derived from URLs.
pub(crate) fn short_hash(text: &str) -> u32 {
    // Folding keeps bits from both halves.
    let hash = fnv1a64(text.as_bytes());
    (hash ^ (hash >> 32)) as u32
}

/// FNV-1a: tiny, stable across platforms and releases, and plenty for telling names apart.
fn fnv1a64(bytes: &[u8]) -> u64 {
    let mut hash: u64 = 0xcbf2_9ce4_8422_2325;
    for byte in bytes {
        hash ^= u64::from(*byte);
        hash = hash.wrapping_mul(0x0000_0100_0000_01b3);
    }
    hash
}

#[cfg(test)]
mod tests {
    use pretty_assertions::assert_eq;

    use super::*;

    fn names(tools: &[(&str, &str)]) -> Vec<Option<String>> {
        let refs: Vec<ToolRef<'_>> = tools
            .iter()
            .map(|(server, tool)| ToolRef { server, tool })
            .collect();
        qualify_tool_names(&refs)
    }

    #[test]
    fn short_valid_names_are_kept() {
        assert_eq!(
            names(&[("docs", "search"), ("fs", "read_file")]),
            vec![
                Some("docs__search".to_string()),
                Some("fs__read_file".to_string())
            ]
        );
    }

    #[test]
    fn invalid_characters_are_replaced() {
        assert_eq!(
            names(&[("docs", "files.read/v2")]),
            vec![Some("docs__files_read_v2".to_string())]
        );
    }

    #[test]
    fn long_names_are_cut_with_a_hash_and_stay_unique() {
        let a = "a".repeat(70);
        let b = format!("{}b", "a".repeat(69));
        let got = names(&[("server", &a), ("server", &b)]);
        let first = got[0].clone().unwrap();
        let second = got[1].clone().unwrap();
        assert_eq!(first.len(), MAX_TOOL_NAME_LENGTH);
        assert_eq!(second.len(), MAX_TOOL_NAME_LENGTH);
        assert_ne!(first, second);
        assert!(first.starts_with("server__aaaa"));
        assert!(
            first
                .chars()
                .all(|c| c.is_ascii_alphanumeric() || c == '_' || c == '-')
        );
        // Deterministic across calls and input order.
        assert_eq!(
            names(&[("server", &b), ("server", &a)]),
            vec![got[1].clone(), got[0].clone()]
        );
    }

    #[test]
    fn clashes_after_sanitising_get_a_hash() {
        let got = names(&[("s", "a.b"), ("s", "a_b")]);
        // (s, a.b) sorts first and keeps the plain name; (s, a_b) then clashes.
        assert_eq!(got[0].as_deref(), Some("s__a_b"));
        let second = got[1].clone().unwrap();
        assert!(second.starts_with("s__a_b_") && second.len() == "s__a_b_".len() + HASH_LEN);
    }
}
