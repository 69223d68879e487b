//! The machine's memory as the default memory budget sees it.
//!
//! Owns: [`default_budget`]: half of the lower of the physical memory and the process's
//! address-space limit (`RLIMIT_AS`), so that the tree stops growing while the rest of the
//! process (connection buffers, requests being decoded, thread stacks, the allocator's
//! reservations) still has room.
//!
//! Must never: be called on a hot path (it makes system calls).

/// Half of min(physical memory, `RLIMIT_AS`), or `None` when neither is known.
pub(crate) fn default_budget() -> Option<u64> {
    let limits = [physical_memory(), address_space_limit()];
    limits.into_iter().flatten().min().map(|m| m / 2)
}

/// The machine's physical memory in bytes.
#[cfg(target_os = "linux")]
fn physical_memory() -> Option<u64> {
    // SAFETY: sysconf only reads system configuration values.
    let (pages, size) = unsafe {
        (
            libc::sysconf(libc::_SC_PHYS_PAGES),
            libc::sysconf(libc::_SC_PAGESIZE),
        )
    };
    (pages > 0 && size > 0).then(|| pages as u64 * size as u64)
}

/// The process's soft address-space limit in bytes, `None` when unlimited.
#[cfg(target_os = "linux")]
fn address_space_limit() -> Option<u64> {
    let mut r = libc::rlimit {
        rlim_cur: 0,
        rlim_max: 0,
    };
    // SAFETY: `r` is a valid, writable rlimit for the call's duration.
    let ok = unsafe { libc::getrlimit(libc::RLIMIT_AS, &mut r) } == 0;
    (ok && r.rlim_cur != libc::RLIM_INFINITY).then_some(r.rlim_cur)
}

#[cfg(not(target_os = "linux"))]
fn physical_memory() -> Option<u64> {
    None
}

#[cfg(not(target_os = "linux"))]
fn address_space_limit() -> Option<u64> {
    None
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_default_is_half_of_what_the_process_may_use() {
        let b = default_budget().expect("known on linux");
        let phys = physical_memory().unwrap();
        assert!(b <= phys / 2);
        if let Some(limit) = address_space_limit() {
            assert!(b <= limit / 2);
        }
    }
}
