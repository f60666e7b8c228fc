//! Strings from elsewhere made safe where they are shown: on a terminal (server strings may
//! hold escape sequences) and in a shell command (the resume command quotes its words).

/// `text` with control characters and bidirectional overrides (which reorder what a
/// terminal shows) written as Rust escapes (`\u{1b}`, `\u{202e}`).
pub fn terminal_safe(text: &str) -> String {
    fn unsafe_char(c: char) -> bool {
        c.is_control() || matches!(c, '\u{202a}'..='\u{202e}' | '\u{2066}'..='\u{2069}')
    }
    if text.chars().any(unsafe_char) {
        text.chars()
            .map(|c| {
                if unsafe_char(c) {
                    c.escape_default().to_string()
                } else {
                    c.to_string()
                }
            })
            .collect()
    } else {
        text.to_string()
    }
}

/// [`terminal_safe`] for a message of several lines: its own line breaks stay.
pub fn terminal_safe_lines(text: &str) -> String {
    text.split('\n')
        .map(terminal_safe)
        .collect::<Vec<_>>()
        .join("\n")
}

/// `word` as one shell word: left alone when it is plainly safe, single-quoted otherwise.
pub fn shell_word(word: &str) -> String {
    if !word.is_empty()
        && word
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || "-_.:@%+=,".contains(c))
    {
        word.to_string()
    } else {
        format!("'{}'", word.replace('\'', r"'\''"))
    }
}

#[cfg(test)]
mod tests {
    use super::shell_word;

    #[test]
    fn resume_commands_quote_only_what_needs_it() {
        assert_eq!(
            shell_word("9f32b7cf-7418-4cc1-b4e7-a37f7cd870e1"),
            "9f32b7cf-7418-4cc1-b4e7-a37f7cd870e1"
        );
        assert_eq!(shell_word("a b"), "'a b'");
        assert_eq!(shell_word("it's"), r"'it'\''s'");
    }
}
