//! The filter: pass-through, drop or count by EtherType, a heartbeat frame
//! of its own. OID requests, status indications and PnP events pass
//! through: the [`Filter`] trait's defaults (an OID request goes down as a
//! clone the library completes back into it).

use core::num::NonZeroU32;
use core::sync::atomic::{AtomicU32, AtomicU64, Ordering};

use ndis_safe::filter::{AttachParameters, Filter, Module, Name, OwnChain, RecvChain, Registration, SendChain};
use ndis_safe::pool::prealloc::WithData;
use ndis_safe::{Nbl, NblPool, NblPoolOptions, NetBufferList, NoContext, Status, Tag, utf16};

/// Frames of this EtherType are dropped both ways (an example rule: the
/// IEEE local experimental EtherType 1).
pub const BLOCKED: u16 = 0x88b5;
/// Frames of this EtherType are counted both ways (IPv6).
pub const COUNTED: u16 = 0x86dd;
/// The EtherType of the filter's own heartbeat frames (local experimental 2).
pub const HEARTBEAT: u16 = 0x88b6;
/// A heartbeat follows every this many send chains.
pub const HEARTBEAT_EVERY: u32 = 4;
/// The heartbeat frame's length.
pub const HEARTBEAT_LEN: u32 = 60;

/// What the driver registers as.
pub const REGISTRATION: Registration = Registration {
    friendly: Name(utf16!("ndis-rs EtherType Filter")),
    unique: Name(utf16!("{9d6b8c4e-3f1a-4b2c-8e5d-7a0f1c2b3d4e}")),
    service: Name(utf16!("ndis_filter")),
    version: (1, 0),
};

/// The EtherType of a frame (an untagged Ethernet header's bytes 12–13).
pub fn ethertype(nbl: &NetBufferList) -> Option<u16> {
    let mut header = [0; 14];
    let h = nbl.first()?.peek(&mut header)?;
    Some(u16::from_be_bytes([*h.get(12)?, *h.get(13)?]))
}

/// The counters one module keeps.
#[derive(Debug, Default)]
pub struct Counters {
    /// Frames dropped (both ways).
    pub dropped: AtomicU64,
    /// Frames of [`COUNTED`] seen (both ways).
    pub counted: AtomicU64,
    /// Heartbeats sent.
    pub heartbeats: AtomicU64,
    /// Heartbeats back from below.
    pub heartbeats_back: AtomicU64,
}

/// The totals of modules that detached (what a test or a driver's
/// statistics read after the fact).
pub static DETACHED: Counters = Counters {
    dropped: AtomicU64::new(0),
    counted: AtomicU64::new(0),
    heartbeats: AtomicU64::new(0),
    heartbeats_back: AtomicU64::new(0),
};

/// One module of the filter.
pub struct EtherFilter {
    pool: NblPool<NoContext, WithData>,
    chains: AtomicU32,
    /// This module's counters.
    pub counters: Counters,
}

impl EtherFilter {
    fn classify(&self, nbl: &NetBufferList) -> bool {
        match ethertype(nbl) {
            Some(BLOCKED) => false,
            Some(COUNTED) => {
                self.counters.counted.fetch_add(1, Ordering::Relaxed);
                true
            }
            _ => true,
        }
    }

    /// A heartbeat frame, from the module's own pool.
    fn heartbeat(&self, mac: [u8; 6]) -> Option<Nbl<'_>> {
        let mut nbl = self.pool.allocate_range(0, HEARTBEAT_LEN, NoContext).ok()?;
        let mut header = [0u8; 14];
        header[..6].copy_from_slice(&[0xff; 6]);
        header[6..12].copy_from_slice(&mac);
        header[12..].copy_from_slice(&HEARTBEAT.to_be_bytes());
        nbl.write(0, &header).ok()?;
        Some(nbl)
    }
}

/// The MAC address the module was attached with (kept in the filter value
/// for heartbeats).
static MAC: [AtomicU32; 2] = [AtomicU32::new(0), AtomicU32::new(0)];

impl Filter for EtherFilter {
    type Own = NoContext;
    const OWN_NBLS: bool = true;
    const TAG: Tag = Tag(*b"EthF");

    fn attach(module: &Module<Self>, params: &AttachParameters<'_>) -> Result<Self, Status> {
        let mut mac = [0u8; 8];
        for (d, s) in mac.iter_mut().zip(params.mac_address()) {
            *d = *s;
        }
        MAC[0].store(u32::from_le_bytes([mac[0], mac[1], mac[2], mac[3]]), Ordering::Relaxed);
        MAC[1].store(u32::from_le_bytes([mac[4], mac[5], 0, 0]), Ordering::Relaxed);
        let size = NonZeroU32::new(HEARTBEAT_LEN).ok_or(Status::FAILURE)?;
        let pool = NblPool::new(&module.owner(), NblPoolOptions::new(Tag(*b"EthH")).with_data(size))
            .map_err(|_| Status::RESOURCES)?;
        Ok(EtherFilter { pool, chains: AtomicU32::new(0), counters: Counters::default() })
    }

    fn detach(self, _: &Module<Self>) {
        let c = &self.counters;
        for (total, mine) in [
            (&DETACHED.dropped, &c.dropped),
            (&DETACHED.counted, &c.counted),
            (&DETACHED.heartbeats, &c.heartbeats),
            (&DETACHED.heartbeats_back, &c.heartbeats_back),
        ] {
            total.fetch_add(mine.load(Ordering::Relaxed), Ordering::Relaxed);
        }
    }

    fn send<'c>(&'c self, module: &'c Module<Self>, chain: SendChain<'c, Self>) {
        let (pass, drop) = chain.split(|nbl| self.classify(nbl));
        self.counters.dropped.fetch_add(u64::from(drop.len()), Ordering::Relaxed);
        drop.complete(Status::FAILURE);
        let mut own = OwnChain::new(module);
        let mut heartbeat = false;
        if self.chains.fetch_add(1, Ordering::Relaxed) % HEARTBEAT_EVERY == HEARTBEAT_EVERY - 1 {
            let [a, b] = [MAC[0].load(Ordering::Relaxed).to_le_bytes(), MAC[1].load(Ordering::Relaxed).to_le_bytes()];
            if let Some(nbl) = self.heartbeat([a[0], a[1], a[2], a[3], b[0], b[1]]) {
                heartbeat = own.push(nbl).is_ok();
            }
        }
        // A heartbeat refused (the module began pausing during this call)
        // is freed with the returned chain.
        if pass.send_down_with(own).is_ok() && heartbeat {
            self.counters.heartbeats.fetch_add(1, Ordering::Relaxed);
        }
    }

    fn receive<'c>(&'c self, _: &'c Module<Self>, chain: RecvChain<'c, Self>) {
        let (pass, drop) = chain.split(|nbl| self.classify(nbl));
        self.counters.dropped.fetch_add(u64::from(drop.len()), Ordering::Relaxed);
        drop.give_back();
        pass.indicate_up();
    }

    fn own_pool(&self) -> Option<&NblPool<NoContext, WithData>> {
        Some(&self.pool)
    }

    fn own_completed<'c>(&'c self, _: &'c Module<Self>, nbl: Nbl<'c, NoContext>) {
        self.counters.heartbeats_back.fetch_add(1, Ordering::Relaxed);
        drop(nbl);
    }
}
