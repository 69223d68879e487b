//! Chroot: mapping client paths to server paths and back (`Chroot.java`).
//!
//! Owns: prepending the chroot to every path sent and stripping it from every path
//! received (responses and watch events).
//!
//! Must never: validate paths (the caller did) or know about requests.

/// A chroot, or none. A chroot is a valid path other than `/`.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Chroot {
    root: Option<String>,
}

impl Chroot {
    /// A chroot from the parsed connection string (`None` = the real root).
    pub fn new(root: Option<String>) -> Chroot {
        Chroot { root }
    }

    /// The server path for a client path: `/` maps to the chroot itself.
    pub fn prepend(&self, client_path: &str) -> String {
        match &self.root {
            None => client_path.to_string(),
            Some(root) if client_path == "/" => root.clone(),
            Some(root) => format!("{root}{client_path}"),
        }
    }

    /// The client path for a server path: the chroot maps to `/`. `None` when the server
    /// path is outside the chroot (it cannot be shown to this client).
    pub fn strip(&self, server_path: &str) -> Option<String> {
        let Some(root) = &self.root else {
            return Some(server_path.to_string());
        };
        if server_path == root {
            return Some("/".to_string());
        }
        match server_path.strip_prefix(root.as_str()) {
            Some(rest) if rest.starts_with('/') => Some(rest.to_string()),
            _ => None,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn no_chroot_is_identity() {
        let c = Chroot::new(None);
        assert_eq!(c.prepend("/a"), "/a");
        assert_eq!(c.strip("/a").as_deref(), Some("/a"));
    }

    #[test]
    fn root_maps_to_the_chroot_and_back() {
        let c = Chroot::new(Some("/app/a".into()));
        assert_eq!(c.prepend("/"), "/app/a");
        assert_eq!(c.strip("/app/a").as_deref(), Some("/"));
    }

    #[test]
    fn paths_are_prefixed_and_stripped() {
        let c = Chroot::new(Some("/app".into()));
        assert_eq!(c.prepend("/x/y"), "/app/x/y");
        assert_eq!(c.strip("/app/x/y").as_deref(), Some("/x/y"));
    }

    #[test]
    fn paths_outside_the_chroot_are_not_stripped() {
        let c = Chroot::new(Some("/app".into()));
        assert_eq!(c.strip("/other"), None);
        assert_eq!(c.strip("/apple"), None);
    }
}
