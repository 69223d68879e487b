//! Arbitrary bytes through the server's input path: frame decoder, then the handshake
//! or request decoder. Must never panic, and frames never exceed the limit.
#![no_main]

use libfuzzer_sys::fuzz_target;
use zksession::wire::{decode_request, ConnectRequest, FrameDecoder, Record};

const MAX: usize = 4096;

fuzz_target!(|data: &[u8]| {
    let mut frames = FrameDecoder::new(MAX);
    // Feed in two pieces to exercise reassembly.
    let cut = data.first().map_or(0, |b| *b as usize % (data.len() + 1));
    frames.push(&data[..cut]);
    let mut first = true;
    let drain = |frames: &mut FrameDecoder, first: &mut bool| {
        while let Ok(Some(frame)) = frames.next_frame() {
            assert!(frame.len() <= MAX);
            if *first {
                let _ = ConnectRequest::from_bytes(frame);
                *first = false;
            } else {
                let _ = decode_request(frame, MAX);
            }
        }
    };
    drain(&mut frames, &mut first);
    frames.push(&data[cut..]);
    drain(&mut frames, &mut first);
});
