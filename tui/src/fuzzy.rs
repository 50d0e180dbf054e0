//! Fuzzy matching for popups: a case-insensitive subsequence match, scored so that prefixes
//! and tight matches sort first.

/// Matches `needle` as a subsequence of `haystack`. Returns a score (lower is better) and the
/// char indices of `haystack` that matched, or `None` when it does not match.
///
/// Every occurrence of the needle's first char is tried as a start, so `main` finds the tight
/// `main` in `src/markdown/main.rs` rather than the scattered letters of `markdown`.
pub fn fuzzy_match(haystack: &str, needle: &str) -> Option<(i32, Vec<usize>)> {
    if needle.is_empty() {
        return Some((0, Vec::new()));
    }
    let hay: Vec<char> = haystack.chars().flat_map(char::to_lowercase).collect();
    let wanted: Vec<char> = needle.chars().flat_map(char::to_lowercase).collect();
    // Lower-casing can change the char count only for rare letters; fall back to no match
    // positions rather than wrong ones.
    let same_len = hay.len() == haystack.chars().count();
    let first_char = *wanted.first()?;
    let mut best: Option<(i32, Vec<usize>)> = None;
    for start in (0..hay.len()).filter(|&i| hay[i] == first_char) {
        let Some(indices) = match_from(&hay, &wanted, start) else {
            // No later start can match either once an earlier one ran out of haystack.
            break;
        };
        let score = score(&indices);
        if best.as_ref().is_none_or(|(b, _)| score < *b) {
            best = Some((score, indices));
        }
    }
    best.map(|(score, indices)| (score, if same_len { indices } else { Vec::new() }))
}

fn match_from(hay: &[char], wanted: &[char], start: usize) -> Option<Vec<usize>> {
    let mut indices = Vec::with_capacity(wanted.len());
    let mut from = start;
    for &c in wanted {
        let found = hay[from..].iter().position(|&h| h == c)?;
        indices.push(from + found);
        from += found + 1;
    }
    Some(indices)
}

fn score(indices: &[usize]) -> i32 {
    let first = indices.first().copied().unwrap_or(0);
    let last = indices.last().copied().unwrap_or(0);
    let spread = (last - first + 1 - indices.len()) as i32;
    let mut score = spread * 10 + first as i32;
    if first == 0 && spread == 0 {
        score -= 1000;
    }
    score
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

    #[test]
    fn the_tightest_occurrence_wins() {
        let (_, idx) = fuzzy_match("src/markdown/main.rs", "main").unwrap();
        assert_eq!(idx, vec![13, 14, 15, 16]);
        assert!(fuzzy_match("src/main.rs", "src/ma").unwrap().0 < 0);
    }
}
