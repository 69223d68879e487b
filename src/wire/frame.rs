//! Framing: every message is a 4-byte big-endian payload length, then the payload.
//!
//! Owns: [`FrameDecoder`] (accumulates bytes as they arrive and yields whole frames),
//! [`FrameError`] and [`write_frame`].
//!
//! Invariants: a frame's length is validated (not negative, not above the limit) as soon
//! as its 4 length bytes are present, before any room is reserved for its payload; the
//! decoder's buffer never holds more than what the caller pushed.
//!
//! Must never: do I/O or panic on any input.

use super::jute::{Writer, DEFAULT_MAX_BUFFER};
use std::fmt;

/// Why a byte stream is not a valid sequence of frames. Either way the connection must be
/// closed: the stream cannot be resynchronised.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum FrameError {
    /// The length prefix is negative.
    NegativeLength(i32),
    /// The length prefix exceeds the limit (`jute.maxbuffer`).
    TooLarge {
        /// The announced payload length.
        len: usize,
        /// The limit.
        max: usize,
    },
}

impl fmt::Display for FrameError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            FrameError::NegativeLength(n) => write!(f, "negative frame length {n}"),
            FrameError::TooLarge { len, max } => {
                write!(f, "frame length {len} exceeds the maximum {max}")
            }
        }
    }
}

impl std::error::Error for FrameError {}

/// Buffer capacity an empty decoder keeps; room beyond it is released.
const KEEP_CAPACITY: usize = 128 * 1024;

/// Accumulates bytes from a stream and splits them into frames.
///
/// # Example
/// ```
/// use zksession::wire::FrameDecoder;
///
/// let mut d = FrameDecoder::new(1024);
/// d.push(&[0, 0, 0, 3, b'a']);
/// assert_eq!(d.next_frame().unwrap(), None);
/// d.push(b"bc");
/// assert_eq!(d.next_frame().unwrap(), Some(&b"abc"[..]));
/// ```
#[derive(Debug, Clone)]
pub struct FrameDecoder {
    buf: Vec<u8>,
    /// Bytes at the front of `buf` already handed out as frames.
    consumed: usize,
    max: usize,
}

impl Default for FrameDecoder {
    fn default() -> Self {
        FrameDecoder::new(DEFAULT_MAX_BUFFER)
    }
}

impl FrameDecoder {
    /// A decoder refusing payloads longer than `max_frame` bytes.
    pub fn new(max_frame: usize) -> Self {
        FrameDecoder {
            buf: Vec::new(),
            consumed: 0,
            max: max_frame,
        }
    }

    /// The payload limit.
    pub fn max_frame(&self) -> usize {
        self.max
    }

    /// Appends bytes read from the stream.
    pub fn push(&mut self, bytes: &[u8]) {
        self.compact();
        self.buf.extend_from_slice(bytes);
    }

    /// [`push`](Self::push), or an error (nothing appended) when the allocator cannot
    /// grow the buffer: the caller closes the connection instead of the process aborting.
    pub fn try_push(&mut self, bytes: &[u8]) -> Result<(), std::collections::TryReserveError> {
        self.compact();
        self.buf.try_reserve(bytes.len())?;
        self.buf.extend_from_slice(bytes);
        Ok(())
    }

    /// The bytes the buffer holds allocated (for memory accounting).
    pub fn capacity(&self) -> usize {
        self.buf.capacity()
    }

    /// Bytes received but not yet returned as frames.
    pub fn buffered(&self) -> usize {
        self.buf.len() - self.consumed
    }

    /// The first 4 unconsumed bytes, if present (a new connection's four-letter word is
    /// recognised from them before they are taken for a length).
    pub fn peek4(&self) -> Option<[u8; 4]> {
        let rest = &self.buf[self.consumed..];
        if rest.len() < 4 {
            return None;
        }
        Some([rest[0], rest[1], rest[2], rest[3]])
    }

    /// The next complete frame's payload, `Ok(None)` if more bytes are needed, or an
    /// error as soon as a bad length prefix is seen.
    pub fn next_frame(&mut self) -> Result<Option<&[u8]>, FrameError> {
        let Some(prefix) = self.peek4() else {
            return Ok(None);
        };
        let len = i32::from_be_bytes(prefix);
        if len < 0 {
            return Err(FrameError::NegativeLength(len));
        }
        let len = len as usize;
        if len > self.max {
            return Err(FrameError::TooLarge { len, max: self.max });
        }
        let start = self.consumed + 4;
        if self.buf.len() - start < len {
            return Ok(None);
        }
        self.consumed = start + len;
        debug_assert!(self.consumed <= self.buf.len());
        Ok(Some(&self.buf[start..start + len]))
    }

    /// Drops consumed bytes from the front of the buffer.
    fn compact(&mut self) {
        if self.consumed == 0 {
            return;
        }
        if self.consumed == self.buf.len() {
            self.buf.clear();
            // Room grown for one large frame is given back once it is consumed.
            self.buf.shrink_to(KEEP_CAPACITY);
        } else {
            self.buf.drain(..self.consumed);
        }
        self.consumed = 0;
    }
}

/// Appends one frame to `out`: a length placeholder, the payload written by `body`, then
/// the length patched in.
pub fn write_frame(out: &mut Vec<u8>, body: impl FnOnce(&mut Writer<'_>)) {
    let at = out.len();
    out.extend_from_slice(&[0; 4]);
    body(&mut Writer::new(out));
    let len = out.len() - at - 4;
    debug_assert!(
        i32::try_from(len).is_ok(),
        "a {len}-byte payload does not fit the i32 length prefix"
    );
    out[at..at + 4].copy_from_slice(&(len as u32).to_be_bytes());
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn frames_split_across_pushes_are_reassembled() {
        let mut d = FrameDecoder::new(100);
        let mut out = Vec::new();
        write_frame(&mut out, |w| w.int(7));
        write_frame(&mut out, |w| w.long(9));
        for b in &out[..5] {
            d.push(&[*b]);
        }
        assert_eq!(d.next_frame().unwrap(), None);
        d.push(&out[5..]);
        assert_eq!(d.next_frame().unwrap(), Some(&7i32.to_be_bytes()[..]));
        assert_eq!(d.next_frame().unwrap(), Some(&9i64.to_be_bytes()[..]));
        assert_eq!(d.next_frame().unwrap(), None);
        assert_eq!(d.buffered(), 0);
    }

    #[test]
    fn negative_length_is_refused() {
        let mut d = FrameDecoder::new(100);
        d.push(&(-5i32).to_be_bytes());
        assert_eq!(d.next_frame(), Err(FrameError::NegativeLength(-5)));
    }

    #[test]
    fn oversized_length_is_refused_before_the_payload_arrives() {
        let mut d = FrameDecoder::new(100);
        d.push(&101i32.to_be_bytes());
        assert_eq!(
            d.next_frame(),
            Err(FrameError::TooLarge { len: 101, max: 100 })
        );
    }

    #[test]
    fn a_frame_of_exactly_the_limit_is_accepted() {
        let mut d = FrameDecoder::new(3);
        d.push(&[0, 0, 0, 3, 1, 2, 3]);
        assert_eq!(d.next_frame().unwrap(), Some(&[1u8, 2, 3][..]));
    }

    #[test]
    fn empty_frames_are_frames() {
        let mut d = FrameDecoder::default();
        d.push(&[0, 0, 0, 0]);
        assert_eq!(d.next_frame().unwrap(), Some(&[][..]));
    }

    #[test]
    fn peek4_sees_a_four_letter_word() {
        let mut d = FrameDecoder::default();
        d.push(b"ruo");
        assert_eq!(d.peek4(), None);
        d.push(b"k");
        assert_eq!(d.peek4(), Some(*b"ruok"));
    }
}
