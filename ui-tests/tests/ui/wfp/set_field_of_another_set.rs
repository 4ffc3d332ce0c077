// Misuse: a callout serving the four transport layers reads a field
// through another set's index table (the IP packet layers'): the indices
// are those of other layers. A set's fields are read only by a classify of
// that set.
// Raw twin: none the verifier can see — the wrong index reads another
// field's value; the typed path is ndis-safe tests/wfp_layers.rs.
use ui_tests::wfp::callout::MultiLayerCallout;
use ui_tests::wfp::classify::Classify;
use ui_tests::wfp::decision::{Action, Decided};
use ui_tests::wfp::layer::{IppacketLayers, TransportLayers};

enum Inspect {}

impl MultiLayerCallout for Inspect {
    type Layers = TransportLayers;
    fn classify<'c>(c: Classify<'c, TransportLayers>, action: Action<'c>) -> Decided<'c> {
        let _interface = c.get(IppacketLayers::INTERFACE_INDEX);
        match action {
            Action::Writable(w) => w.continue_(),
            Action::ReadOnly(r) => r.leave(),
        }
    }
}

fn main() {}
