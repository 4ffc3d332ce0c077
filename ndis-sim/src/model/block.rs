//! Memory the simulator hands out: raw pointers the registry may keep
//! across threads, and blocks with the layout to free them with.

use std::alloc::Layout;

/// A raw pointer the registry may keep across threads: the registry is only
/// touched under its mutex, and what the pointer names is an object this
/// simulator allocated.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct Raw(pub *mut u8);
// SAFETY: see the type's documentation; the pointee is only accessed while
// the state mutex is held, or by the caller that owns the object.
unsafe impl Send for Raw {}

/// Memory the simulator allocated, with the layout to free it with.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Block {
    pub ptr: Raw,
    pub layout: Layout,
}

impl Block {
    /// Zeroed memory for `layout` (size > 0).
    pub fn zeroed(layout: Layout) -> Option<Block> {
        // SAFETY: every layout used here has a non-zero size.
        let ptr = unsafe { std::alloc::alloc_zeroed(layout) };
        (!ptr.is_null()).then_some(Block { ptr: Raw(ptr), layout })
    }

    /// Zeroed memory for one `T`.
    pub fn of<T>() -> Option<Block> {
        Block::zeroed(Layout::new::<T>())
    }

    /// The block as a `T` record.
    pub fn cast<T>(self) -> *mut T {
        self.ptr.0.cast()
    }

    /// Returns the memory to the allocator.
    ///
    /// # Safety
    ///
    /// The block came from [`Block::zeroed`] and is freed once.
    pub unsafe fn free(self) {
        // SAFETY: the caller guarantees the block is live and was allocated
        // with this layout.
        unsafe { std::alloc::dealloc(self.ptr.0, self.layout) }
    }
}
