//! ZooKeeper path validation (`PathUtils.validatePath`), the one check used by the
//! client (before sending), the namespace (before applying) and chroot parsing.
//!
//! Owns: the rules a znode path (and a chroot) must satisfy, and [`PathError`], the typed
//! reason a path is refused (a server answers every one of them with
//! [`ErrorCode::BadArguments`]).
//!
//! Must never: touch the network or look at a tree; it only inspects a string.

use super::ErrorCode;

/// Why a path is not a valid ZooKeeper path. Indices are character positions.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum PathError {
    /// The path is empty.
    Empty,
    /// The path does not start with `/`.
    NotAbsolute,
    /// The path ends with `/` (only `/` itself, or a sequential create's prefix, may).
    TrailingSlash,
    /// Two consecutive `/` (an empty node name) at this position.
    EmptySegment {
        /// Character position of the second `/`.
        index: usize,
    },
    /// A `.` or `..` segment ending at this position.
    RelativeSegment {
        /// Character position of the last `.`.
        index: usize,
    },
    /// A NUL character at this position.
    NulChar {
        /// Character position.
        index: usize,
    },
    /// A character ZooKeeper forbids (controls, surrogate and private-use ranges,
    /// specials, and everything outside the Basic Multilingual Plane).
    InvalidChar {
        /// Character position.
        index: usize,
        /// The offending character.
        ch: char,
    },
}

impl std::fmt::Display for PathError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            PathError::Empty => write!(f, "path length must be > 0"),
            PathError::NotAbsolute => write!(f, "path must start with / character"),
            PathError::TrailingSlash => write!(f, "path must not end with / character"),
            PathError::EmptySegment { index } => {
                write!(f, "empty node name specified @{index}")
            }
            PathError::RelativeSegment { index } => {
                write!(f, "relative paths not allowed @{index}")
            }
            PathError::NulChar { index } => write!(f, "null character not allowed @{index}"),
            PathError::InvalidChar { index, ch } => {
                write!(f, "invalid character {:?} @{index}", ch)
            }
        }
    }
}

impl std::error::Error for PathError {}

impl From<PathError> for ErrorCode {
    /// ZooKeeper refuses every invalid path with `BadArguments`.
    fn from(_: PathError) -> ErrorCode {
        ErrorCode::BadArguments
    }
}

/// Whether ZooKeeper forbids this character in a path. Java strings are UTF-16, so a
/// character outside the BMP arrives there as a surrogate pair, which is forbidden.
fn forbidden(c: char) -> bool {
    let c = c as u32;
    (0x01..=0x1f).contains(&c)
        || (0x7f..=0x9f).contains(&c)
        || (0xd800..=0xf8ff).contains(&c)
        || c >= 0xfff0
}

/// Validates a path as ZooKeeper does for every request path and for a chroot.
pub fn validate(path: &str) -> Result<(), PathError> {
    check(path, false)
}

/// Validates the path of a sequential create: a trailing `/` is allowed there because the
/// server appends the sequence number.
pub fn validate_sequential(path: &str) -> Result<(), PathError> {
    check(path, true)
}

fn check(path: &str, sequential: bool) -> Result<(), PathError> {
    // Positions are in characters; `before` and `last` are the two characters preceding
    // the current one (the first is always `/`, so `before` starts as a non-`/` filler).
    let mut chars = path.chars().enumerate().peekable();
    match chars.next() {
        None => return Err(PathError::Empty),
        Some((_, '/')) => {}
        Some(_) => return Err(PathError::NotAbsolute),
    }
    if path.len() == 1 {
        return Ok(());
    }
    if path.ends_with('/') && !sequential {
        return Err(PathError::TrailingSlash);
    }
    let (mut before, mut last) = ('\0', '/');
    while let Some((index, c)) = chars.next() {
        let seg_end = chars.peek().map_or(true, |&(_, next)| next == '/');
        if c == '\0' {
            return Err(PathError::NulChar { index });
        } else if c == '/' && last == '/' {
            return Err(PathError::EmptySegment { index });
        } else if c == '.' && last == '.' {
            if before == '/' && seg_end {
                return Err(PathError::RelativeSegment { index });
            }
        } else if c == '.' {
            if last == '/' && seg_end {
                return Err(PathError::RelativeSegment { index });
            }
        } else if forbidden(c) {
            return Err(PathError::InvalidChar { index, ch: c });
        }
        (before, last) = (last, c);
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn root_and_plain_paths_are_valid() {
        for p in [
            "/", "/a", "/a/b", "/a.b", "/..a", "/a../b", "/.a/b.", "/ü/中", "/...", "/é",
        ] {
            assert_eq!(validate(p), Ok(()), "{p}");
        }
    }

    #[test]
    fn every_refusal_is_bad_arguments_on_the_wire() {
        for p in [
            "",
            "a",
            "a/b",
            "/a/",
            "//",
            "/a//b",
            "/.",
            "/..",
            "/a/./b",
            "/a/../b",
            "/a\0b",
            "/a\u{1}",
            "/a\u{7f}",
            "/a\u{9f}",
            "/a\u{e000}",
            "/a\u{fff0}",
            "/a\u{1f600}",
        ] {
            let refused = validate(p).expect_err(p);
            assert_eq!(ErrorCode::from(refused), ErrorCode::BadArguments, "{p:?}");
        }
    }

    #[test]
    fn empty_path_is_refused() {
        assert_eq!(validate(""), Err(PathError::Empty));
    }

    #[test]
    fn relative_path_is_refused() {
        assert_eq!(validate("a/b"), Err(PathError::NotAbsolute));
    }

    #[test]
    fn trailing_slash_is_refused_except_for_sequential() {
        assert_eq!(validate("/a/"), Err(PathError::TrailingSlash));
        assert_eq!(validate_sequential("/a/"), Ok(()));
    }

    #[test]
    fn empty_segment_is_refused() {
        assert_eq!(validate("/a//b"), Err(PathError::EmptySegment { index: 3 }));
    }

    #[test]
    fn dot_segments_are_refused() {
        assert_eq!(
            validate("/a/./b"),
            Err(PathError::RelativeSegment { index: 3 })
        );
        assert_eq!(
            validate("/a/.."),
            Err(PathError::RelativeSegment { index: 4 })
        );
        assert_eq!(validate("/."), Err(PathError::RelativeSegment { index: 1 }));
    }

    #[test]
    fn nul_is_refused() {
        assert_eq!(validate("/a\0"), Err(PathError::NulChar { index: 2 }));
    }

    #[test]
    fn control_private_use_and_astral_chars_are_refused() {
        for ch in [
            '\u{1}',
            '\u{1f}',
            '\u{7f}',
            '\u{9f}',
            '\u{e000}',
            '\u{f8ff}',
            '\u{fff0}',
            '\u{1f600}',
        ] {
            let p = format!("/a{ch}");
            assert_eq!(
                validate(&p),
                Err(PathError::InvalidChar { index: 2, ch }),
                "{ch:?}"
            );
        }
    }
}
