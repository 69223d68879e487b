//! Znode path arithmetic: parent/child splitting, ancestors and sequence suffixes.
//! (Whether a path is valid at all is [`crate::wire::path`]'s call.)
//!
//! Owns: where a valid path's parent is and how a child's path is formed.
//!
//! Must never: look at the tree (existence is the caller's business).

use crate::wire::ErrorCode;

/// The root path.
pub const ROOT: &str = "/";

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
