//! What each result code means, for C.
//!
//! Owns: [`zks_result_str`] and [`zks_result_zookeeper_code`].
//!
//! Must never: return a pointer that is not static and NUL-terminated.

use super::result::zks_result;
use std::os::raw::c_char;

/// The message of an unknown result number.
const UNKNOWN_RESULT: &str = "unknown zks_result value\0";

/// A static, NUL-terminated English description of `result`. Never NULL; an unknown
/// value gets "unknown zks_result value". The string must not be freed.
///
/// Thread safety: callable from any thread.
#[no_mangle]
pub extern "C" fn zks_result_str(result: u32) -> *const c_char {
    ffi_fn!(on_panic = UNKNOWN_RESULT.as_ptr().cast(), || {
        let s = zks_result::from_u32(result).map_or(UNKNOWN_RESULT, zks_result::message);
        s.as_ptr().cast()
    })
}

/// The ZooKeeper `KeeperException.Code` value that corresponds to `result`:
///
/// | zks_result | ZooKeeper |
/// |---|---|
/// | `ZKS_OK` | 0 (`OK`) |
/// | `ZKS_UNKNOWN_SESSION` | -12 (`UNKNOWNSESSION`, internal to servers) |
/// | `ZKS_SESSION_EXPIRED` | -112 (`SESSIONEXPIRED`) |
/// | `ZKS_SESSION_MOVED` | -118 (`SESSIONMOVED`) |
/// | `ZKS_EPHEMERAL_ON_LOCAL_SESSION` | -120 (`EPHEMERALONLOCALSESSION`) |
/// | `ZKS_BAD_ARGUMENTS`, `ZKS_NULL_PARAMETER`, `ZKS_INVALID_PARAMETER`, `ZKS_INSUFFICIENT_SIZE`, every `ZKS_CONFIG_*` | -8 (`BADARGUMENTS`) |
/// | `ZKS_NOT_POLLABLE`, `ZKS_NOT_MANUAL_CLOCK` | -6 (`UNIMPLEMENTED`) |
/// | `ZKS_PANIC` and any unknown value | -1 (`SYSTEMERROR`) |
///
/// Thread safety: callable from any thread.
#[no_mangle]
pub extern "C" fn zks_result_zookeeper_code(result: u32) -> i32 {
    ffi_fn!(on_panic = -1, || {
        zks_result::from_u32(result).map_or(-1, zks_result::zookeeper_code)
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::ffi::CStr;

    #[test]
    fn every_code_has_a_distinct_message() {
        let mut seen = std::collections::HashSet::new();
        for &r in super::super::result::ALL {
            // SAFETY: zks_result_str returns a static NUL-terminated string.
            let s = unsafe { CStr::from_ptr(zks_result_str(r as u32)) };
            assert!(!s.to_bytes().is_empty());
            assert!(seen.insert(s.to_owned()), "duplicate message for {r:?}");
        }
    }

    #[test]
    fn unknown_value_gets_a_message_and_systemerror() {
        // SAFETY: zks_result_str returns a static NUL-terminated string.
        let s = unsafe { CStr::from_ptr(zks_result_str(9999)) };
        assert_eq!(s.to_str().unwrap(), "unknown zks_result value");
        assert_eq!(zks_result_zookeeper_code(9999), -1);
    }
}
