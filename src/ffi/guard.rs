//! The panic boundary and the pointer checks every export goes through.
//!
//! Owns: [`boundary`] (the one place a panic is caught before it can reach C),
//! [`guard`] (its form for functions returning [`zks_result`]), and the helpers that turn
//! raw C pointers into references or slices, or into `ZKS_NULL_PARAMETER`. Exports do
//! not call these two directly: they go through `ffi_fn!`. In unit tests the boundary
//! has a hook that makes the next body panic, so a test can prove each export is behind
//! it.
//!
//! Must never: let a panic unwind out of an `extern "C"` function; hand out a reference
//! from a NULL pointer; write an output before the operation has succeeded.

use super::result::zks_result;
use std::panic::{catch_unwind, AssertUnwindSafe};

/// Runs `f`, returning `on_panic` if it panics. Every exported function's body runs
/// inside this (through `ffi_fn!`), so a panic never unwinds into C.
///
/// `AssertUnwindSafe` is sound here: after a panic the C caller only sees `on_panic`;
/// the engine's locks are poison-free and its invariants are kept per shard operation.
#[inline(always)]
pub(crate) fn boundary<T>(on_panic: T, f: impl FnOnce() -> T) -> T {
    #[cfg(test)]
    let f = || {
        panic_hook::fire();
        f()
    };
    catch_unwind(AssertUnwindSafe(f)).unwrap_or(on_panic)
}

/// A test-only switch that makes the next body run by [`boundary`] on this thread panic
/// before it starts.
#[cfg(test)]
pub(crate) mod panic_hook {
    use std::cell::Cell;

    thread_local! {
        static ARMED: Cell<bool> = const { Cell::new(false) };
    }

    /// Makes the next boundary on this thread panic.
    pub(crate) fn arm() {
        ARMED.with(|a| a.set(true));
    }

    /// Whether the hook is still armed (no boundary ran since [`arm`]); clears it.
    pub(crate) fn disarm() -> bool {
        ARMED.with(|a| a.replace(false))
    }

    /// Panics if armed (disarming first).
    pub(crate) fn fire() {
        if disarm() {
            panic!("panic injected at the boundary");
        }
    }
}

/// [`boundary`] for functions returning [`zks_result`]: `Ok(())` becomes `ZKS_OK`, an
/// error its code, and a panic `ZKS_PANIC`.
#[inline(always)]
pub(crate) fn guard(f: impl FnOnce() -> Result<(), zks_result>) -> zks_result {
    boundary(zks_result::ZKS_PANIC, || match f() {
        Ok(()) => zks_result::ZKS_OK,
        Err(e) => e,
    })
}

/// A shared reference from a pointer, or `ZKS_NULL_PARAMETER`.
///
/// # Safety
/// `p` must be NULL or point to a live, properly aligned `T` that is not mutated for `'a`.
#[inline(always)]
pub(crate) unsafe fn arg<'a, T>(p: *const T) -> Result<&'a T, zks_result> {
    // SAFETY: the caller guarantees `p` is NULL or valid for `'a`; NULL gives `None`.
    unsafe { p.as_ref() }.ok_or(zks_result::ZKS_NULL_PARAMETER)
}

/// An output slot: a checked, non-NULL pointer that is only ever written, never read
/// (the C caller's memory may be uninitialised).
pub(crate) struct Out<'a, T> {
    ptr: std::ptr::NonNull<T>,
    _life: std::marker::PhantomData<&'a mut T>,
}

impl<T> Out<'_, T> {
    /// Writes the output. Call only once the operation has succeeded.
    #[inline(always)]
    pub(crate) fn set(self, value: T) {
        // SAFETY: `out` checked the pointer is non-NULL and its caller guaranteed it is
        // aligned and valid for writes; `write` never reads or drops the old contents.
        unsafe { self.ptr.as_ptr().write(value) }
    }
}

/// An output slot from a pointer, or `ZKS_NULL_PARAMETER`. Check every output before
/// doing any work, and write it only on success.
///
/// # Safety
/// `p` must be NULL or point to memory valid for writes of a `T`, aligned, and not
/// accessed by anyone else for `'a`.
#[inline(always)]
pub(crate) unsafe fn out<'a, T>(p: *mut T) -> Result<Out<'a, T>, zks_result> {
    match std::ptr::NonNull::new(p) {
        Some(ptr) => Ok(Out {
            ptr,
            _life: std::marker::PhantomData,
        }),
        None => Err(zks_result::ZKS_NULL_PARAMETER),
    }
}

/// An input slice from a pointer and length. A NULL pointer is allowed only with length 0.
///
/// # Safety
/// If `len > 0`, `p` must point to `len` initialised, aligned `T`s that stay unchanged
/// for `'a`.
#[inline(always)]
pub(crate) unsafe fn slice<'a, T>(p: *const T, len: usize) -> Result<&'a [T], zks_result> {
    if len == 0 {
        return Ok(&[]);
    }
    if p.is_null() {
        return Err(zks_result::ZKS_NULL_PARAMETER);
    }
    // SAFETY: non-NULL, and the caller guarantees `len` valid elements.
    Ok(unsafe { std::slice::from_raw_parts(p, len) })
}

/// An output buffer from a pointer and capacity. A NULL pointer is allowed only with
/// capacity 0 (a size query).
///
/// # Safety
/// If `cap > 0`, `p` must point to `cap` aligned `T`s valid for writes and not accessed
/// by anyone else for `'a`. Their old contents are never read.
#[inline(always)]
pub(crate) unsafe fn buffer<'a, T: Copy>(
    p: *mut T,
    cap: usize,
) -> Result<&'a mut [std::mem::MaybeUninit<T>], zks_result> {
    if cap == 0 {
        return Ok(&mut []);
    }
    if p.is_null() {
        return Err(zks_result::ZKS_NULL_PARAMETER);
    }
    // SAFETY: non-NULL, and the caller guarantees `cap` writable elements; viewing them
    // as `MaybeUninit` never reads them.
    Ok(unsafe { std::slice::from_raw_parts_mut(p.cast(), cap) })
}

/// Copies `src` into the front of `dst` (which must be long enough).
#[inline]
pub(crate) fn fill<T: Copy>(
    dst: &mut [std::mem::MaybeUninit<T>],
    src: impl IntoIterator<Item = T>,
) {
    for (d, s) in dst.iter_mut().zip(src) {
        d.write(s);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn boundary_turns_a_panic_into_the_fallback() {
        let prev = std::panic::take_hook();
        std::panic::set_hook(Box::new(|_| {}));
        let r = guard(|| panic!("boom"));
        let v = boundary(7u8, || panic!("boom"));
        std::panic::set_hook(prev);
        assert_eq!(r, zks_result::ZKS_PANIC);
        assert_eq!(v, 7);
    }

    #[test]
    fn guard_maps_ok_and_errors() {
        assert_eq!(guard(|| Ok(())), zks_result::ZKS_OK);
        assert_eq!(
            guard(|| Err(zks_result::ZKS_UNKNOWN_SESSION)),
            zks_result::ZKS_UNKNOWN_SESSION
        );
    }

    #[test]
    fn null_pointers_are_null_parameter() {
        // SAFETY: NULL is always an accepted input of these helpers.
        unsafe {
            assert_eq!(
                arg::<u64>(std::ptr::null()).err(),
                Some(zks_result::ZKS_NULL_PARAMETER)
            );
            assert!(matches!(
                out::<u64>(std::ptr::null_mut()),
                Err(zks_result::ZKS_NULL_PARAMETER)
            ));
            assert_eq!(
                slice::<u64>(std::ptr::null(), 1).err(),
                Some(zks_result::ZKS_NULL_PARAMETER)
            );
            assert_eq!(slice::<u64>(std::ptr::null(), 0).map(|s| s.len()), Ok(0));
            assert!(buffer::<u64>(std::ptr::null_mut(), 2).is_err());
            assert_eq!(
                buffer::<u64>(std::ptr::null_mut(), 0).map(|s| s.len()),
                Ok(0)
            );
        }
    }

    #[test]
    fn fill_writes_the_front() {
        let mut raw = [0u64; 3];
        // SAFETY: `raw` is a valid buffer of 3 u64s.
        let b = unsafe { buffer(raw.as_mut_ptr(), 3) }.unwrap();
        fill(b, [5, 6]);
        assert_eq!(raw, [5, 6, 0]);
    }
}
