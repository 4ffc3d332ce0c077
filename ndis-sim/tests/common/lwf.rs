//! A raw filter driver for the filter stack's tests: the attach, detach
//! and restart handlers every raw filter of those tests has, its
//! characteristics, and a rig that registers it and runs a stack of its
//! modules.

use ndis_sim::lwf::Stack;
use ndis_sys::*;

/// Sets the module's attributes, with its handle as its context.
pub unsafe extern "system" fn attach(h: NDIS_HANDLE, _: NDIS_HANDLE, _: PNDIS_FILTER_ATTACH_PARAMETERS) -> NDIS_STATUS {
    let mut attrs = NDIS_FILTER_ATTRIBUTES {
        Header: NDIS_OBJECT_HEADER {
            Type: NDIS_OBJECT_TYPE_FILTER_ATTRIBUTES,
            Revision: NDIS_FILTER_ATTRIBUTES_REVISION_1 as u8,
            Size: NDIS_SIZEOF_FILTER_ATTRIBUTES_REVISION_1,
        },
        Flags: 0,
    };
    // SAFETY: the module's handle; the handle itself as its context.
    unsafe { NdisFSetAttributes(h, h, &mut attrs) }
}
pub unsafe extern "system" fn detach(_: NDIS_HANDLE) {}
pub unsafe extern "system" fn restart(_: NDIS_HANDLE, _: PNDIS_FILTER_RESTART_PARAMETERS) -> NDIS_STATUS {
    NDIS_STATUS_SUCCESS
}

/// NDIS 6.30 characteristics with [`attach`], [`detach`], [`restart`] and
/// `pause`; the caller adds the rest.
pub fn characteristics(pause: FILTER_PAUSE_HANDLER) -> NDIS_FILTER_DRIVER_CHARACTERISTICS {
    // SAFETY: all-zero is a valid value of this C record (no handlers, empty names).
    let mut c: NDIS_FILTER_DRIVER_CHARACTERISTICS = unsafe { core::mem::zeroed() };
    c.Header = NDIS_OBJECT_HEADER {
        Type: NDIS_OBJECT_TYPE_FILTER_DRIVER_CHARACTERISTICS,
        Revision: NDIS_FILTER_CHARACTERISTICS_REVISION_2 as u8,
        Size: NDIS_SIZEOF_FILTER_DRIVER_CHARACTERISTICS_REVISION_2,
    };
    c.MajorNdisVersion = 6;
    c.MinorNdisVersion = 30;
    c.AttachHandler = Some(attach);
    c.DetachHandler = Some(detach);
    c.RestartHandler = Some(restart);
    c.PauseHandler = pause;
    c
}

/// A registered raw filter and a running stack of `n` of its modules.
pub struct Rig {
    driver: NDIS_HANDLE,
    stack: Option<Stack>,
}

impl Rig {
    /// Registers a filter with `c` and attaches and restarts `n` modules.
    pub fn new(mut c: NDIS_FILTER_DRIVER_CHARACTERISTICS, n: usize) -> Rig {
        let mut driver = core::ptr::null_mut();
        // SAFETY: valid characteristics and out pointer.
        let status =
            unsafe { NdisFRegisterFilterDriver(core::ptr::null_mut(), core::ptr::null_mut(), &mut c, &mut driver) };
        assert_eq!(status, NDIS_STATUS_SUCCESS);
        let stack = Stack::new(&vec![driver; n]);
        stack.attach().unwrap();
        assert!(stack.restart());
        Rig { driver, stack: Some(stack) }
    }

    pub fn stack(&self) -> &Stack {
        self.stack.as_ref().unwrap()
    }

    /// Module `i`'s handle (0: the top one).
    pub fn m(&self, i: usize) -> NDIS_HANDLE {
        self.stack().module(i)
    }

    /// Drops the stack as it is (its watchdogs report what it still
    /// waits for); the driver stays registered until [`Rig::end`].
    pub fn drop_stack(&mut self) {
        drop(self.stack.take());
    }

    /// Pauses (sync), detaches, deregisters.
    pub fn end(mut self) {
        if let Some(s) = self.stack.take() {
            s.pause();
            s.detach();
        }
        // SAFETY: registered above.
        unsafe { NdisFDeregisterFilterDriver(self.driver) };
    }
}
