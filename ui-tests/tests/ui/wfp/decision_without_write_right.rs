// Misuse: permitting when a higher-priority filter cleared
// FWPS_RIGHT_ACTION_WRITE (only a veto — a block — is allowed then): a
// `ReadOnly` action has no `permit`.
// Raw twin: ndis-sim tests/wfp_engine.rs `writing_the_action_without_the_right_is_reported`.
use ui_tests::wfp::callout::Callout;
use ui_tests::wfp::classify::Classify;
use ui_tests::wfp::decision::{Action, Decided};
use ui_tests::wfp::layer::InboundTransportV4;

struct Allow;

impl Callout for Allow {
    type Layer = InboundTransportV4;
    fn classify<'c>(_: Classify<'c, InboundTransportV4>, action: Action<'c>) -> Decided<'c> {
        match action {
            Action::Writable(w) => w.permit(),
            Action::ReadOnly(r) => r.permit(),
        }
    }
}

fn main() {}
