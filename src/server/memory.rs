//! The machine's memory as the default memory budget sees it.
//!
//! Owns: [`default_budget`]: half of the lower of the physical memory and the address
//! space the process may still take (`RLIMIT_AS` less what it has mapped already), so that
//! the tree stops growing while the rest of the process (connection buffers, requests
//! being decoded, thread stacks) still has room; and [`prepare_allocator`], which keeps
//! glibc from reserving 64 MiB of address space per thread arena under such a limit.
//!
//! Must never: be called on a hot path (it makes system calls).

/// Half of min(physical memory, `RLIMIT_AS` − mapped now), or `None` when neither is
/// known.
pub(crate) fn default_budget() -> Option<u64> {
    let room = address_space_limit().map(|l| l.saturating_sub(mapped_bytes().unwrap_or(0)));
    let limits = [physical_memory(), room];
    limits.into_iter().flatten().min().map(|m| m / 2)
}

/// Under an address-space limit, caps glibc's malloc at two arenas: each arena reserves
/// up to 64 MiB of address space (up to eight per core), which under `RLIMIT_AS` would be
/// lost to reservations instead of data. Call first thing in `main`, before any thread
/// exists. Does nothing without a limit or with another allocator.
pub fn prepare_allocator() {
    #[cfg(all(target_os = "linux", target_env = "gnu"))]
    if address_space_limit().is_some() {
        // SAFETY: mallopt only changes malloc's tuning; it is called before other threads
        // allocate.
        unsafe {
            libc::mallopt(libc::M_ARENA_MAX, 2);
        }
    }
}

/// The bytes of address space the process has mapped (`/proc/self/statm`'s size).
#[cfg(target_os = "linux")]
fn mapped_bytes() -> Option<u64> {
    let statm = std::fs::read_to_string("/proc/self/statm").ok()?;
    let pages: u64 = statm.split_whitespace().next()?.parse().ok()?;
    // SAFETY: sysconf only reads system configuration values.
    let size = unsafe { libc::sysconf(libc::_SC_PAGESIZE) };
    (size > 0).then(|| pages * size as u64)
}

#[cfg(not(target_os = "linux"))]
fn mapped_bytes() -> Option<u64> {
    None
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
        assert!(mapped_bytes().unwrap() > 0);
        if let Some(limit) = address_space_limit() {
            assert!(b <= limit / 2);
        }
    }
}
