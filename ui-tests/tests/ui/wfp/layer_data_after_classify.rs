// Misuse: keeping the NBL a classify was lent, to use after classify
// returns (the stack has taken it back): the layer data lives for the
// classify call only.
// Raw twin: ndis-sim tests/wfp_engine.rs `using_layer_data_after_classify_returns_is_reported`.
use ui_tests::BorrowedNbl;
use ui_tests::wfp::callout::Callout;
use ui_tests::wfp::classify::Classify;
use ui_tests::wfp::decision::{Action, Decided};
use ui_tests::wfp::layer::InboundTransportV4;

/// Keeps a packet for later (a worker's queue).
fn keep(_packet: BorrowedNbl<'static>) {}

struct Keep;

impl Callout for Keep {
    type Layer = InboundTransportV4;
    fn classify<'c>(mut c: Classify<'c, InboundTransportV4>, action: Action<'c>) -> Decided<'c> {
        if let Some(packet) = c.take_data() {
            keep(packet);
        }
        match action {
            Action::Writable(w) => w.continue_(),
            Action::ReadOnly(r) => r.leave(),
        }
    }
}

fn main() {}
