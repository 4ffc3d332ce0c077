//! Errors: NTSTATUS and NDIS_STATUS values as typed errors.

use core::fmt;

/// An `NDIS_STATUS` or `NTSTATUS` value that is not success (they share one
/// value space: `NDIS_STATUS_RESOURCES` is `STATUS_INSUFFICIENT_RESOURCES`).
///
/// ```
/// use ndis_safe::Status;
/// assert_eq!(Status::result(0), Ok(()));
/// assert_eq!(Status::result(ndis_sys::NDIS_STATUS_RESOURCES), Err(Status::RESOURCES));
/// assert_eq!(format!("{:?}", Status::RESOURCES), "Status::RESOURCES(0xc000009a)");
/// ```
#[derive(Clone, Copy, PartialEq, Eq, Hash)]
#[repr(transparent)]
pub struct Status(pub i32);

impl Status {
    /// `STATUS_INSUFFICIENT_RESOURCES` / `NDIS_STATUS_RESOURCES`.
    pub const RESOURCES: Status = Status(ndis_sys::NDIS_STATUS_RESOURCES);
    /// `STATUS_INVALID_PARAMETER` / `NDIS_STATUS_INVALID_PARAMETER`.
    pub const INVALID_PARAMETER: Status = Status(ndis_sys::NDIS_STATUS_INVALID_PARAMETER);
    /// `NDIS_STATUS_FAILURE` / `STATUS_UNSUCCESSFUL`.
    pub const FAILURE: Status = Status(ndis_sys::NDIS_STATUS_FAILURE);

    /// `Ok(())` for success (and informational) values, else the error.
    #[inline]
    pub fn result(raw: i32) -> Result<(), Status> {
        if ndis_sys::NT_SUCCESS(raw) { Ok(()) } else { Err(Status(raw)) }
    }

    /// The raw value.
    #[inline]
    pub fn raw(self) -> i32 {
        self.0
    }
}

impl fmt::Debug for Status {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let name = match self.0 {
            ndis_sys::NDIS_STATUS_RESOURCES => "RESOURCES",
            ndis_sys::NDIS_STATUS_INVALID_PARAMETER => "INVALID_PARAMETER",
            ndis_sys::NDIS_STATUS_FAILURE => "FAILURE",
            ndis_sys::NDIS_STATUS_INVALID_LENGTH => "INVALID_LENGTH",
            ndis_sys::NDIS_STATUS_BUFFER_TOO_SHORT => "BUFFER_TOO_SHORT",
            ndis_sys::NDIS_STATUS_NOT_SUPPORTED => "NOT_SUPPORTED",
            _ => return write!(f, "Status({:#010x})", self.0 as u32),
        };
        write!(f, "Status::{name}({:#010x})", self.0 as u32)
    }
}

impl fmt::Display for Status {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt::Debug::fmt(self, f)
    }
}

/// What can go wrong, without panicking and without allocating.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub enum Error {
    /// A DDI returned this status.
    Status(Status),
    /// An allocation DDI returned NULL (out of resources).
    NoResources,
    /// A data range that does not lie inside the data (or MDL chain).
    OutOfRange,
    /// An argument the DDI would reject (an empty buffer for an MDL, a
    /// length that does not fit a `ULONG`, …).
    InvalidArgument,
    /// A clone records at most [`MAX_CHANGES`](crate::clone::MAX_CHANGES)
    /// changes; undo some first.
    TooManyChanges,
    /// An undo record applied out of order: changes are undone last first.
    UndoOutOfOrder,
}

impl From<Status> for Error {
    fn from(s: Status) -> Self {
        Error::Status(s)
    }
}

impl fmt::Display for Error {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Error::Status(s) => write!(f, "the DDI failed with {s}"),
            Error::NoResources => f.write_str("out of resources: the allocation DDI returned NULL"),
            Error::OutOfRange => f.write_str("the range does not lie inside the data"),
            Error::InvalidArgument => f.write_str("an argument the DDI would reject"),
            Error::TooManyChanges => f.write_str("too many changes recorded on a clone; undo some first"),
            Error::UndoOutOfOrder => f.write_str("changes are undone last first"),
        }
    }
}

impl core::error::Error for Error {}

/// `Result` with this crate's [`Error`].
pub type Result<T, E = Error> = core::result::Result<T, E>;
