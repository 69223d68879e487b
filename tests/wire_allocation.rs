//! Decoding hostile bytes never allocates more than the frame holds: a length prefix is
//! checked against the limit and the remaining input before any buffer is reserved.
//!
//! A counting global allocator records the largest single allocation made by the
//! current thread while the flag is set.

use proptest::prelude::*;
use std::alloc::{GlobalAlloc, Layout, System};
use std::cell::Cell;
use zksession::wire::{
    decode_request, ConnectRequest, FrameDecoder, OpCode, Reader, Record, Response,
};

struct Counting;

thread_local! {
    static TRACK: Cell<bool> = const { Cell::new(false) };
    static LARGEST: Cell<usize> = const { Cell::new(0) };
}

// SAFETY: forwards every call unchanged to the system allocator; the thread-locals are
// const-initialised `Cell`s, so touching them never allocates or re-enters.
unsafe impl GlobalAlloc for Counting {
    unsafe fn alloc(&self, layout: Layout) -> *mut u8 {
        note(layout.size());
        // SAFETY: the caller upholds `alloc`'s contract, which we pass on unchanged.
        unsafe { System.alloc(layout) }
    }

    unsafe fn dealloc(&self, ptr: *mut u8, layout: Layout) {
        // SAFETY: `ptr` came from `System.alloc` with this layout.
        unsafe { System.dealloc(ptr, layout) }
    }

    unsafe fn realloc(&self, ptr: *mut u8, layout: Layout, new_size: usize) -> *mut u8 {
        note(new_size);
        // SAFETY: `ptr` came from `System` with `layout`; the caller upholds the rest.
        unsafe { System.realloc(ptr, layout, new_size) }
    }
}

fn note(size: usize) {
    let _ = TRACK.try_with(|t| {
        if t.get() {
            let _ = LARGEST.try_with(|l| l.set(l.get().max(size)));
        }
    });
}

#[global_allocator]
static ALLOC: Counting = Counting;

fn largest_allocation(f: impl FnOnce()) -> usize {
    LARGEST.with(|l| l.set(0));
    TRACK.with(|t| t.set(true));
    f();
    TRACK.with(|t| t.set(false));
    LARGEST.with(|l| l.get())
}

/// The largest structure the decoders build per input byte (a `String` or `Acl` per
/// 4-byte vector element) bounds allocation at a small multiple of the input.
const FACTOR: usize = 64;

proptest! {
    #[test]
    fn random_frames_allocate_at_most_a_multiple_of_their_size(
        bytes in proptest::collection::vec(any::<u8>(), 0..512),
        op in -12i32..110,
    ) {
        let mut prefixed = (bytes.len() as i32).to_be_bytes().to_vec();
        prefixed.extend_from_slice(&bytes);
        let n = largest_allocation(|| {
            let mut d = FrameDecoder::new(1024);
            d.push(&prefixed);
            if let Ok(Some(frame)) = d.next_frame() {
                let _ = decode_request(frame, 1024);
            }
            let _ = ConnectRequest::from_bytes(&bytes);
            if let Some(code) = OpCode::from_code(op) {
                let _ = Response::read(code, &mut Reader::with_max(&bytes, 1024));
            }
        });
        prop_assert!(n <= FACTOR * (bytes.len() + 8), "allocated {} for {} bytes", n, bytes.len());
    }
}

#[test]
fn huge_length_prefixes_allocate_nothing_for_their_payload() {
    // A create whose path claims 1 GiB, and a vector claiming 2^31-1 ACL entries.
    let mut claims = vec![0, 0, 0, 1, 0, 0, 0, 1];
    claims.extend_from_slice(&0x4000_0000i32.to_be_bytes());
    let mut acl_claim = vec![0, 0, 0, 1, 0, 0, 0, 1, 0, 0, 0, 1, b'/', 0, 0, 0, 0];
    acl_claim.extend_from_slice(&i32::MAX.to_be_bytes());
    let n = largest_allocation(|| {
        assert!(decode_request(&claims, usize::MAX).is_err());
        assert!(decode_request(&acl_claim, usize::MAX).is_err());
        let mut d = FrameDecoder::default();
        d.push(&i32::MAX.to_be_bytes());
        assert!(d.next_frame().is_err());
    });
    assert!(n < 1024, "allocated {n} bytes");
}
