//! The simulator at work: an inspect-style packet path through the raw
//! DDIs, drawn at each step, then a misuse the verifier reports.
//!
//! `cargo run -p ndis-sim --example walkthrough`
#![allow(
    clippy::undocumented_unsafe_blocks,
    clippy::multiple_unsafe_ops_per_block,
    missing_docs,
    reason = "an example of raw DDIs on the simulator"
)]

use fwps_sys::*;
use ndis_sys::*;

fn step(title: &str, nbl: *mut NET_BUFFER_LIST) {
    println!("-- {title}");
    print!("{}", unsafe { ndis_sim::draw(nbl) });
}

unsafe extern "system" fn injected(_ctx: *mut core::ffi::c_void, clone: *mut NET_BUFFER_LIST, _: BOOLEAN) {
    unsafe {
        println!("-- completion: status {:#x}", *NET_BUFFER_LIST_STATUS(clone));
        // Undo the modification (the header MDL the retreat added), then free.
        NdisAdvanceNetBufferDataStart(*NET_BUFFER_LIST_FIRST_NB(clone), 8, 1, None);
        step("clone restored, about to be freed", clone);
        FwpsFreeCloneNetBufferList0(clone, 0);
    }
}

fn main() {
    let session = ndis_sim::Session::new();
    // An IPv4 + UDP packet as the stack indicates it at the transport layer:
    // the 20-byte IP header is before the data start.
    let mut packet = vec![0x45, 0, 0, 36, 0, 0, 0, 0, 64, 17, 0, 0, 10, 0, 0, 1, 10, 0, 0, 2];
    packet.extend_from_slice(&[0x30, 0x39, 0, 53, 0, 16, 0, 0, b'p', b'i', b'n', b'g', b'!', b'!', b'!', b'!']);
    let indicated = ndis_sim::StackNbl::indicate(&packet, 20);
    let nbl = indicated.as_ptr();
    let mut handle = core::ptr::null_mut();
    unsafe {
        FwpsInjectionHandleCreate0(AF_INET, FWPS_INJECTION_TYPE_TRANSPORT, &mut handle);
        step("classify is given the packet", nbl);

        FwpsReferenceNetBufferList0(nbl, 1);
        NdisRetreatNetBufferDataStart(*NET_BUFFER_LIST_FIRST_NB(nbl), 20, 0, None);
        step("referenced, retreated over the IP header", nbl);

        let mut clone = core::ptr::null_mut();
        FwpsAllocateCloneNetBufferList0(nbl, core::ptr::null_mut(), core::ptr::null_mut(), 0, &mut clone);
        NdisAdvanceNetBufferDataStart(*NET_BUFFER_LIST_FIRST_NB(nbl), 20, 0, None);
        step("cloned; the original advanced back", nbl);

        // Modify the clone: 8 more bytes in front, past the start of the
        // packet's buffer, so NDIS chains a new MDL.
        NdisRetreatNetBufferDataStart(*NET_BUFFER_LIST_FIRST_NB(clone), 8, 0, None);
        step("the clone, modified", clone);

        FwpsInjectTransportSendAsync0(
            handle,
            core::ptr::null_mut(),
            0,
            0,
            core::ptr::null_mut(),
            AF_INET,
            DEFAULT_COMPARTMENT_ID,
            clone,
            Some(injected),
            core::ptr::null_mut(),
        );
        step("injected: the stack owns the clone", clone);
        indicated.complete();
        println!("-- classify returned; {} injection pending", ndis_sim::pending_injections());
        ndis_sim::complete_all(STATUS_SUCCESS);
        FwpsDereferenceNetBufferList0(nbl, 0);
        FwpsInjectionHandleDestroy0(handle);
    }
    println!("-- leaks: {}", session.leaks());
    drop(session);

    // The same path with the classic bug: the clone freed while modified.
    let session = ndis_sim::Session::collecting();
    let indicated = ndis_sim::StackNbl::indicate(&packet, 20);
    unsafe {
        let mut clone = core::ptr::null_mut();
        FwpsAllocateCloneNetBufferList0(
            indicated.as_ptr(),
            core::ptr::null_mut(),
            core::ptr::null_mut(),
            0,
            &mut clone,
        );
        NdisRetreatNetBufferDataStart(*NET_BUFFER_LIST_FIRST_NB(clone), 28, 0, None);
        FwpsFreeCloneNetBufferList0(clone, 0);
        for report in session.reports() {
            println!("-- the verifier: {report}");
        }
        NdisAdvanceNetBufferDataStart(*NET_BUFFER_LIST_FIRST_NB(clone), 28, 1, None);
        FwpsFreeCloneNetBufferList0(clone, 0);
    }
    indicated.complete();
    println!("-- reports after the fix: {}, leaks: {}", session.reports().len(), session.leaks());
}
