//! stub
use super::ops::{Incoming, Outgoing};
use crate::wire::OpCode;
#[derive(Debug)]
pub struct CodecError;
pub fn encode_frame(_f: &Outgoing) -> Vec<u8> {
    todo!()
}
pub fn decode_frame(
    _p: &[u8],
    _h: bool,
    _e: &dyn Fn(i32) -> Option<OpCode>,
) -> Result<Incoming, CodecError> {
    todo!()
}
