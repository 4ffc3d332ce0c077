// Misuse: a callout serving the four transport layers reads a field of a
// layer outside its set (the inbound IP packet layer's interface index):
// its index would name another field, or none, at every layer the classify
// can be at. A field of a layer the set does not hold does not compile.
// Raw twin: none the verifier can see — indexing `incomingValue[]` with
// another layer's FWPS_FIELD_* enumerator reads whatever value sits there
// (or, past `valueCount`, memory the engine never wrote); the typed path is
// ndis-safe tests/wfp_layers.rs.
use ui_tests::wfp::callout::MultiLayerCallout;
use ui_tests::wfp::classify::Classify;
use ui_tests::wfp::decision::{Action, Decided};
use ui_tests::wfp::layer::{InboundIppacketV4, TransportLayers};

enum Inspect {}

impl MultiLayerCallout for Inspect {
    type Layers = TransportLayers;
    fn classify<'c>(c: Classify<'c, TransportLayers>, action: Action<'c>) -> Decided<'c> {
        let _interface = c.get(InboundIppacketV4::INTERFACE_INDEX);
        match action {
            Action::Writable(w) => w.continue_(),
            Action::ReadOnly(r) => r.leave(),
        }
    }
}

fn main() {}
