//! Jute primitives: the big-endian reader and writer every record is built from.
//!
//! Owns: [`Reader`], [`Writer`], [`DecodeError`], the [`Record`] trait and the default
//! length limit [`DEFAULT_MAX_BUFFER`] (`jute.maxbuffer`).
//!
//! Invariants: a length prefix is checked (negative, over the configured maximum, over
//! the bytes that remain) *before* anything is allocated for it, so decoding a frame never
//! allocates more than the frame's own size; a `-1` length is null.
//!
//! Must never: do I/O or panic on any input.

use std::fmt;

/// ZooKeeper's default `jute.maxbuffer`: the largest frame, buffer or string (1 MiB - 1).
pub const DEFAULT_MAX_BUFFER: usize = 0xfffff;

/// Why bytes could not be decoded.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum DecodeError {
    /// The input ended inside a field.
    UnexpectedEof {
        /// Bytes the field needed.
        needed: usize,
        /// Bytes that were left.
        remaining: usize,
    },
    /// A length or count below −1.
    NegativeLength(i32),
    /// A length or count above the configured maximum.
    LengthTooLarge {
        /// The length read.
        len: usize,
        /// The configured maximum.
        max: usize,
    },
    /// A request carried an opcode this codec does not know.
    UnknownOpCode(i32),
    /// A multi carried an operation type that is not allowed inside a multi.
    BadMultiOp(i32),
    /// An enumerated field (event type, keeper state) had an unknown value.
    BadEnumValue(i32),
    /// Bytes were left over after a record that must fill its frame.
    TrailingBytes(usize),
    /// The allocator could not provide room for a buffer of this many bytes.
    OutOfMemory(usize),
}

impl DecodeError {
    /// ZooKeeper's error code for a request that fails to decode (`MARSHALLINGERROR`),
    /// except unknown opcodes, which are `UNIMPLEMENTED`, and a buffer the allocator
    /// refused, which is `QUOTAEXCEEDED` (the server's memory is full).
    pub const fn error_code(self) -> super::ErrorCode {
        match self {
            DecodeError::UnknownOpCode(_) => super::ErrorCode::Unimplemented,
            DecodeError::OutOfMemory(_) => super::ErrorCode::QuotaExceeded,
            _ => super::ErrorCode::MarshallingError,
        }
    }
}

impl fmt::Display for DecodeError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            DecodeError::UnexpectedEof { needed, remaining } => {
                write!(f, "input ended: needed {needed} bytes, {remaining} left")
            }
            DecodeError::NegativeLength(n) => write!(f, "negative length {n}"),
            DecodeError::LengthTooLarge { len, max } => {
                write!(f, "length {len} exceeds the maximum {max}")
            }
            DecodeError::UnknownOpCode(op) => write!(f, "unknown opcode {op}"),
            DecodeError::BadMultiOp(op) => write!(f, "opcode {op} is not allowed in a multi"),
            DecodeError::BadEnumValue(v) => write!(f, "unknown enumerated value {v}"),
            DecodeError::TrailingBytes(n) => write!(f, "{n} trailing bytes"),
            DecodeError::OutOfMemory(n) => write!(f, "no memory for a buffer of {n} bytes"),
        }
    }
}

impl std::error::Error for DecodeError {}

/// A jute record: a fixed sequence of fields, no tags, no padding.
pub trait Record: Sized {
    /// Appends the record's bytes.
    fn write(&self, w: &mut Writer<'_>);
    /// Reads one record.
    fn read(r: &mut Reader<'_>) -> Result<Self, DecodeError>;

    /// The record's bytes as a new vector.
    fn to_bytes(&self) -> Vec<u8> {
        let mut out = Vec::new();
        self.write(&mut Writer::new(&mut out));
        out
    }

    /// Decodes a record that must span all of `bytes` (default limits).
    fn from_bytes(bytes: &[u8]) -> Result<Self, DecodeError> {
        let mut r = Reader::new(bytes);
        let v = Self::read(&mut r)?;
        r.finish()?;
        Ok(v)
    }
}

/// Reads jute primitives from a byte slice.
#[derive(Debug, Clone)]
pub struct Reader<'a> {
    buf: &'a [u8],
    pos: usize,
    max_len: usize,
}

impl<'a> Reader<'a> {
    /// A reader with the default limit ([`DEFAULT_MAX_BUFFER`]).
    pub fn new(buf: &'a [u8]) -> Self {
        Reader::with_max(buf, DEFAULT_MAX_BUFFER)
    }

    /// A reader whose buffers, strings and vectors may not exceed `max_len`.
    pub fn with_max(buf: &'a [u8], max_len: usize) -> Self {
        Reader {
            buf,
            pos: 0,
            max_len,
        }
    }

    /// The configured length limit.
    pub fn max_len(&self) -> usize {
        self.max_len
    }

    /// Bytes not yet read.
    pub fn remaining(&self) -> usize {
        self.buf.len() - self.pos
    }

    /// Fails with [`DecodeError::TrailingBytes`] unless everything was read.
    pub fn finish(&self) -> Result<(), DecodeError> {
        match self.remaining() {
            0 => Ok(()),
            n => Err(DecodeError::TrailingBytes(n)),
        }
    }

    fn take(&mut self, n: usize) -> Result<&'a [u8], DecodeError> {
        let remaining = self.remaining();
        if n > remaining {
            return Err(DecodeError::UnexpectedEof {
                needed: n,
                remaining,
            });
        }
        let s = &self.buf[self.pos..self.pos + n];
        self.pos += n;
        Ok(s)
    }

    fn array<const N: usize>(&mut self) -> Result<[u8; N], DecodeError> {
        let mut a = [0u8; N];
        a.copy_from_slice(self.take(N)?);
        Ok(a)
    }

    /// A jute `int`.
    pub fn int(&mut self) -> Result<i32, DecodeError> {
        Ok(i32::from_be_bytes(self.array()?))
    }

    /// A jute `long`.
    pub fn long(&mut self) -> Result<i64, DecodeError> {
        Ok(i64::from_be_bytes(self.array()?))
    }

    /// A jute `boolean`: any nonzero byte is true.
    pub fn boolean(&mut self) -> Result<bool, DecodeError> {
        Ok(self.array::<1>()?[0] != 0)
    }

    /// A length prefix: `None` for null (−1), otherwise checked against the limit and
    /// against the bytes that remain (each element needs at least `min_elem` bytes).
    fn length(&mut self, min_elem: usize) -> Result<Option<usize>, DecodeError> {
        let n = self.int()?;
        if n == -1 {
            return Ok(None);
        }
        if n < 0 {
            return Err(DecodeError::NegativeLength(n));
        }
        let len = n as usize;
        if len > self.max_len {
            return Err(DecodeError::LengthTooLarge {
                len,
                max: self.max_len,
            });
        }
        let remaining = self.remaining();
        let needed = len.saturating_mul(min_elem);
        if needed > remaining {
            return Err(DecodeError::UnexpectedEof { needed, remaining });
        }
        Ok(Some(len))
    }

    /// A jute `buffer`; null (−1) is `None`.
    pub fn buffer_opt(&mut self) -> Result<Option<Vec<u8>>, DecodeError> {
        match self.length(1)? {
            None => Ok(None),
            Some(n) => {
                let bytes = self.take(n)?;
                // A buffer can be as large as jute.maxbuffer: its allocation may fail
                // without taking the process down.
                let mut v = Vec::new();
                v.try_reserve_exact(n)
                    .map_err(|_| DecodeError::OutOfMemory(n))?;
                v.extend_from_slice(bytes);
                Ok(Some(v))
            }
        }
    }

    /// A jute `buffer`; null reads as empty.
    pub fn buffer(&mut self) -> Result<Vec<u8>, DecodeError> {
        Ok(self.buffer_opt()?.unwrap_or_default())
    }

    /// A jute `ustring`; null (−1) is `None`. Invalid UTF-8 is replaced (U+FFFD), as
    /// Java's decoder does.
    pub fn ustring_opt(&mut self) -> Result<Option<String>, DecodeError> {
        match self.length(1)? {
            None => Ok(None),
            Some(n) => {
                let bytes = self.take(n)?;
                Ok(Some(match std::str::from_utf8(bytes) {
                    Ok(s) => s.to_owned(),
                    Err(_) => String::from_utf8_lossy(bytes).into_owned(),
                }))
            }
        }
    }

    /// A jute `ustring`; null reads as empty.
    pub fn ustring(&mut self) -> Result<String, DecodeError> {
        Ok(self.ustring_opt()?.unwrap_or_default())
    }

    /// A jute `vector<T>`; null reads as empty. `min_elem` is the smallest encoding of
    /// one element, used to refuse counts the remaining bytes cannot hold.
    pub fn vector<T>(
        &mut self,
        min_elem: usize,
        mut elem: impl FnMut(&mut Self) -> Result<T, DecodeError>,
    ) -> Result<Vec<T>, DecodeError> {
        let n = self.length(min_elem.max(1))?.unwrap_or(0);
        let mut v = Vec::with_capacity(n);
        for _ in 0..n {
            v.push(elem(self)?);
        }
        Ok(v)
    }

    /// A `vector<ustring>`; null reads as empty.
    pub fn strings(&mut self) -> Result<Vec<String>, DecodeError> {
        self.vector(4, |r| r.ustring())
    }

    /// A nested record.
    pub fn record<T: Record>(&mut self) -> Result<T, DecodeError> {
        T::read(self)
    }
}

/// Appends jute primitives to a byte vector.
#[derive(Debug)]
pub struct Writer<'a> {
    out: &'a mut Vec<u8>,
}

impl<'a> Writer<'a> {
    /// A writer appending to `out`.
    pub fn new(out: &'a mut Vec<u8>) -> Self {
        Writer { out }
    }

    /// Bytes in the underlying vector.
    pub fn len(&self) -> usize {
        self.out.len()
    }

    /// Whether the underlying vector is empty.
    pub fn is_empty(&self) -> bool {
        self.out.is_empty()
    }

    /// A jute `int`.
    pub fn int(&mut self, v: i32) {
        self.out.extend_from_slice(&v.to_be_bytes());
    }

    /// A jute `long`.
    pub fn long(&mut self, v: i64) {
        self.out.extend_from_slice(&v.to_be_bytes());
    }

    /// A jute `boolean` (0 or 1).
    pub fn boolean(&mut self, v: bool) {
        self.out.push(v as u8);
    }

    fn len_prefix(&mut self, n: usize) {
        self.int(i32::try_from(n).unwrap_or(i32::MAX));
    }

    /// A jute `buffer`.
    pub fn buffer(&mut self, v: &[u8]) {
        self.len_prefix(v.len());
        self.out.extend_from_slice(v);
    }

    /// A jute `buffer` that may be null.
    pub fn buffer_opt(&mut self, v: Option<&[u8]>) {
        match v {
            Some(b) => self.buffer(b),
            None => self.int(-1),
        }
    }

    /// A jute `ustring`.
    pub fn ustring(&mut self, v: &str) {
        self.buffer(v.as_bytes());
    }

    /// A jute `ustring` that may be null.
    pub fn ustring_opt(&mut self, v: Option<&str>) {
        self.buffer_opt(v.map(str::as_bytes));
    }

    /// A jute `vector<T>`.
    pub fn vector<T>(&mut self, items: &[T], mut elem: impl FnMut(&mut Self, &T)) {
        self.len_prefix(items.len());
        for it in items {
            elem(self, it);
        }
    }

    /// A `vector<ustring>`.
    pub fn strings<S: AsRef<str>>(&mut self, items: &[S]) {
        self.vector(items, |w, s| w.ustring(s.as_ref()));
    }

    /// A nested record.
    pub fn record<T: Record>(&mut self, v: &T) {
        v.write(self);
    }

    /// Raw bytes, unprefixed.
    pub fn raw(&mut self, bytes: &[u8]) {
        self.out.extend_from_slice(bytes);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn null_and_empty_strings_differ_on_the_wire() {
        let mut out = Vec::new();
        let mut w = Writer::new(&mut out);
        w.ustring_opt(None);
        w.ustring("");
        w.buffer_opt(None);
        assert_eq!(out, hex("ffffffff 00000000 ffffffff"));
        let mut r = Reader::new(&out);
        assert_eq!(r.ustring_opt().unwrap(), None);
        assert_eq!(r.ustring_opt().unwrap(), Some(String::new()));
        assert_eq!(r.buffer().unwrap(), Vec::<u8>::new());
        r.finish().unwrap();
    }

    #[test]
    fn any_nonzero_byte_reads_as_true() {
        assert!(Reader::new(&[7]).boolean().unwrap());
        assert!(!Reader::new(&[0]).boolean().unwrap());
    }

    #[test]
    fn lengths_below_minus_one_are_refused() {
        let b = (-2i32).to_be_bytes();
        assert_eq!(
            Reader::new(&b).buffer(),
            Err(DecodeError::NegativeLength(-2))
        );
    }

    #[test]
    fn lengths_above_the_limit_are_refused_before_reading() {
        let b = 100i32.to_be_bytes();
        assert_eq!(
            Reader::with_max(&b, 99).ustring(),
            Err(DecodeError::LengthTooLarge { len: 100, max: 99 })
        );
    }

    #[test]
    fn lengths_past_the_input_are_refused() {
        let mut b = 5i32.to_be_bytes().to_vec();
        b.extend_from_slice(b"abc");
        assert_eq!(
            Reader::new(&b).buffer(),
            Err(DecodeError::UnexpectedEof {
                needed: 5,
                remaining: 3
            })
        );
    }

    #[test]
    fn vector_counts_the_input_cannot_hold_are_refused() {
        let b = 1000i32.to_be_bytes();
        assert!(matches!(
            Reader::new(&b).strings(),
            Err(DecodeError::UnexpectedEof { .. })
        ));
    }

    #[test]
    fn invalid_utf8_is_replaced_not_refused() {
        let mut b = 2i32.to_be_bytes().to_vec();
        b.extend_from_slice(&[0xff, b'a']);
        assert_eq!(Reader::new(&b).ustring().unwrap(), "\u{fffd}a");
    }

    #[test]
    fn truncated_primitives_report_eof() {
        assert!(matches!(
            Reader::new(&[0, 0, 0]).int(),
            Err(DecodeError::UnexpectedEof {
                needed: 4,
                remaining: 3
            })
        ));
        assert!(Reader::new(&[0; 7]).long().is_err());
        assert!(Reader::new(&[]).boolean().is_err());
    }

    pub(crate) fn hex(s: &str) -> Vec<u8> {
        let s: String = s.chars().filter(|c| !c.is_whitespace()).collect();
        (0..s.len())
            .step_by(2)
            .map(|i| u8::from_str_radix(&s[i..i + 2], 16).unwrap())
            .collect()
    }
}
