//! Typed filters on the simulated filter stack: pass-through, a drop and
//! inject rule, low-resources receives, pause under traffic, leaks.
#![allow(missing_docs, reason = "test")]
#![cfg(feature = "filter")]

use core::num::NonZeroU32;
use core::sync::atomic::{AtomicU32, Ordering};

use ndis_safe::filter::{
    AttachParameters, Filter, FilterDriver, Module, ModuleState, Name, OwnChain, RecvChain, Registration, SendChain,
};
use ndis_safe::{NblPool, NblPoolOptions, NoContext, Status, Tag, pool::prealloc::WithData, utf16};
use ndis_sim::lwf::Stack;
use ndis_sim::{Rule, Session};
use ndis_sys::{NDIS_STATUS_FAILURE, NDIS_STATUS_PAUSED, NDIS_STATUS_SUCCESS};

const REG: Registration = Registration {
    friendly: Name(utf16!("ndis-rs test filter")),
    unique: Name(utf16!("{5cbf81bd-5055-47cd-9055-a76b2b4e3697}")),
    service: Name(utf16!("ndisrstest")),
    version: (1, 0),
};

fn frame(ethertype: u16, fill: u8, len: usize) -> Vec<u8> {
    let mut f = vec![fill; len.max(14)];
    f[..6].copy_from_slice(&[0xff; 6]);
    f[6..12].copy_from_slice(&[2, 0, 0, 0, 0, 1]);
    f[12..14].copy_from_slice(&ethertype.to_be_bytes());
    f
}

fn ethertype(nbl: &ndis_safe::NetBufferList) -> Option<u16> {
    let mut b = [0; 14];
    let h = nbl.first()?.peek(&mut b)?;
    Some(u16::from_be_bytes([h[12], h[13]]))
}

fn register<F: Filter>() -> FilterDriver<F> {
    // SAFETY: the simulator takes any driver object.
    unsafe { FilterDriver::<F>::register(core::ptr::null_mut(), &REG) }.expect("registered")
}

/// The WDK sample's pass-through.
struct PassThrough;

impl Filter for PassThrough {
    type Own = NoContext;
    const TAG: Tag = Tag(*b"Pass");

    fn attach(module: &Module<Self>, params: &AttachParameters<'_>) -> Result<Self, Status> {
        assert_eq!(module.state(), ModuleState::Paused);
        assert_eq!(params.mac_address().len(), 6);
        Ok(PassThrough)
    }
}

#[test]
fn pass_through_both_ways_with_pause_under_traffic() {
    let session = Session::new();
    let driver = register::<PassThrough>();
    let stack = Stack::new(&[driver.as_raw()]);
    stack.attach().unwrap();
    assert!(stack.restart());
    let a = frame(0x0800, 1, 60);
    let b = frame(0x86dd, 2, 90);
    stack.send(&[&a, &b]);
    stack.receive(&[&b, &a, &b], false);
    assert_eq!(stack.sent(), vec![a.clone(), b.clone()]);
    assert_eq!(stack.received(), vec![b.clone(), a.clone(), b.clone()]);
    // Pause with two sends and three receives out: the protocol's pause
    // waits for them, and the module's pause starts after it.
    assert!(!stack.pause());
    assert_eq!(stack.pending_sends(), 2);
    // Out of order.
    assert!(stack.complete_send(1, NDIS_STATUS_SUCCESS));
    assert!(stack.return_receive(2));
    assert!(!stack.is_paused());
    // The pausing protocol's sends fail at once; a receive indicated to it
    // now is passed up and returned at once.
    stack.send(&[&a]);
    stack.receive(&[&a], false);
    assert_eq!(stack.return_receives(), 2);
    assert_eq!(stack.complete_sends(), 1);
    assert!(stack.is_paused(), "the last completion lets the module pause, at once: nothing of its own is out");
    assert_eq!(stack.completed(), vec![NDIS_STATUS_SUCCESS, NDIS_STATUS_PAUSED, NDIS_STATUS_SUCCESS]);
    assert_eq!(stack.received().len(), 4);
    // Again: restart, traffic, pause, detach.
    assert!(stack.restart());
    stack.send(&[&a]);
    stack.receive(&[&b], true);
    assert_eq!(stack.complete_sends(), 1);
    assert!(stack.pause());
    stack.detach();
    drop(stack);
    drop(driver);
    assert!(session.leaks().is_empty(), "{}", session.leaks());
}

/// Drops frames of one EtherType both ways (counting them), and sends a
/// frame of its own after each chain it passes down.
struct Rules {
    pool: NblPool<NoContext, WithData>,
    dropped: AtomicU32,
    injected: AtomicU32,
    own_back: AtomicU32,
}

const BLOCKED: u16 = 0x88b5;

impl Filter for Rules {
    type Own = NoContext;
    const OWN_NBLS: bool = true;
    const TAG: Tag = Tag(*b"Rule");

    fn attach(module: &Module<Self>, _: &AttachParameters<'_>) -> Result<Self, Status> {
        let size = NonZeroU32::new(128).ok_or(Status::FAILURE)?;
        let pool = NblPool::new(&module.owner(), NblPoolOptions::new(Tag(*b"RuOw")).with_data(size))
            .map_err(|_| Status::RESOURCES)?;
        Ok(Rules { pool, dropped: AtomicU32::new(0), injected: AtomicU32::new(0), own_back: AtomicU32::new(0) })
    }

    fn send<'c>(&'c self, module: &'c Module<Self>, chain: SendChain<'c, Self>) {
        let (pass, drop) = chain.split(|nbl| ethertype(nbl) != Some(BLOCKED));
        self.dropped.fetch_add(drop.len(), Ordering::Relaxed);
        drop.complete(Status::FAILURE);
        let mut own = OwnChain::new(module);
        if !pass.is_empty() {
            let f = frame(0x88b6, 0xee, 64);
            if let Ok(mut nbl) = self.pool.allocate_range(0, f.len() as u32, NoContext) {
                nbl.write(0, &f).unwrap();
                own.push(nbl).ok().unwrap();
            }
        }
        assert_eq!(own.len(), u32::from(!pass.is_empty()));
        let n = own.len();
        if pass.send_down_with(own).is_ok() {
            self.injected.fetch_add(n, Ordering::Relaxed);
        }
    }

    fn receive<'c>(&'c self, _module: &'c Module<Self>, chain: RecvChain<'c, Self>) {
        let (pass, drop) = chain.split(|nbl| ethertype(nbl) != Some(BLOCKED));
        self.dropped.fetch_add(drop.len(), Ordering::Relaxed);
        drop.give_back();
        pass.indicate_up();
    }

    fn own_pool(&self) -> Option<&NblPool<NoContext, WithData>> {
        Some(&self.pool)
    }

    fn own_completed<'c>(&'c self, _module: &'c Module<Self>, nbl: ndis_safe::Nbl<'c, NoContext>) {
        assert_eq!(nbl.status(), NDIS_STATUS_SUCCESS);
        self.own_back.fetch_add(1, Ordering::Relaxed);
    }

    fn detach(self, _module: &Module<Self>) {
        COUNTS.store(
            self.dropped.load(Ordering::Relaxed) << 16
                | self.injected.load(Ordering::Relaxed) << 8
                | self.own_back.load(Ordering::Relaxed),
            Ordering::Relaxed,
        );
    }
}

static COUNTS: AtomicU32 = AtomicU32::new(0);

#[test]
fn drop_rule_and_injection_under_two_filters() {
    let session = Session::new();
    let rules = register::<Rules>();
    let pass = register::<PassThrough>();
    // The rule filter above a pass-through one.
    let stack = Stack::new(&[rules.as_raw(), pass.as_raw()]);
    stack.attach().unwrap();
    assert!(stack.restart());
    let ok = frame(0x0800, 1, 60);
    let bad = frame(BLOCKED, 2, 60);
    stack.send(&[&ok, &bad, &ok]);
    stack.send(&[&bad]);
    stack.receive(&[&bad, &ok], false);
    stack.receive(&[&bad, &ok], true);
    // Two sends and one own frame reach the miniport; the blocked ones are
    // completed at once with the filter's status.
    assert_eq!(stack.sent().len(), 3);
    assert_eq!(stack.sent()[2][12..14], [0x88, 0xb6]);
    assert_eq!(stack.completed(), vec![NDIS_STATUS_FAILURE, NDIS_STATUS_FAILURE]);
    assert_eq!(stack.received(), vec![ok.clone(), ok.clone()]);
    assert!(!stack.pause());
    // The protocol's sends back, then its receives: the rule module's
    // pause starts, and waits for its own frame (the last send).
    assert_eq!(stack.pending_sends(), 3);
    assert!(stack.complete_send(1, NDIS_STATUS_SUCCESS));
    assert!(stack.complete_send(0, NDIS_STATUS_SUCCESS));
    stack.return_receives();
    assert!(!stack.is_paused(), "the own frame is out");
    // A receive reaching the pausing rule module is given back without
    // calling the filter (the module below still runs and passes it up).
    stack.receive(&[&ok], false);
    assert_eq!(stack.received().len(), 2);
    assert!(stack.held().is_empty(), "{:?}", stack.held());
    // The own frame back completes the rule module's pause, then the one below pauses.
    assert!(stack.complete_send(0, NDIS_STATUS_SUCCESS));
    assert!(stack.is_paused());
    assert_eq!(stack.completed().len(), 4, "the own NBL is not completed to the protocol");
    stack.detach();
    assert_eq!(COUNTS.load(Ordering::Relaxed), 4 << 16 | 1 << 8 | 1);
    drop(stack);
    drop((rules, pass));
    assert!(session.leaks().is_empty(), "{}", session.leaks());
}

/// Hands a running module one send chain of two frames, then one owned
/// and one lent receive chain of a frame each.
fn send_two_receive_owned_and_lent(stack: &Stack) {
    let f = frame(0x0800, 1, 60);
    stack.send(&[&f, &f]);
    stack.receive(&[&f], false);
    stack.receive(&[&f], true);
}

/// Forgets every chain it is handed.
struct Forgetful;

impl Filter for Forgetful {
    type Own = NoContext;
    const TAG: Tag = Tag(*b"Forg");

    fn attach(_: &Module<Self>, _: &AttachParameters<'_>) -> Result<Self, Status> {
        Ok(Forgetful)
    }

    fn send<'c>(&'c self, _: &'c Module<Self>, chain: SendChain<'c, Self>) {
        core::mem::forget(chain);
    }

    fn receive<'c>(&'c self, _: &'c Module<Self>, chain: RecvChain<'c, Self>) {
        core::mem::forget(chain);
    }
}

#[test]
fn a_forgotten_chain_leaks_and_is_never_reported() {
    let session = Session::collecting();
    let driver = register::<Forgetful>();
    let stack = Stack::new(&[driver.as_raw()]);
    stack.attach().unwrap();
    assert!(stack.restart());
    send_two_receive_owned_and_lent(&stack);
    // Nothing is out (the module sent nothing down): the pause completes.
    assert!(stack.pause());
    assert_eq!(stack.held().len(), 3, "{:?}", stack.held());
    stack.detach();
    drop(stack);
    drop(driver);
    assert_eq!(session.reports(), vec![]);
    assert_eq!(session.leaks().len(), 3, "{}", session.leaks());
}

#[test]
fn restart_of_a_running_module_fails_and_state_is_tracked() {
    let session = Session::collecting();
    let driver = register::<PassThrough>();
    let stack = Stack::new(&[driver.as_raw()]);
    stack.attach().unwrap();
    assert!(stack.is_paused());
    assert!(stack.restart());
    assert!(stack.is_running());
    assert!(stack.pause());
    stack.detach();
    drop(stack);
    drop(driver);
    assert_eq!(session.rules(), vec![]);
    assert!(session.leaks().is_empty(), "{}", session.leaks());
    let _ = Rule::FilterPaused;
}

/// Drops what it is handed (the chains' `Drop` ends them).
struct Dropper;

impl Filter for Dropper {
    type Own = NoContext;
    const TAG: Tag = Tag(*b"Drop");

    fn attach(_: &Module<Self>, _: &AttachParameters<'_>) -> Result<Self, Status> {
        Ok(Dropper)
    }

    fn send<'c>(&'c self, _: &'c Module<Self>, chain: SendChain<'c, Self>) {
        drop(chain);
    }

    fn receive<'c>(&'c self, _: &'c Module<Self>, chain: RecvChain<'c, Self>) {
        drop(chain);
    }
}

#[test]
fn a_dropped_chain_is_ended_by_its_drop() {
    let session = Session::new();
    let driver = register::<Dropper>();
    let stack = Stack::new(&[driver.as_raw()]);
    stack.attach().unwrap();
    assert!(stack.restart());
    send_two_receive_owned_and_lent(&stack);
    assert_eq!(stack.completed(), vec![ndis_sys::NDIS_STATUS_REQUEST_ABORTED; 2]);
    assert!(stack.received().is_empty());
    assert!(stack.held().is_empty());
    assert!(stack.pause());
    stack.detach();
    drop(stack);
    drop(driver);
    assert!(session.leaks().is_empty(), "{}", session.leaks());
}

/// The logo test's shape: threads sending and receiving (lent and low
/// resources) through two filters, completions out of order from another
/// thread, pause and restart under traffic, then detach: no report (a
/// report panics this session), nothing leaked, every send completed.
#[test]
fn stress_pause_and_restart_under_traffic() {
    let session = Session::new();
    let rules = register::<Rules>();
    let pass = register::<PassThrough>();
    let stack = Stack::new(&[pass.as_raw(), rules.as_raw()]);
    stack.attach().unwrap();
    assert!(stack.restart());
    let done = core::sync::atomic::AtomicBool::new(false);
    let sent_nbls = AtomicU32::new(0);
    let rounds = if cfg!(miri) { 8 } else { 300 };
    std::thread::scope(|s| {
        for t in 0..2u32 {
            let (stack, sent_nbls) = (&stack, &sent_nbls);
            s.spawn(move || {
                let mut x = 0x9e37_79b9u32 ^ t;
                for i in 0..rounds {
                    x ^= x << 13;
                    x ^= x >> 17;
                    x ^= x << 5;
                    let n = (x % 4 + 1) as usize;
                    let frames: Vec<Vec<u8>> = (0..n)
                        .map(|k| frame(if (x >> k) & 3 == 0 { BLOCKED } else { 0x0800 }, i as u8, 60 + k))
                        .collect();
                    let refs: Vec<&[u8]> = frames.iter().map(Vec::as_slice).collect();
                    if t == 0 {
                        stack.send(&refs);
                        sent_nbls.fetch_add(n as u32, Ordering::Relaxed);
                    } else {
                        stack.receive(&refs, x & 1 == 0);
                    }
                }
            });
        }
        let (stack, done) = (&stack, &done);
        s.spawn(move || {
            let mut x = 12345u32;
            while !done.load(Ordering::Relaxed) {
                x ^= x << 13;
                x ^= x >> 17;
                x ^= x << 5;
                let p = stack.pending_sends();
                if p > 0 {
                    stack.complete_send(x as usize % p, NDIS_STATUS_SUCCESS);
                }
                let r = stack.pending_returns();
                if r > 0 {
                    stack.return_receive(x as usize % r);
                }
                std::thread::yield_now();
            }
        });
        for _ in 0..if cfg!(miri) { 2 } else { 20 } {
            std::thread::yield_now();
            stack.pause();
            while !stack.is_paused() {
                std::thread::yield_now();
            }
            assert!(stack.restart());
        }
        // The completer stops; what is still out is completed below.
        done.store(true, Ordering::Relaxed);
    });
    stack.complete_sends();
    stack.return_receives();
    assert!(stack.pause());
    stack.detach();
    // Every protocol send completed once (own injected frames are not the protocol's).
    assert_eq!(stack.completed().len() as u32, sent_nbls.load(Ordering::Relaxed));
    drop(stack);
    drop((rules, pass));
    assert!(session.leaks().is_empty(), "{}", session.leaks());
}

#[test]
fn out_of_band_info_is_typed_and_copied_to_own_nbls() {
    use ndis_safe::filter::info::{Checksum, Hash, Ieee8021Q, InfoKinds};
    let session = Session::new();
    // SAFETY: the simulator accepts any handle.
    let owner = unsafe { ndis_safe::NdisHandle::from_raw(core::ptr::null_mut()) };
    let pool: NblPool<NoContext, WithData> =
        NblPool::new(&owner, NblPoolOptions::new(Tag(*b"Info")).with_data(NonZeroU32::new(64).unwrap())).unwrap();
    let mut from = pool.allocate(NoContext).unwrap();
    let mut to = pool.allocate(NoContext).unwrap();
    assert_eq!(from.ieee8021q(), None);
    let tag = Ieee8021Q { priority: 5, cfi: 0, vlan_id: 0x123 };
    from.set_ieee8021q(Some(tag));
    from.set_checksum(Checksum(0b10101 | 34 << 16));
    from.set_hash(Hash { value: 0xdead_beef, info: 0x101 });
    // The slot's bits as the kit's bitfields lay them out.
    // SAFETY: a live NBL; Ieee8021QNetBufferListInfo is in every layout.
    let slot = unsafe { ndis_sys::NET_BUFFER_LIST_INFO(from.as_ptr(), ndis_sys::Ieee8021QNetBufferListInfo) };
    // SAFETY: the slot, read.
    let raw = unsafe { *slot } as usize;
    assert_eq!(raw, 5 | 0x123 << 4);
    let c = from.checksum();
    assert!(c.tx_ipv4() && c.tx_tcp() && c.tx_ip_header() && !c.tx_ipv6() && !c.tx_udp());
    assert_eq!(c.tx_tcp_header_offset(), 34);
    to.copy_info_from(&from, InfoKinds { ieee8021q: true, hash: true, ..InfoKinds::default() });
    assert_eq!(to.ieee8021q(), Some(tag));
    assert_eq!(to.hash(), Hash { value: 0xdead_beef, info: 0x101 });
    assert_eq!(to.checksum(), Checksum(0), "not asked for");
    to.copy_info_from(&from, InfoKinds::ALL);
    assert_eq!(to.checksum(), from.checksum());
    to.set_ieee8021q(None);
    assert_eq!(to.ieee8021q(), None);
    drop((from, to));
    drop(pool);
    assert!(session.leaks().is_empty(), "{}", session.leaks());
}

/// Tries to send a frame of its own from its pause handler (too late: a
/// pausing module originates nothing).
struct LatePinger {
    pool: NblPool<NoContext, WithData>,
}

static REFUSED: AtomicU32 = AtomicU32::new(0);

impl Filter for LatePinger {
    type Own = NoContext;
    const OWN_NBLS: bool = true;
    const TAG: Tag = Tag(*b"Late");

    fn attach(module: &Module<Self>, _: &AttachParameters<'_>) -> Result<Self, Status> {
        let size = NonZeroU32::new(64).ok_or(Status::FAILURE)?;
        let pool = NblPool::new(&module.owner(), NblPoolOptions::new(Tag(*b"LaOw")).with_data(size))
            .map_err(|_| Status::RESOURCES)?;
        Ok(LatePinger { pool })
    }

    fn pause(&self, module: &Module<Self>) {
        assert_eq!(module.state(), ModuleState::Pausing);
        let mut own = OwnChain::new(module);
        own.push(self.pool.allocate_range(0, 64, NoContext).unwrap()).ok().unwrap();
        // Refused: given back, and dropped here, which frees the NBL.
        if let Err(own) = own.send_down(0) {
            assert_eq!(own.len(), 1);
            REFUSED.fetch_add(1, Ordering::Relaxed);
        }
    }

    fn own_pool(&self) -> Option<&NblPool<NoContext, WithData>> {
        Some(&self.pool)
    }
}

#[test]
fn an_own_chain_is_refused_once_the_module_pauses_and_freed_when_dropped() {
    let session = Session::new();
    let driver = register::<LatePinger>();
    let stack = Stack::new(&[driver.as_raw()]);
    stack.attach().unwrap();
    assert!(stack.restart());
    let f = frame(0x0800, 1, 60);
    stack.send(&[&f]);
    stack.complete_sends();
    assert!(stack.pause(), "nothing of its own went: the pause completes at once");
    assert_eq!(REFUSED.load(Ordering::Relaxed), 1);
    assert_eq!(stack.sent().len(), 1, "the own frame never reached the miniport");
    stack.detach();
    drop(stack);
    drop(driver);
    assert!(session.leaks().is_empty(), "{}", session.leaks());
}
