//! The firewall's state: the rule tables a test (or, on Windows, the
//! driver's user-mode service) fills, the connections waiting for a
//! decision, and the decisions kept for the engine's re-authorization —
//! fixed-size tables of atomics in one `static`, so classify (at
//! `DISPATCH_LEVEL`, on any processor) and the timer share them without a
//! lock and without allocating.
//!
//! Each table entry is a [`Slot`]: a state word (free, being written,
//! ready) with a generation, and its data in atomics. A writer claims a
//! free slot, writes, and publishes it; a reader copies a ready slot's
//! data and keeps the copy only if the state word did not change meanwhile
//! (a sequence lock); taking a slot (to complete its connection) is a
//! compare-and-swap from the very state the reader saw, so a connection is
//! taken — and its pend completed — once.

use core::net::{IpAddr, Ipv4Addr, Ipv6Addr, SocketAddr};
use core::sync::atomic::{AtomicU8, AtomicU32, AtomicU64, Ordering};

use ndis_safe::wfp::decision::Decision;
use ndis_safe::wfp::pend::{PendSlot, PendedClassify};
use ndis_safe::wfp::redirect::RedirectHandleCell;

/// What a rule decides.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Verdict {
    /// Let the connection through.
    Permit,
    /// Refuse it.
    Block,
}

impl Verdict {
    fn from_u64(v: u64) -> Verdict {
        if v == 1 { Verdict::Permit } else { Verdict::Block }
    }

    fn to_u64(self) -> u64 {
        match self {
            Verdict::Permit => 1,
            Verdict::Block => 2,
        }
    }
}

impl From<Verdict> for Decision {
    fn from(v: Verdict) -> Decision {
        match v {
            Verdict::Permit => Decision::Permit,
            Verdict::Block => Decision::Block,
        }
    }
}

/// An application, as the firewall keeps it: a 64-bit FNV-1a hash of the
/// `ALE_APP_ID` bytes the engine passes (the application's path).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct App(pub u64);

impl App {
    /// No application id (the engine passed none).
    pub const NONE: App = App(0);

    /// The application whose `ALE_APP_ID` is `bytes`.
    pub const fn of(bytes: &[u8]) -> App {
        let mut h: u64 = 0xcbf2_9ce4_8422_2325;
        let mut i = 0;
        while i < bytes.len() {
            h ^= bytes[i] as u64;
            h = h.wrapping_mul(0x0100_0000_01b3);
            i += 1;
        }
        App(h | 1)
    }
}

/// A connection at the authorization layers.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Conn {
    /// The remote address.
    pub remote: IpAddr,
    /// The remote port.
    pub remote_port: u16,
    /// The local port.
    pub local_port: u16,
    /// `IPPROTO_*`.
    pub protocol: u8,
    /// The application.
    pub app: App,
    /// An accept (`ALE_AUTH_RECV_ACCEPT`) rather than a connect.
    pub inbound: bool,
}

/// What a rule matches; `None` matches anything.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct Match {
    /// The remote address.
    pub remote: Option<IpAddr>,
    /// The remote port.
    pub remote_port: Option<u16>,
    /// The protocol.
    pub protocol: Option<u8>,
    /// The application.
    pub app: Option<App>,
}

impl Match {
    /// Whether `c` matches.
    pub fn matches(&self, c: &Conn) -> bool {
        self.remote.is_none_or(|r| r == c.remote)
            && self.remote_port.is_none_or(|p| p == c.remote_port)
            && self.protocol.is_none_or(|p| p == c.protocol)
            && self.app.is_none_or(|a| a == c.app)
    }
}

fn addr_words(a: IpAddr) -> (u64, u64, bool) {
    match a {
        IpAddr::V4(a) => (0, u64::from(u32::from(a)), false),
        IpAddr::V6(a) => {
            let v = u128::from(a);
            ((v >> 64) as u64, v as u64, true)
        }
    }
}

fn addr_of(hi: u64, lo: u64, v6: bool) -> IpAddr {
    if v6 {
        IpAddr::V6(Ipv6Addr::from((u128::from(hi) << 64) | u128::from(lo)))
    } else {
        IpAddr::V4(Ipv4Addr::from(lo as u32))
    }
}

impl Conn {
    fn encode(&self) -> [u64; 4] {
        let (hi, lo, v6) = addr_words(self.remote);
        let packed = u64::from(self.remote_port)
            | (u64::from(self.local_port) << 16)
            | (u64::from(self.protocol) << 32)
            | (u64::from(v6) << 40)
            | (u64::from(self.inbound) << 41);
        [hi, lo, packed, self.app.0]
    }

    fn decode(w: &[u64]) -> Option<Conn> {
        let [hi, lo, packed, app] = *w else { return None };
        Some(Conn {
            remote: addr_of(hi, lo, packed >> 40 & 1 == 1),
            remote_port: packed as u16,
            local_port: (packed >> 16) as u16,
            protocol: (packed >> 32) as u8,
            app: App(app),
            inbound: packed >> 41 & 1 == 1,
        })
    }
}

impl Match {
    fn encode(&self) -> [u64; 4] {
        let (hi, lo, v6) = self.remote.map_or((0, 0, false), addr_words);
        let packed = u64::from(self.remote_port.unwrap_or(0))
            | (u64::from(self.protocol.unwrap_or(0)) << 16)
            | (u64::from(v6) << 24)
            | (u64::from(self.remote.is_some()) << 25)
            | (u64::from(self.remote_port.is_some()) << 26)
            | (u64::from(self.protocol.is_some()) << 27)
            | (u64::from(self.app.is_some()) << 28);
        [hi, lo, packed, self.app.map_or(0, |a| a.0)]
    }

    fn decode(w: &[u64]) -> Option<Match> {
        let [hi, lo, packed, app] = *w else { return None };
        let has = |bit: u32| packed >> bit & 1 == 1;
        Some(Match {
            remote: has(25).then(|| addr_of(hi, lo, has(24))),
            remote_port: has(26).then_some(packed as u16),
            protocol: has(27).then_some((packed >> 16) as u8),
            app: has(28).then_some(App(app)),
        })
    }
}

const FREE: u32 = 0;
const BUSY: u32 = 1;
const READY: u32 = 2;

/// One table entry: a state word (`generation << 2 | state`) and `N`
/// words of data.
pub struct Slot<const N: usize> {
    state: AtomicU32,
    data: [AtomicU64; N],
}

impl<const N: usize> Slot<N> {
    const fn new() -> Slot<N> {
        Slot { state: AtomicU32::new(FREE), data: [const { AtomicU64::new(0) }; N] }
    }

    /// Moves the slot from state `from` (the whole word) to `to`, bumping
    /// the generation.
    fn step(&self, from: u32, to: u32) -> bool {
        let next = ((from >> 2).wrapping_add(1) << 2) | to;
        self.state.compare_exchange(from, next, Ordering::AcqRel, Ordering::Acquire).is_ok()
    }

    /// Claims the slot if free.
    fn claim(&self) -> bool {
        let s = self.state.load(Ordering::Acquire);
        s & 3 == FREE && self.step(s, BUSY)
    }

    fn write(&self, v: [u64; N]) {
        for (a, x) in self.data.iter().zip(v) {
            a.store(x, Ordering::Relaxed);
        }
    }

    /// Publishes a claimed slot.
    fn publish(&self) {
        let s = self.state.load(Ordering::Acquire);
        let _ = self.step(s, READY);
    }

    /// Frees a claimed (or taken) slot.
    fn free(&self) {
        let s = self.state.load(Ordering::Acquire);
        let _ = self.step(s, FREE);
    }

    /// Fills a free slot with `v` and publishes it; false when not free.
    fn fill(&self, v: [u64; N]) -> bool {
        if !self.claim() {
            return false;
        }
        self.write(v);
        self.publish();
        true
    }

    /// A consistent copy of a ready slot's data, with the state word it
    /// was read under.
    fn read(&self) -> Option<(u32, [u64; N])> {
        let s1 = self.state.load(Ordering::Acquire);
        if s1 & 3 != READY {
            return None;
        }
        let v = core::array::from_fn(|i| self.data[i].load(Ordering::Relaxed));
        core::sync::atomic::fence(Ordering::Acquire);
        (self.state.load(Ordering::Relaxed) == s1).then_some((s1, v))
    }

    /// Takes the slot if it is still in state `seen` (a ready state
    /// [`read`](Slot::read) returned): the caller then owns it until
    /// [`free`](Slot::free).
    fn take(&self, seen: u32) -> bool {
        seen & 3 == READY && self.step(seen, BUSY)
    }
}

/// A connection waiting for its decision: the connection and the tick it
/// was pended at, and the pend.
struct Waiting {
    slot: Slot<5>,
    pend: PendSlot,
}

/// A claimed waiting slot, filled by [`Claim::fill`]; dropped unfilled,
/// it is freed again.
pub struct Claim<'f> {
    waiting: &'f Waiting,
    now: u64,
    filled: bool,
}

impl Claim<'_> {
    /// Parks `pended` for `conn` until [`Firewall::tick`] decides it.
    pub fn fill(mut self, conn: Conn, pended: PendedClassify) {
        let [a, b, c, d] = conn.encode();
        self.waiting.slot.write([a, b, c, d, self.now]);
        match self.waiting.pend.put(pended) {
            Ok(()) => {
                self.waiting.slot.publish();
                self.filled = true;
            }
            // The slot's pend place was not empty (it always is for a
            // claimed slot): complete this pend at once with the default.
            Err(p) => p.complete(Decision::Block),
        }
    }
}

impl Drop for Claim<'_> {
    fn drop(&mut self) {
        if !self.filled {
            self.waiting.slot.free();
        }
    }
}

/// How many rules, redirect rules, bind rules, waiting connections and
/// kept decisions the tables hold.
pub const RULES: usize = 32;
/// Redirect rules.
pub const REDIRECTS: usize = 8;
/// Bind rules.
pub const BINDS: usize = 8;
/// Connections waiting at once.
pub const WAITING: usize = 64;
/// Decisions kept for re-authorization.
pub const DECIDED: usize = 64;
/// The default timeout, in ticks (the driver's timer ticks once a second).
pub const DEFAULT_TIMEOUT: u64 = 10;

/// Counters, for tests and diagnostics.
#[derive(Debug)]
pub struct Stats {
    /// Classifies pended.
    pub pended: AtomicU64,
    /// Pended connections completed with permit.
    pub permitted: AtomicU64,
    /// Pended connections completed with block.
    pub blocked: AtomicU64,
    /// Of those, completed with the default on timeout.
    pub timed_out: AtomicU64,
    /// Re-authorizations answered.
    pub reauthorized: AtomicU64,
    /// Re-authorizations answered with a kept decision.
    pub reauthorized_as_decided: AtomicU64,
    /// Connections decided at once (not pended).
    pub decided_at_once: AtomicU64,
    /// Connects redirected.
    pub redirected: AtomicU64,
    /// Connects left alone because the driver redirected them already.
    pub redirect_loops_avoided: AtomicU64,
    /// Binds redirected.
    pub binds_redirected: AtomicU64,
}

impl Stats {
    const fn new() -> Stats {
        Stats {
            pended: AtomicU64::new(0),
            permitted: AtomicU64::new(0),
            blocked: AtomicU64::new(0),
            timed_out: AtomicU64::new(0),
            reauthorized: AtomicU64::new(0),
            reauthorized_as_decided: AtomicU64::new(0),
            decided_at_once: AtomicU64::new(0),
            redirected: AtomicU64::new(0),
            redirect_loops_avoided: AtomicU64::new(0),
            binds_redirected: AtomicU64::new(0),
        }
    }

    fn all(&self) -> [&AtomicU64; 10] {
        [
            &self.pended,
            &self.permitted,
            &self.blocked,
            &self.timed_out,
            &self.reauthorized,
            &self.reauthorized_as_decided,
            &self.decided_at_once,
            &self.redirected,
            &self.redirect_loops_avoided,
            &self.binds_redirected,
        ]
    }

    /// A counter's value.
    pub fn get(c: &AtomicU64) -> u64 {
        c.load(Ordering::Relaxed)
    }
}

/// The firewall: rules, waiting connections, kept decisions, the redirect
/// handle, the clock.
pub struct Firewall {
    rules: [Slot<5>; RULES],
    redirects: [Slot<8>; REDIRECTS],
    binds: [Slot<4>; BINDS],
    waiting: [Waiting; WAITING],
    decided: [Slot<5>; DECIDED],
    default: AtomicU8,
    timeout: AtomicU64,
    now: AtomicU64,
    /// Counters.
    pub stats: Stats,
    /// The driver's redirect handle (`FwpsRedirectHandleCreate0`), set in
    /// `DriverEntry`, taken out and destroyed at unload.
    pub redirect_handle: RedirectHandleCell,
}

/// The firewall the callouts use.
pub static FIREWALL: Firewall = Firewall::new();

impl Default for Firewall {
    fn default() -> Firewall {
        Firewall::new()
    }
}

impl Firewall {
    /// An empty firewall: no rules, default block, timeout
    /// [`DEFAULT_TIMEOUT`].
    pub const fn new() -> Firewall {
        Firewall {
            rules: [const { Slot::new() }; RULES],
            redirects: [const { Slot::new() }; REDIRECTS],
            binds: [const { Slot::new() }; BINDS],
            waiting: [const { Waiting { slot: Slot::new(), pend: PendSlot::new() } }; WAITING],
            decided: [const { Slot::new() }; DECIDED],
            default: AtomicU8::new(2),
            timeout: AtomicU64::new(DEFAULT_TIMEOUT),
            now: AtomicU64::new(0),
            stats: Stats::new(),
            redirect_handle: RedirectHandleCell::new(),
        }
    }

    /// Adds a rule: connections `m` matches get `verdict` (the first rule
    /// added that matches decides). False when the table is full.
    pub fn add_rule(&self, m: Match, verdict: Verdict) -> bool {
        let [a, b, c, d] = m.encode();
        self.rules.iter().any(|s| s.fill([a, b, c, d, verdict.to_u64()]))
    }

    /// Adds a redirect rule: connects `m` matches go to `to`, marked for
    /// the local proxy of process `proxy_pid` (0: no proxy). False when
    /// the table is full.
    pub fn add_redirect(&self, m: Match, to: SocketAddr, proxy_pid: u32) -> bool {
        let [a, b, c, d] = m.encode();
        let (hi, lo, v6) = addr_words(to.ip());
        let port = u64::from(to.port()) | (u64::from(v6) << 16);
        self.redirects.iter().any(|s| s.fill([a, b, c, d, hi, lo, port, u64::from(proxy_pid)]))
    }

    /// Adds a bind rule: sockets of `app` of `local`'s family bind to
    /// `local` (the tunnel interface's address). False when full.
    pub fn add_bind(&self, app: App, local: IpAddr) -> bool {
        let (hi, lo, v6) = addr_words(local);
        self.binds.iter().any(|s| s.fill([app.0, hi, lo, u64::from(v6)]))
    }

    /// The decision when no rule matches before the timeout.
    pub fn set_default(&self, v: Verdict) {
        self.default.store(v.to_u64() as u8, Ordering::Relaxed);
    }

    /// The default.
    pub fn default_verdict(&self) -> Verdict {
        Verdict::from_u64(u64::from(self.default.load(Ordering::Relaxed)))
    }

    /// How many ticks a connection waits for a rule before the default.
    pub fn set_timeout(&self, ticks: u64) {
        self.timeout.store(ticks, Ordering::Relaxed);
    }

    /// Removes every rule, redirect and bind rule and kept decision, and
    /// sets the default, the timeout, the clock and the counters back
    /// (connections waiting stay waiting).
    pub fn reset(&self) {
        for s in &self.rules {
            Self::clear(s);
        }
        for s in &self.redirects {
            Self::clear(s);
        }
        for s in &self.binds {
            Self::clear(s);
        }
        for s in &self.decided {
            Self::clear(s);
        }
        self.set_default(Verdict::Block);
        self.set_timeout(DEFAULT_TIMEOUT);
        self.now.store(0, Ordering::Relaxed);
        for c in self.stats.all() {
            c.store(0, Ordering::Relaxed);
        }
    }

    fn clear<const N: usize>(s: &Slot<N>) {
        if let Some((seen, _)) = s.read()
            && s.take(seen)
        {
            s.free();
        }
    }

    /// The verdict of the first rule that matches `c`.
    pub fn rule_for(&self, c: &Conn) -> Option<Verdict> {
        self.rules.iter().find_map(|s| {
            let (_, v) = s.read()?;
            Match::decode(&v[..4])?.matches(c).then(|| Verdict::from_u64(v[4]))
        })
    }

    /// Where a redirect rule sends `c`, and the proxy's process id.
    pub fn redirect_for(&self, c: &Conn) -> Option<(SocketAddr, u32)> {
        self.redirects.iter().find_map(|s| {
            let (_, v) = s.read()?;
            if !Match::decode(&v[..4])?.matches(c) {
                return None;
            }
            let to = SocketAddr::new(addr_of(v[4], v[5], v[6] >> 16 & 1 == 1), v[6] as u16);
            Some((to, v[7] as u32))
        })
    }

    /// The local address a bind rule gives `app`'s sockets of the family.
    pub fn bind_for(&self, app: App, v6: bool) -> Option<IpAddr> {
        self.binds.iter().find_map(|s| {
            let (_, v) = s.read()?;
            (v[0] == app.0 && (v[3] == 1) == v6).then(|| addr_of(v[1], v[2], v6))
        })
    }

    /// A waiting slot for a connection about to be pended; `None` when
    /// every one is taken.
    pub fn claim(&self) -> Option<Claim<'_>> {
        let now = self.now.load(Ordering::Acquire);
        let waiting = self.waiting.iter().find(|w| w.slot.claim())?;
        Some(Claim { waiting, now, filled: false })
    }

    /// How many connections wait for a decision.
    pub fn waiting(&self) -> usize {
        self.waiting.iter().filter(|w| w.slot.read().is_some()).count()
    }

    /// The connections waiting (for tests and diagnostics), at most `N`.
    pub fn waiting_conns<const N: usize>(&self) -> [Option<Conn>; N] {
        let mut out = [None; N];
        for (o, w) in out.iter_mut().zip(self.waiting.iter().filter_map(|w| w.slot.read())) {
            *o = Conn::decode(&w.1[..4]);
        }
        out
    }

    /// One tick of the clock: each waiting connection a rule matches now is
    /// completed with the rule's verdict; each that waited the timeout
    /// with the default. Returns how many were completed.
    pub fn tick(&self) -> usize {
        let now = self.now.fetch_add(1, Ordering::AcqRel).wrapping_add(1);
        let timeout = self.timeout.load(Ordering::Relaxed);
        let mut done = 0;
        for w in &self.waiting {
            let Some((seen, v)) = w.slot.read() else { continue };
            let Some(conn) = Conn::decode(&v[..4]) else { continue };
            let (verdict, timed_out) = match self.rule_for(&conn) {
                Some(verdict) => (verdict, false),
                None if now.wrapping_sub(v[4]) >= timeout => (self.default_verdict(), true),
                None => continue,
            };
            if self.finish(w, seen, conn, verdict) {
                done += 1;
                if timed_out {
                    self.stats.timed_out.fetch_add(1, Ordering::Relaxed);
                }
            }
        }
        done
    }

    /// Completes every waiting connection with the default (unload: no
    /// connection may stay pended once the driver is gone). Returns how
    /// many.
    pub fn complete_all(&self) -> usize {
        let default = self.default_verdict();
        let mut done = 0;
        for w in &self.waiting {
            let Some((seen, v)) = w.slot.read() else { continue };
            let Some(conn) = Conn::decode(&v[..4]) else { continue };
            done += usize::from(self.finish(w, seen, conn, default));
        }
        for s in &self.decided {
            Self::clear(s);
        }
        done
    }

    /// Takes a waiting slot read in state `seen` and completes its pend
    /// with `verdict`, keeping the verdict first for an outbound
    /// connection's re-authorization (which the engine may run from
    /// inside the completion).
    fn finish(&self, w: &Waiting, seen: u32, conn: Conn, verdict: Verdict) -> bool {
        if !w.slot.take(seen) {
            return false; // another tick (or unload) took it
        }
        let pended = w.pend.take();
        if !conn.inbound {
            self.keep(&conn, verdict);
        }
        w.slot.free();
        let Some(pended) = pended else { return false };
        match verdict {
            Verdict::Permit => self.stats.permitted.fetch_add(1, Ordering::Relaxed),
            Verdict::Block => self.stats.blocked.fetch_add(1, Ordering::Relaxed),
        };
        pended.complete(verdict.into());
        true
    }

    /// Keeps `verdict` for `c`'s re-authorization; when the table is full,
    /// the entry the connection hashes to makes room.
    fn keep(&self, c: &Conn, verdict: Verdict) {
        let [a, b, x, d] = c.encode();
        let value = [a, b, x, d, verdict.to_u64()];
        if self.decided.iter().any(|s| s.fill(value)) {
            return;
        }
        let victim = &self.decided[(a ^ b ^ x ^ d) as usize % DECIDED];
        Self::clear(victim);
        let _ = victim.fill(value);
    }

    /// The decision kept for `c`, taken (a re-authorization uses it once).
    pub fn take_decided(&self, c: &Conn) -> Option<Verdict> {
        self.decided.iter().find_map(|s| {
            let (seen, v) = s.read()?;
            if Conn::decode(&v[..4])? != *c || !s.take(seen) {
                return None;
            }
            s.free();
            Some(Verdict::from_u64(v[4]))
        })
    }
}
