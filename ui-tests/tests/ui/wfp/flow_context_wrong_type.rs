// Misuse: associating a flow context of another type than the one the
// callout's table holds (and so reading it, in later classifies and in
// flowDeleteFn, as the wrong type): tables are typed.
// Raw twin: none the verifier can see — a UINT64 context cast to the wrong
// pointer type is undefined behaviour the simulator cannot observe; the
// typed path is ndis-safe tests/wfp_flow.rs.
use ui_tests::wfp::callout::{Callout, Registration};
use ui_tests::wfp::classify::Classify;
use ui_tests::wfp::decision::{Action, Decided};
use ui_tests::wfp::flow::FlowTable;
use ui_tests::wfp::layer::StreamV4;

struct Conn {
    bytes: u64,
}
struct Other;

static FLOWS: FlowTable<Conn, 8> = FlowTable::new();

struct Stream;

impl Callout for Stream {
    type Layer = StreamV4;
    fn classify<'c>(c: Classify<'c, StreamV4>, action: Action<'c>) -> Decided<'c> {
        let _ = FLOWS.with(&c, |conn| conn.bytes);
        match action {
            Action::Writable(w) => w.continue_(),
            Action::ReadOnly(r) => r.leave(),
        }
    }
}

fn associate(flow: u64, callout: &Registration<Stream>) {
    let _ = FLOWS.associate(flow, callout, Other);
}

fn main() {
    let _ = associate;
}
