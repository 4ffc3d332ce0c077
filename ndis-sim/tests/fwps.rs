//! The WFP DDIs' documented behaviour, through the raw -sys functions:
//! allocation, clones, references, injection and its completions.
#![allow(
    clippy::undocumented_unsafe_blocks,
    clippy::multiple_unsafe_ops_per_block,
    missing_docs,
    reason = "tests of raw DDIs"
)]

mod common;
use common::*;
use ndis_sim::{InjectionMode, Session, StackNbl};
use std::sync::Mutex;

/// What completions saw: (context, NBL, status).
static COMPLETED: Mutex<Vec<(usize, usize, NDIS_STATUS)>> = Mutex::new(Vec::new());

/// A completion that records what it got and frees the clone it was given.
unsafe extern "system" fn free_clone_on_completion(ctx: *mut core::ffi::c_void, nbl: *mut NET_BUFFER_LIST, _: BOOLEAN) {
    let status = unsafe { *NET_BUFFER_LIST_STATUS(nbl) };
    COMPLETED.lock().unwrap().push((ctx as usize, nbl as usize, status));
    unsafe { FwpsFreeCloneNetBufferList0(nbl, 0) };
}

/// A completion that frees an NBL FwpsAllocateNetBufferAndNetBufferList0 made.
unsafe extern "system" fn free_nbl_on_completion(ctx: *mut core::ffi::c_void, nbl: *mut NET_BUFFER_LIST, _: BOOLEAN) {
    let status = unsafe { *NET_BUFFER_LIST_STATUS(nbl) };
    COMPLETED.lock().unwrap().push((ctx as usize, nbl as usize, status));
    unsafe { FwpsFreeNetBufferList0(nbl) };
}

fn completed() -> Vec<(usize, usize, NDIS_STATUS)> {
    std::mem::take(&mut *COMPLETED.lock().unwrap())
}

fn handle() -> HANDLE {
    let mut h = core::ptr::null_mut();
    assert_eq!(unsafe { FwpsInjectionHandleCreate0(AF_INET, FWPS_INJECTION_TYPE_TRANSPORT, &mut h) }, STATUS_SUCCESS);
    h
}

const PACKET: [u8; 48] = {
    let mut p = [0u8; 48];
    p[0] = 0x45;
    let mut i = 20;
    while i < 48 {
        p[i] = i as u8;
        i += 1;
    }
    p
};

#[test]
fn fwps_nbl_over_a_callers_chain_is_freed_by_the_fwps_free() {
    let s = Session::new();
    let buf = Buffer::new(&PACKET);
    let pool = nbl_pool(true, 0, 0);
    unsafe {
        let mut nbl = core::ptr::null_mut();
        assert_eq!(FwpsAllocateNetBufferAndNetBufferList0(pool, 16, 0, buf.mdl, 20, 28, &mut nbl), STATUS_SUCCESS);
        assert_eq!(read(first_nb(nbl)), &PACKET[20..]);
        assert_eq!(NET_BUFFER_LIST_CONTEXT_DATA_SIZE(nbl), 16);
        FwpsFreeNetBufferList0(nbl);
        NdisFreeNetBufferListPool(pool);
    }
    drop(buf);
    assert!(s.leaks().is_empty(), "{}", s.leaks());
}

#[test]
fn classify_reference_clone_inject_complete_free_dereference() {
    let s = Session::new();
    let h = handle();
    let indicated = StackNbl::indicate(&PACKET, 20);
    let nbl = indicated.as_ptr();
    unsafe {
        assert_eq!(FwpsQueryPacketInjectionState0(h, nbl, core::ptr::null_mut()), FWPS_PACKET_NOT_INJECTED);
        FwpsReferenceNetBufferList0(nbl, 1);
        // Retreat over the IP header the stack advanced past, clone, advance back.
        assert_eq!(NdisRetreatNetBufferDataStart(first_nb(nbl), 20, 0, None), NDIS_STATUS_SUCCESS);
        let mut clone = core::ptr::null_mut();
        assert_eq!(
            FwpsAllocateCloneNetBufferList0(nbl, core::ptr::null_mut(), core::ptr::null_mut(), 0, &mut clone),
            STATUS_SUCCESS
        );
        NdisAdvanceNetBufferDataStart(first_nb(nbl), 20, 0, None);
        assert_eq!(read(first_nb(clone)), PACKET);
        assert_eq!(
            *NET_BUFFER_FIRST_MDL(first_nb(clone)),
            *NET_BUFFER_FIRST_MDL(first_nb(nbl)),
            "FWPS clones share the MDLs"
        );
        assert_eq!(
            FwpsInjectTransportReceiveAsync0(
                h,
                core::ptr::without_provenance_mut(7),
                core::ptr::null_mut(),
                0,
                AF_INET,
                1,
                1,
                0,
                clone,
                Some(free_clone_on_completion),
                core::ptr::without_provenance_mut(9)
            ),
            STATUS_SUCCESS
        );
        // The injected clone is recognised as this handle's, with its context.
        let mut ctx = core::ptr::null_mut();
        assert_eq!(FwpsQueryPacketInjectionState0(h, clone, &mut ctx), FWPS_PACKET_INJECTED_BY_SELF);
        assert_eq!(ctx as usize, 7);
        // Classify returns; the stack waits for the reference.
        indicated.complete();
        assert_eq!(ndis_sim::pending_injections(), 1);
        assert!(ndis_sim::complete_next(STATUS_SUCCESS));
        assert_eq!(completed(), [(9, clone as usize, STATUS_SUCCESS)]);
        FwpsDereferenceNetBufferList0(nbl, 0);
    }
    assert_eq!(unsafe { FwpsInjectionHandleDestroy0(h) }, STATUS_SUCCESS);
    assert!(s.leaks().is_empty(), "{}", s.leaks());
}

#[test]
fn immediate_completion_runs_before_the_inject_call_returns() {
    let s = Session::new();
    ndis_sim::set_injection_mode(InjectionMode::Immediate(STATUS_SUCCESS));
    let h = handle();
    let buf = Buffer::new(&PACKET);
    let pool = nbl_pool(true, 0, 0);
    unsafe {
        let mut nbl = core::ptr::null_mut();
        assert_eq!(FwpsAllocateNetBufferAndNetBufferList0(pool, 0, 0, buf.mdl, 0, 48, &mut nbl), STATUS_SUCCESS);
        let status = FwpsInjectNetworkSendAsync0(
            h,
            core::ptr::null_mut(),
            0,
            1,
            nbl,
            Some(free_nbl_on_completion),
            core::ptr::without_provenance_mut(3),
        );
        assert_eq!(status, STATUS_SUCCESS);
        assert_eq!(completed(), [(3, nbl as usize, STATUS_SUCCESS)]);
        assert_eq!(ndis_sim::pending_injections(), 0);
        FwpsInjectionHandleDestroy0(h);
        NdisFreeNetBufferListPool(pool);
    }
    drop(buf);
    assert!(s.leaks().is_empty(), "{}", s.leaks());
}

#[test]
fn synchronous_failure_leaves_the_nbl_with_the_caller_and_never_completes() {
    let s = Session::new();
    ndis_sim::set_injection_mode(InjectionMode::FailSynchronously(STATUS_INSUFFICIENT_RESOURCES));
    let h = handle();
    let buf = Buffer::new(&PACKET);
    let pool = nbl_pool(true, 0, 0);
    unsafe {
        let mut nbl = core::ptr::null_mut();
        FwpsAllocateNetBufferAndNetBufferList0(pool, 0, 0, buf.mdl, 0, 48, &mut nbl);
        let status = FwpsInjectForwardAsync0(
            h,
            core::ptr::null_mut(),
            0,
            AF_INET,
            1,
            1,
            nbl,
            Some(free_nbl_on_completion),
            core::ptr::null_mut(),
        );
        assert_eq!(status, STATUS_INSUFFICIENT_RESOURCES);
        assert_eq!(ndis_sim::pending_injections(), 0);
        assert!(completed().is_empty());
        assert_eq!(FwpsQueryPacketInjectionState0(h, nbl, core::ptr::null_mut()), FWPS_PACKET_NOT_INJECTED);
        FwpsFreeNetBufferList0(nbl);
        FwpsInjectionHandleDestroy0(h);
        NdisFreeNetBufferListPool(pool);
    }
    drop(buf);
    assert!(s.leaks().is_empty(), "{}", s.leaks());
}

#[test]
fn asynchronous_failure_completes_with_the_failure_status() {
    let s = Session::new();
    let h = handle();
    let buf = Buffer::new(&PACKET);
    let pool = nbl_pool(true, 0, 0);
    unsafe {
        let mut nbl = core::ptr::null_mut();
        FwpsAllocateNetBufferAndNetBufferList0(pool, 0, 0, buf.mdl, 0, 48, &mut nbl);
        let mut params: FWPS_TRANSPORT_SEND_PARAMS0 = core::mem::zeroed();
        let mut remote = [10u8, 0, 0, 1];
        params.remoteAddress = remote.as_mut_ptr();
        let status = FwpsInjectTransportSendAsync0(
            h,
            core::ptr::null_mut(),
            0,
            0,
            &mut params,
            AF_INET,
            1,
            nbl,
            Some(free_nbl_on_completion),
            core::ptr::null_mut(),
        );
        assert_eq!(status, STATUS_SUCCESS);
        assert!(ndis_sim::complete_next(STATUS_UNSUCCESSFUL));
        assert_eq!(completed(), [(0, nbl as usize, STATUS_UNSUCCESSFUL)]);
        FwpsInjectionHandleDestroy0(h);
        NdisFreeNetBufferListPool(pool);
    }
    drop(buf);
    assert!(s.leaks().is_empty(), "{}", s.leaks());
}

#[test]
fn destroying_a_handle_waits_for_its_pending_injections() {
    let s = Session::new();
    let h = handle();
    let other = handle();
    let buf = Buffer::new(&PACKET);
    let pool = nbl_pool(true, 0, 0);
    unsafe {
        let mut nbls = [core::ptr::null_mut(); 3];
        for (i, nbl) in nbls.iter_mut().enumerate() {
            FwpsAllocateNetBufferAndNetBufferList0(pool, 0, 0, buf.mdl, 0, 48, nbl);
            let via = if i == 2 { other } else { h };
            FwpsInjectNetworkReceiveAsync0(
                via,
                core::ptr::null_mut(),
                0,
                1,
                1,
                0,
                *nbl,
                Some(free_nbl_on_completion),
                core::ptr::null_mut(),
            );
        }
        assert_eq!(
            FwpsQueryPacketInjectionState0(other, nbls[0], core::ptr::null_mut()),
            FWPS_PACKET_INJECTED_BY_OTHER
        );
        assert_eq!(FwpsInjectionHandleDestroy0(h), STATUS_SUCCESS);
        assert_eq!(completed().len(), 2, "both of h's injections completed before destroy returned");
        assert_eq!(ndis_sim::pending_injections(), 1);
        assert_eq!(ndis_sim::complete_all(STATUS_SUCCESS), 1);
        completed();
        FwpsInjectionHandleDestroy0(other);
        NdisFreeNetBufferListPool(pool);
    }
    drop(buf);
    assert!(s.leaks().is_empty(), "{}", s.leaks());
}

#[test]
fn a_packet_coming_back_from_our_own_injection_is_recognised() {
    let s = Session::new();
    let h = handle();
    let other = handle();
    let packet = StackNbl::indicate(&PACKET, 0).injected_by(h, core::ptr::without_provenance_mut(42));
    let plain = StackNbl::indicate(&PACKET, 0);
    unsafe {
        let mut ctx = core::ptr::null_mut();
        assert_eq!(FwpsQueryPacketInjectionState0(h, packet.as_ptr(), &mut ctx), FWPS_PACKET_INJECTED_BY_SELF);
        assert_eq!(ctx as usize, 42);
        assert_eq!(FwpsQueryPacketInjectionState0(other, packet.as_ptr(), &mut ctx), FWPS_PACKET_INJECTED_BY_OTHER);
        assert_eq!(FwpsQueryPacketInjectionState0(h, plain.as_ptr(), &mut ctx), FWPS_PACKET_NOT_INJECTED);
    }
    drop((packet, plain));
    unsafe {
        FwpsInjectionHandleDestroy0(h);
        FwpsInjectionHandleDestroy0(other);
    }
    assert!(s.leaks().is_empty(), "{}", s.leaks());
}

#[test]
fn the_stack_returns_an_unreferenced_nbl_at_once_and_a_referenced_one_at_the_last_dereference() {
    let s = Session::new();
    let a = StackNbl::indicate(&PACKET, 20);
    let b = StackNbl::indicate(&PACKET, 20);
    let b_ptr = b.as_ptr();
    unsafe {
        FwpsReferenceNetBufferList0(b_ptr, 0);
        FwpsReferenceNetBufferList0(b_ptr, 0);
    }
    a.complete();
    b.complete();
    assert_eq!(s.leaks().len(), 1, "b is held: {}", s.leaks());
    unsafe { FwpsDereferenceNetBufferList0(b_ptr, 0) };
    assert_eq!(s.leaks().len(), 1);
    unsafe { FwpsDereferenceNetBufferList0(b_ptr, 0) };
    assert!(s.leaks().is_empty(), "{}", s.leaks());
}
