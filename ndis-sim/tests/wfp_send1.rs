//! `FwpsInjectTransportSendAsync1`: the send parameters the stack reads
//! until the completion — changed before it (the probe) and kept (the twin).
#![allow(
    clippy::undocumented_unsafe_blocks,
    clippy::multiple_unsafe_ops_per_block,
    missing_docs,
    reason = "tests of raw DDIs"
)]

mod common;
use common::*;

use ndis_sim::{Rule, Session};

unsafe extern "system" fn done(_: *mut core::ffi::c_void, _: *mut NET_BUFFER_LIST, _: BOOLEAN) {}

/// Injects a packet with `remote` and `control` as its send parameters;
/// `meddle` runs between the injection and its completion, writing through
/// the very pointers the parameters hold (as a driver's stale alias would).
fn send1(meddle: impl FnOnce(*mut u8, *mut u8)) {
    let buf = Buffer::new(&[0x45; 48]);
    let pool = nbl_pool(true, 0, 0);
    let mut remote = Box::new([192u8, 0, 2, 1]);
    let mut control = vec![16u8, 0, 0, 0, 0, 0, 0, 0, 1, 0, 0, 0, 2, 0, 0, 0];
    unsafe {
        let mut h: HANDLE = core::ptr::null_mut();
        assert_eq!(FwpsInjectionHandleCreate0(AF_INET, FWPS_INJECTION_TYPE_TRANSPORT, &mut h), 0);
        let mut nbl = core::ptr::null_mut();
        assert_eq!(FwpsAllocateNetBufferAndNetBufferList0(pool, 0, 0, buf.mdl, 0, 48, &mut nbl), 0);
        let mut params: FWPS_TRANSPORT_SEND_PARAMS1 = core::mem::zeroed();
        let (remote_ptr, control_ptr) = (remote.as_mut_ptr(), control.as_mut_ptr());
        params.remoteAddress = remote_ptr;
        params.controlData = control_ptr.cast();
        params.controlDataLength = control.len() as u32;
        let status = FwpsInjectTransportSendAsync1(
            h,
            core::ptr::null_mut(),
            0,
            0,
            &mut params,
            AF_INET,
            DEFAULT_COMPARTMENT_ID,
            nbl,
            Some(done),
            core::ptr::null_mut(),
        );
        assert_eq!(status, 0);
        meddle(remote_ptr, control_ptr);
        assert_eq!(ndis_sim::complete_all(0), 1);
        FwpsFreeNetBufferList0(nbl);
        FwpsInjectionHandleDestroy0(h);
        NdisFreeNetBufferListPool(pool);
    }
    drop(buf);
}

#[test]
fn send_parameters_changed_before_completion_are_reported() {
    let s = Session::collecting();
    send1(|remote, _| unsafe { remote.add(3).write(99) });
    send1(|_, control| unsafe { control.add(12).write(7) });
    assert_eq!(s.rules(), vec![Rule::SendParamsChangedBeforeCompletion; 2]);
}

#[test]
fn send_parameters_kept_until_completion_are_clean() {
    let s = Session::collecting();
    send1(|_, _| {});
    assert!(s.reports().is_empty());
    assert!(s.leaks().is_empty(), "{}", s.leaks());
}
