//! Fuzzy matching for popups: a case-insensitive subsequence match, scored so that prefixes
//! and tight matches sort first.

/// Matches `needle` as a subsequence of `haystack`. Returns a score (lower is better) and the
/// char indices of `haystack` that matched, or `None` when it does not match.
pub fn fuzzy_match(haystack: &str, needle: &str) -> Option<(i32, Vec<usize>)> {
    if needle.is_empty() {
        return Some((0, Vec::new()));
    }
    let hay: Vec<char> = haystack.chars().flat_map(char::to_lowercase).collect();
    // Lower-casing can change the char count only for rare letters; fall back to no match
    // positions rather than wrong ones.
    let same_len = hay.len() == haystack.chars().count();
    let mut indices = Vec::new();
    let mut from = 0;
    for wanted in needle.chars().flat_map(char::to_lowercase) {
        let found = hay[from..].iter().position(|&c| c == wanted)?;
        indices.push(from + found);
        from += found + 1;
    }
    let first = indices.first().copied().unwrap_or(0);
    let last = indices.last().copied().unwrap_or(0);
    let spread = (last - first + 1 - indices.len()) as i32;
    let mut score = spread * 10 + first as i32;
    if first == 0 && spread == 0 {
        score -= 1000;
    }
    Some((score, if same_len { indices } else { Vec::new() }))
}

#[cfg(test)]
mod tests {
    use super::*;
    use pretty_assertions::assert_eq;

    #[test]
    fn prefixes_beat_scattered_matches() {
        let (prefix, idx) = fuzzy_match("model", "mo").unwrap();
        assert_eq!(idx, vec![0, 1]);
        let (scattered, _) = fuzzy_match("compact", "mt").unwrap();
        assert!(prefix < scattered);
        assert!(fuzzy_match("status", "sx").is_none());
        assert_eq!(fuzzy_match("Diff", "DI").unwrap().1, vec![0, 1]);
    }
}
