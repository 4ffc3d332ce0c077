//! A small, reproducible random generator for fuzz and model tests that
//! drive the simulator (xorshift64*): a seed gives the same run on every
//! host, so a failing seed is a regression test. [`episodes`] runs a fuzz
//! test's episodes, each in a verifier session of its own.

/// xorshift64*.
#[derive(Debug, Clone)]
pub struct Rng(u64);

impl Rng {
    /// A generator from `seed` (any value; made odd, as xorshift needs a
    /// state other than zero).
    pub fn new(seed: u64) -> Rng {
        Rng(seed | 1)
    }

    /// The next 64 random bits.
    pub fn next_u64(&mut self) -> u64 {
        self.0 ^= self.0 >> 12;
        self.0 ^= self.0 << 25;
        self.0 ^= self.0 >> 27;
        self.0.wrapping_mul(0x2545_F491_4F6C_DD1D)
    }

    /// A number below `n` (0 when `n` is 0).
    pub fn below(&mut self, n: u64) -> u64 {
        self.next_u64() % n.max(1)
    }

    /// An index below `n` (0 when `n` is 0).
    pub fn index(&mut self, n: usize) -> usize {
        self.below(n as u64) as usize
    }

    /// True one time in `n`.
    pub fn chance(&mut self, n: u64) -> bool {
        self.below(n) == 0
    }

    /// `n` random bytes.
    pub fn bytes(&mut self, n: usize) -> Vec<u8> {
        (0..n).map(|_| self.next_u64() as u8).collect()
    }
}

/// A fuzz test's seed and time budget, from `{prefix}_SEED` (else
/// `default_seed`) and `{prefix}_SECONDS` (else none: a fixed number of
/// episodes) in the environment.
pub fn from_env(prefix: &str, default_seed: u64) -> (u64, Option<u64>) {
    let var = |name: &str| std::env::var(format!("{prefix}_{name}")).ok().and_then(|v| v.parse().ok());
    (var("SEED").unwrap_or(default_seed), var("SECONDS"))
}

/// What [`episodes`] ran.
#[derive(Debug, Clone, Copy, Default)]
pub struct Fuzzed {
    /// Episodes run.
    pub episodes: u64,
    /// Verifier reports, over all episodes.
    pub reports: usize,
    /// Leaks, over all episodes.
    pub leaks: usize,
}

/// Runs `episode` with one generator seeded `seed`, each run in a
/// verifier session of its own, for `seconds` when given, else `count`
/// times; panics, naming the seed, at the first episode with a verifier
/// report or a leak.
pub fn episodes(seed: u64, seconds: Option<u64>, count: u64, mut episode: impl FnMut(&mut Rng)) -> Fuzzed {
    let mut rng = Rng::new(seed);
    let mut out = Fuzzed::default();
    let start = std::time::Instant::now();
    loop {
        match seconds {
            Some(s) if start.elapsed().as_secs() >= s => break,
            None if out.episodes >= count => break,
            _ => {}
        }
        let session = crate::Session::collecting();
        episode(&mut rng);
        out.episodes += 1;
        let (reports, leaks) = (session.reports(), session.leaks());
        out.reports += reports.len();
        out.leaks += leaks.len();
        assert!(reports.is_empty(), "seed {seed}: {reports:#?}");
        assert!(leaks.is_empty(), "seed {seed}: {leaks}");
    }
    out
}
