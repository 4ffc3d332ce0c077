//! Driver-side instruction counts from callgrind.
//!
//! A workload runs under callgrind with collection switched on only inside
//! its root function (`--toggle-collect=ROOT`) and every cost kept apart by
//! the whole chain of callers that led to it (`--separate-callers`). Each
//! function is then classified by the crate that defines it:
//!
//! * **simulator**: functions of `ndis-sim` (its internals, its test API)
//!   and the DDI entry points it exports under their Windows names (every
//!   `#[no_mangle]` function in `ndis-sim/src`: `Ndis*`, `Fwps*`, …);
//! * **driver**: functions of the driver's crates (`ndis_safe`, the bench
//!   itself, the sample) and the workload's root;
//! * **neutral**: everything else (`core`, `alloc`, `std`, libc's `memcpy`,
//!   the -sys crates' accessors): it runs on behalf of whoever called it.
//!
//! An instruction is the driver's when the nearest classified function on
//! its call chain (itself first, then its caller, and so on) is driver code:
//! so a DDI's whole body, and the allocator and formatting it calls, is the
//! simulator's; a completion routine the simulator calls back is the
//! driver's again, and the DDIs it calls are the simulator's again.
//!
//! The same profile also gives the figure the call-graph way — the root's
//! inclusive cost, minus the inclusive cost of every call from driver code
//! into the simulator, plus every call from the simulator back into driver
//! code — which must agree to the instruction ([`Split::by_call_graph`]).

use std::collections::{BTreeMap, HashMap, HashSet};
use std::path::Path;
use std::process::Command;

use crate::Error;

/// Which side of the DDI boundary a function is on.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Side {
    /// The driver's own code.
    Driver,
    /// The simulator: the DDIs and everything behind them.
    Simulator,
    /// Runs for whoever calls it.
    Neutral,
}

/// The classification of function names.
#[derive(Debug, Default)]
pub struct Sides {
    /// Crates whose functions are the simulator's (`ndis_sim`).
    pub simulator_crates: Vec<String>,
    /// Unmangled symbols the simulator exports (the DDIs).
    pub simulator_symbols: HashSet<String>,
    /// Crates whose functions are the driver's.
    pub driver_crates: Vec<String>,
    /// Unmangled driver symbols (the workload roots).
    pub driver_symbols: HashSet<String>,
}

impl Sides {
    /// The sides for `ndis-sim` in `root`'s workspace, with `driver_crates`
    /// and `roots` as the driver's.
    pub fn for_workspace(root: &Path, driver_crates: &[&str], roots: &[&str]) -> Result<Self, Error> {
        Ok(Sides {
            simulator_crates: vec!["ndis_sim".to_owned()],
            simulator_symbols: exported_symbols(&root.join("ndis-sim").join("src"))?,
            driver_crates: driver_crates.iter().map(|c| (*c).to_owned()).collect(),
            driver_symbols: roots.iter().map(|r| (*r).to_owned()).collect(),
        })
    }

    /// The side of a demangled function name.
    pub fn side(&self, name: &str) -> Side {
        if self.driver_symbols.contains(name) {
            return Side::Driver;
        }
        if self.simulator_symbols.contains(name) {
            return Side::Simulator;
        }
        for krate in defining_crates(name) {
            if self.driver_crates.iter().any(|c| c == krate) {
                return Side::Driver;
            }
            if self.simulator_crates.iter().any(|c| c == krate) {
                return Side::Simulator;
            }
        }
        Side::Neutral
    }
}

/// The crates a demangled name may belong to, most specific first: for
/// `path::to::f`, `path`; for `<Type as Trait>::f`, the type's crate, then
/// the trait's.
fn defining_crates(name: &str) -> Vec<&str> {
    fn first(path: &str) -> Option<&str> {
        let path = path.trim_start_matches(['&', '*', '[', '(']);
        let path = path.strip_prefix("const ").or_else(|| path.strip_prefix("mut ")).unwrap_or(path);
        let path = path.strip_prefix("dyn ").unwrap_or(path);
        path.split_once("::").map(|(krate, _)| krate)
    }
    match name.strip_prefix('<') {
        Some(rest) => {
            let (ty, tr) = match rest.split_once(" as ") {
                Some((ty, tr)) => (ty, Some(tr)),
                None => (rest, None),
            };
            first(ty).into_iter().chain(tr.and_then(first)).collect()
        }
        None => first(name).into_iter().collect(),
    }
}

/// The `#[no_mangle]` functions defined in the `.rs` files under `dir`.
fn exported_symbols(dir: &Path) -> Result<HashSet<String>, Error> {
    let mut out = HashSet::new();
    let entries = std::fs::read_dir(dir).map_err(|e| Error::new(format!("cannot read {}: {e}", dir.display())))?;
    for entry in entries {
        let path = entry.map_err(|e| Error::new(e.to_string()))?.path();
        if path.is_dir() {
            out.extend(exported_symbols(&path)?);
            continue;
        }
        if path.extension().is_none_or(|e| e != "rs") {
            continue;
        }
        let text =
            std::fs::read_to_string(&path).map_err(|e| Error::new(format!("cannot read {}: {e}", path.display())))?;
        let mut exported = false;
        for line in text.lines().map(str::trim) {
            if line.contains("no_mangle") {
                exported = true;
            } else if exported && let Some((_, rest)) = line.split_once("fn ") {
                let name: String = rest.chars().take_while(|c| c.is_alphanumeric() || *c == '_').collect();
                out.insert(name);
                exported = false;
            }
        }
    }
    Ok(out)
}

/// One function in one calling context, as callgrind recorded it.
#[derive(Debug, Default)]
struct Context {
    /// The function, then its caller, its caller's caller, …
    chain: Vec<String>,
    /// Instructions executed in the function itself, by source file and
    /// line (of the innermost inlined frame).
    lines: Vec<(String, u64, u64)>,
    /// Calls made from this context: callee (its own chain, joined) and
    /// the instructions executed while the call ran.
    calls: Vec<(String, u64)>,
}

/// A parsed `callgrind.out` file (`--compress-strings=no`,
/// `--compress-pos=no`).
#[derive(Debug, Default)]
pub struct Profile {
    contexts: Vec<Context>,
    /// The instructions collected.
    pub total: u64,
}

impl Profile {
    /// Parses the text of a `callgrind.out` file.
    pub fn parse(text: &str) -> Result<Self, Error> {
        let mut profile = Profile::default();
        let mut positions = 1usize;
        let mut file = String::new();
        let mut function_file = String::new();
        let mut callee: Option<String> = None;
        let mut call_cost_next = false;
        let mut names: HashMap<String, String> = HashMap::new();
        // Resolves callgrind's "(id) name" / "(id)" string compression.
        let mut name = |value: &str| -> String {
            match value.strip_prefix('(').and_then(|v| v.split_once(')')) {
                Some((id, rest)) if !rest.trim().is_empty() => {
                    names.insert(id.to_owned(), rest.trim().to_owned());
                    rest.trim().to_owned()
                }
                Some((id, _)) => names.get(id).cloned().unwrap_or_default(),
                None => value.to_owned(),
            }
        };
        for line in text.lines() {
            if let Some(v) = line.strip_prefix("positions:") {
                positions = v.split_whitespace().count().max(1);
            } else if let Some(v) = line.strip_prefix("summary:").or_else(|| line.strip_prefix("totals:")) {
                profile.total = v.split_whitespace().next().and_then(|n| n.parse().ok()).unwrap_or(0);
            } else if let Some(v) = line.strip_prefix("fn=") {
                let full = name(v);
                profile
                    .contexts
                    .push(Context { chain: full.split('\'').map(str::to_owned).collect(), ..Context::default() });
                file.clone_from(&function_file);
            } else if let Some(v) = line.strip_prefix("fl=") {
                function_file = name(v);
                file.clone_from(&function_file);
            } else if let Some(v) = line.strip_prefix("fi=").or_else(|| line.strip_prefix("fe=")) {
                file = name(v);
            } else if let Some(v) = line.strip_prefix("cfn=") {
                callee = Some(name(v));
            } else if line.starts_with("calls=") {
                call_cost_next = true;
            } else if line.starts_with(|c: char| c.is_ascii_digit() || c == '+' || c == '-' || c == '*') {
                let mut fields = line.split_whitespace();
                let at: u64 = fields.next().and_then(|p| p.parse().ok()).unwrap_or(0);
                let cost: u64 = fields.nth(positions - 1).and_then(|c| c.parse().ok()).unwrap_or(0);
                let Some(context) = profile.contexts.last_mut() else {
                    return Err(Error::new(format!("callgrind output: a cost line before any function: {line}")));
                };
                if call_cost_next {
                    call_cost_next = false;
                    context.calls.push((callee.take().unwrap_or_default(), cost));
                } else {
                    context.lines.push((file.clone(), at, cost));
                }
            } else if let Some(v) = line.strip_prefix("cfi=").or_else(|| line.strip_prefix("cfl=")) {
                name(v);
            } else if let Some(v) = line.strip_prefix("ob=").or_else(|| line.strip_prefix("cob=")) {
                name(v);
            }
        }
        Ok(profile)
    }

    /// Splits the collected instructions between the driver and the
    /// simulator.
    pub fn split(&self, sides: &Sides) -> Split {
        let mut memo: HashMap<String, Side> = HashMap::new();
        // The side the nearest classified function on `chain` is on.
        let mut state = |chain: &[String]| -> Option<Side> {
            chain.iter().map(|f| *memo.entry(f.clone()).or_insert_with(|| sides.side(f))).find(|s| *s != Side::Neutral)
        };
        let mut split = Split { total: self.total, ..Split::default() };
        let mut crossings: i128 = 0;
        let mut root_inclusive = 0u64;
        for context in &self.contexts {
            let here = state(&context.chain);
            let own: u64 = context.lines.iter().map(|l| l.2).sum();
            match here {
                Some(Side::Driver) => {
                    split.driver += own;
                    for (file, line, cost) in &context.lines {
                        *split.by_line.entry((file.clone(), *line)).or_default() += cost;
                    }
                    *split.by_function.entry(context.chain[0].clone()).or_default() += own;
                }
                Some(Side::Simulator) => split.simulator += own,
                _ => split.unknown += own,
            }
            for (callee, cost) in &context.calls {
                let callee_chain: Vec<String> = callee.split('\'').map(str::to_owned).collect();
                let callee_side = state(&callee_chain[..1]);
                let is_root = callee_chain.first().is_some_and(|f| sides.driver_symbols.contains(f));
                if is_root {
                    root_inclusive += cost;
                } else if here == Some(Side::Driver) && callee_side == Some(Side::Simulator) {
                    crossings -= i128::from(*cost);
                } else if here == Some(Side::Simulator) && callee_side == Some(Side::Driver) {
                    crossings += i128::from(*cost);
                }
            }
        }
        split.by_call_graph = u64::try_from(i128::from(root_inclusive) + crossings).ok();
        split
    }
}

/// The instructions of one run, split.
#[derive(Debug, Default)]
pub struct Split {
    /// Everything collected inside the root (driver and simulator).
    pub total: u64,
    /// The driver's own instructions.
    pub driver: u64,
    /// The simulator's (DDIs and everything they call).
    pub simulator: u64,
    /// Instructions whose call chain names neither side (zero unless the
    /// chains were cut short).
    pub unknown: u64,
    /// The driver's figure computed the call-graph way: the root's
    /// inclusive cost, minus calls from driver code into the simulator,
    /// plus calls from the simulator back into driver code.
    pub by_call_graph: Option<u64>,
    /// The driver's instructions by source file and line.
    pub by_line: BTreeMap<(String, u64), u64>,
    /// The driver's instructions by (non-inlined) function.
    pub by_function: BTreeMap<String, u64>,
}

/// Runs `exe args` under callgrind, collecting inside `root` only, and
/// parses the profile.
pub fn profile(exe: &Path, root: &str, args: &[&str]) -> Result<Profile, Error> {
    let out_file = std::env::temp_dir().join(format!("ndis-rs-callgrind-{root}-{}.out", std::process::id()));
    let out = Command::new("valgrind")
        .args([
            "--tool=callgrind",
            "--collect-atstart=no",
            &format!("--toggle-collect={root}"),
            "--separate-callers=200",
            "--separate-recs=1",
            "--compress-strings=no",
            "--compress-pos=no",
        ])
        .arg(format!("--callgrind-out-file={}", out_file.display()))
        .arg(exe)
        .args(args)
        .output()
        .map_err(|e| Error::new(format!("cannot run valgrind ({e}); install it (Debian: apt-get install valgrind)")))?;
    let text = std::fs::read_to_string(&out_file);
    let _ = std::fs::remove_file(&out_file);
    if !out.status.success() {
        return Err(Error::new(format!(
            "callgrind on {} {}: {}",
            exe.display(),
            args.join(" "),
            String::from_utf8_lossy(&out.stderr)
        )));
    }
    let text = text.map_err(|e| Error::new(format!("callgrind wrote no profile for {root}: {e}")))?;
    Profile::parse(&text)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn sides() -> Sides {
        Sides {
            simulator_crates: vec!["ndis_sim".into()],
            simulator_symbols: ["NdisFree".to_owned()].into(),
            driver_crates: vec!["ndis_safe".into(), "drv".into()],
            driver_symbols: ["root".to_owned()].into(),
        }
    }

    #[test]
    fn names_are_classified_by_their_defining_crate() {
        let s = sides();
        assert_eq!(s.side("root"), Side::Driver);
        assert_eq!(s.side("NdisFree"), Side::Simulator);
        assert_eq!(s.side("ndis_sim::state::with"), Side::Simulator);
        assert_eq!(s.side("<ndis_sim::state::Name as core::fmt::Display>::fmt"), Side::Simulator);
        assert_eq!(s.side("ndis_safe::wfp::<impl ndis_safe::nbl::BorrowedNbl>::clone"), Side::Driver);
        assert_eq!(s.side("<ndis_safe::Nbl as core::ops::drop::Drop>::drop"), Side::Driver);
        assert_eq!(s.side("<u64 as ndis_safe::ContextArea>::size"), Side::Driver);
        assert_eq!(s.side("<&T as core::fmt::Display>::fmt"), Side::Neutral);
        assert_eq!(s.side("core::ptr::drop_in_place<ndis_safe::Nbl>"), Side::Neutral);
        assert_eq!(s.side("memcpy"), Side::Neutral);
        assert_eq!(s.side("drv::completion"), Side::Driver);
    }

    /// A root that calls a DDI, which calls memcpy and calls the driver
    /// back; the callback calls memcpy and the DDI again. Only the root's
    /// and the callback's own instructions, and the memcpy the callback
    /// calls, are the driver's; both ways of counting agree.
    #[test]
    fn the_split_follows_the_call_chain() {
        let text = "\
positions: line
events: Ir
summary: 990

fl=a.rs
fn=root'main
3 10
cfn=NdisFree'root'main
calls=1 0
0 975
4 5

fn=NdisFree'root'main
0 100
cfn=memcpy'NdisFree'root'main
calls=1 0
0 300
cfn=drv::cb'ndis_sim::inject'NdisFree'root'main
calls=1 0
0 575

fn=memcpy'NdisFree'root'main
0 300

fl=b.rs
fn=drv::cb'ndis_sim::inject'NdisFree'root'main
fi=c.rs
7 20
fe=b.rs
8 5
cfn=memcpy'drv::cb'ndis_sim::inject'NdisFree'root'main
calls=1 0
0 50
cfn=NdisFree'drv::cb'ndis_sim::inject'NdisFree'root'main
calls=1 0
0 500

fn=memcpy'drv::cb'ndis_sim::inject'NdisFree'root'main
0 50

fn=NdisFree'drv::cb'ndis_sim::inject'NdisFree'root'main
0 500

fn=main
cfn=root'main
calls=1 0
0 990
";
        let split = Profile::parse(text).unwrap().split(&sides());
        assert_eq!(split.total, 990);
        assert_eq!(split.driver, 10 + 5 + 20 + 5 + 50);
        assert_eq!(split.simulator, 100 + 300 + 500);
        assert_eq!(split.unknown, 0);
        assert_eq!(split.by_call_graph, Some(split.driver));
        assert_eq!(split.by_line[&("c.rs".to_owned(), 7)], 20);
        assert_eq!(split.by_line[&("b.rs".to_owned(), 8)], 5);
        assert_eq!(split.by_line[&("a.rs".to_owned(), 4)], 5);
        assert_eq!(split.by_function["drv::cb"], 25);
    }
}
