//! Znode path syntax: ZooKeeper's `PathUtils.validatePath` rules and parent/child splitting.
//!
//! Owns: deciding whether a string is a valid znode path and where its parent is.
//!
//! Must never: look at the tree (existence is the caller's business).

use crate::wire::ErrorCode;

/// The root path.
pub const ROOT: &str = "/";

/// Checks `path` against ZooKeeper's path rules, else `BadArguments`.
///
/// A valid path starts with `/`, does not end with `/` (unless it is the root), has no
/// empty, `.` or `..` component, and holds none of the characters ZooKeeper refuses:
/// NUL, U+0001..U+001F, U+007F..U+009F, U+E000..U+F8FF, U+FFF0..U+FFFF, and anything
/// outside the Basic Multilingual Plane (Java sees those as surrogates, U+D800..U+DFFF).
pub fn validate(path: &str) -> Result<(), ErrorCode> {
    let rest = path.strip_prefix('/').ok_or(ErrorCode::BadArguments)?;
    if rest.is_empty() {
        return Ok(());
    }
    for component in rest.split('/') {
        if component.is_empty() || component == "." || component == ".." {
            return Err(ErrorCode::BadArguments);
        }
        if component.chars().any(is_refused_char) {
            return Err(ErrorCode::BadArguments);
        }
    }
    Ok(())
}

/// Whether ZooKeeper refuses `c` anywhere in a path.
fn is_refused_char(c: char) -> bool {
    matches!(c as u32,
        0x0000..=0x001f
        | 0x007f..=0x009f
        | 0xd800..=0xf8ff
        | 0xfff0..)
}

/// The parent of `path` as ZooKeeper's prep stage computes it: everything before the last
/// `/`, with the empty prefix meaning the root. `BadArguments` when there is no `/` or the
/// path holds a NUL (the checks ZooKeeper makes before looking anything up).
pub fn parent_for_write(path: &str) -> Result<&str, ErrorCode> {
    if path.contains('\0') {
        return Err(ErrorCode::BadArguments);
    }
    match path.rfind('/') {
        None => Err(ErrorCode::BadArguments),
        Some(0) => Ok(ROOT),
        Some(i) => Ok(&path[..i]),
    }
}

/// Splits a valid non-root path into (parent, last component).
pub fn split(path: &str) -> (&str, &str) {
    match path.rfind('/') {
        Some(0) => (ROOT, &path[1..]),
        Some(i) => (&path[..i], &path[i + 1..]),
        None => (ROOT, path),
    }
}

/// The path of child `name` under `parent`.
pub fn join(parent: &str, name: &str) -> String {
    if parent == ROOT {
        format!("/{name}")
    } else {
        format!("{parent}/{name}")
    }
}

/// The strict ancestors of `path`, nearest first, ending with the root.
pub fn ancestors(path: &str) -> impl Iterator<Item = &str> {
    let mut cur = Some(path);
    std::iter::from_fn(move || {
        let p = cur?;
        if p == ROOT {
            cur = None;
            return None;
        }
        let (parent, _) = split(p);
        cur = Some(parent);
        Some(parent)
    })
}

/// The sequential name suffix ZooKeeper appends: the parent's cversion as `%010d`
/// (a negative cversion keeps its sign inside the ten characters, as Java prints it).
pub fn sequence_suffix(cversion: i32) -> String {
    format!("{cversion:010}")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn valid_paths_pass() {
        for p in [
            "/",
            "/a",
            "/a/b",
            "/a.b",
            "/...",
            "/a/.b",
            "/zookeeper",
            "/é",
        ] {
            assert_eq!(validate(p), Ok(()), "{p}");
        }
    }

    #[test]
    fn invalid_paths_are_bad_arguments() {
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
            assert_eq!(validate(p), Err(ErrorCode::BadArguments), "{p:?}");
        }
    }

    #[test]
    fn parent_for_write_follows_last_slash() {
        assert_eq!(parent_for_write("/a"), Ok("/"));
        assert_eq!(parent_for_write("/a/b"), Ok("/a"));
        assert_eq!(parent_for_write("/a/"), Ok("/a"));
        assert_eq!(parent_for_write("/"), Ok("/"));
        assert_eq!(parent_for_write("a"), Err(ErrorCode::BadArguments));
        assert_eq!(parent_for_write("/a\0"), Err(ErrorCode::BadArguments));
    }

    #[test]
    fn split_join_and_ancestors() {
        assert_eq!(split("/a"), ("/", "a"));
        assert_eq!(split("/a/b/c"), ("/a/b", "c"));
        assert_eq!(join("/", "a"), "/a");
        assert_eq!(join("/a", "b"), "/a/b");
        assert_eq!(ancestors("/a/b/c").collect::<Vec<_>>(), ["/a/b", "/a", "/"]);
        assert_eq!(ancestors("/").count(), 0);
    }

    #[test]
    fn sequence_suffix_is_ten_digits_like_java() {
        assert_eq!(sequence_suffix(0), "0000000000");
        assert_eq!(sequence_suffix(42), "0000000042");
        assert_eq!(sequence_suffix(i32::MAX), "2147483647");
        assert_eq!(sequence_suffix(-1), "-000000001");
        assert_eq!(sequence_suffix(i32::MIN), "-2147483648");
    }
}
