//! One classify call, typed by its layer (or its layer set): the incoming
//! values by field name, the metadata through presence-checked accessors,
//! the layer data lent for the call, and the filter that sent the packet.

use core::ffi::c_void;
use core::marker::PhantomData;

use fwps_sys::*;

use crate::wfp::fields::FieldOf;
use crate::wfp::layer::{DataKind, DataOffset, Family, Layers, MemberOf};
use crate::wfp::value::FieldType;

/// What a classify call was given, for layer `L` (or, for a layer set, the
/// layer of `L` the engine named), valid for the call `'c`.
///
/// # Invariants
///
/// `values` is the engine's record of incoming values for this call (the
/// layer's `FWPS_FIELDS_*` order; its `incomingValue` array holds
/// `valueCount` of them), `meta` its metadata, both valid for `'c`; `classify_context` is the engine's (NULL for a version-0
/// callout); the layer id `layer` was checked to be the one at `position`
/// of `L` (`L::ID` for a single layer).
pub struct Classify<'c, L: Layers> {
    values: &'c FWPS_INCOMING_VALUES0,
    meta: &'c FWPS_INCOMING_METADATA_VALUES0,
    data: Option<<L::Kind as DataKind>::Data<'c>>,
    pub(crate) classify_context: *const c_void,
    pub(crate) filter: FilterInfo,
    flow_context: u64,
    layer: u16,
    position: u8,
    _l: PhantomData<L>,
}

/// The filter that sent the packet to the callout.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct FilterInfo {
    /// `filterId`.
    pub id: u64,
    /// `flags` (`FWPS_FILTER_FLAG_*`).
    pub flags: u16,
    /// `context`: the filter's `rawContext`, if the management API set one.
    pub context: u64,
    /// `subLayerWeight`.
    pub sublayer_weight: u16,
}

#[allow(unsafe_code, reason = "building the view over the engine's records")]
impl<'c, L: Layers> Classify<'c, L> {
    /// The view of one classify call, or `None` when the values are not
    /// `L`'s (another layer id).
    ///
    /// # Safety
    ///
    /// The pointers are what the engine passed classify, valid for `'c`
    /// (`values` and `meta` never NULL: the engine always passes both);
    /// `layer_data` is this layer's kind of data.
    pub(crate) unsafe fn from_raw(
        values: *const FWPS_INCOMING_VALUES0,
        meta: *const FWPS_INCOMING_METADATA_VALUES0,
        layer_data: *mut c_void,
        classify_context: *const c_void,
        filter: FilterInfo,
        flow_context: u64,
    ) -> Option<Classify<'c, L>> {
        // SAFETY: the caller's guarantee: valid for 'c, never NULL.
        let values = unsafe { &*values };
        // SAFETY: as above.
        let meta = unsafe { &*meta };
        let layer = values.layerId;
        let position = L::position(layer)?;
        // SAFETY: the caller's guarantee for the layer data.
        let data = unsafe { L::Kind::from_raw(layer_data) };
        Some(Classify { values, meta, data, classify_context, filter, flow_context, layer, position, _l: PhantomData })
    }

    /// The view as one of the set `S` that `L` is a member of (what a
    /// [`MultiLayerCallout`](crate::wfp::callout::MultiLayerCallout)'s
    /// classify is given).
    #[inline(always)]
    pub fn into_set<S: Layers>(self) -> Classify<'c, S>
    where
        L: MemberOf<S>,
    {
        Classify {
            values: self.values,
            meta: self.meta,
            data: self.data,
            classify_context: self.classify_context,
            filter: self.filter,
            flow_context: self.flow_context,
            layer: self.layer,
            position: <L as MemberOf<S>>::POSITION,
            _l: PhantomData,
        }
    }

    /// The layer's position in `L` (0 for a single layer, known at compile
    /// time then).
    #[inline(always)]
    fn position(&self) -> u8 {
        if L::COUNT == 1 { 0 } else { self.position }
    }

    /// The incoming value of `field`, typed; `None` when the engine passed
    /// fewer values, or one of another type than the field's, or (for a
    /// field of one layer of a set) the classify is at another layer of the
    /// set.
    ///
    /// `field` is a field of `L` ([`InboundTransportV4::IP_REMOTE_PORT`](crate::wfp::layer::InboundTransportV4::IP_REMOTE_PORT)),
    /// a field every layer of the set `L` has
    /// ([`TransportLayers::IP_REMOTE_PORT`](crate::wfp::layer::TransportLayers::IP_REMOTE_PORT)),
    /// or a field of one layer of the set `L`; a field of a layer outside
    /// `L` does not compile.
    #[inline]
    pub fn get<F: FieldOf<L>>(&self, field: F) -> Option<<F::Type as FieldType>::Value<'c>> {
        let index = field.index_at(self.position())?;
        if index >= self.values.valueCount {
            return None;
        }
        // SAFETY: the invariant: the engine's array holds `valueCount`
        // values, valid for 'c (a non-zero count promises the array).
        let value: &'c FWPS_INCOMING_VALUE0 = unsafe { &*self.values.incomingValue.add(index as usize) };
        F::Type::read(&value.value)
    }

    /// The run-time id of the layer the classify is at
    /// (`inFixedValues->layerId`; `L::ID` for a single layer).
    #[inline]
    pub fn layer_id(&self) -> u16 {
        self.layer
    }

    /// Whether the classify is at the layer `M` of the set.
    #[inline]
    pub fn is<M: MemberOf<L>>(&self) -> bool {
        self.position() == M::POSITION
    }

    /// The address family of the layer the classify is at.
    #[inline]
    pub fn family(&self) -> Family {
        L::family_at(self.position())
    }

    /// Where the packet data of the layer the classify is at starts.
    #[inline]
    pub fn data_offset(&self) -> DataOffset {
        L::data_offset_at(self.position())
    }

    /// How many incoming values the engine passed.
    #[inline]
    pub fn value_count(&self) -> usize {
        self.values.valueCount as usize
    }

    /// The layer data, lent for this call (`None` when the engine passed
    /// NULL).
    #[inline]
    pub fn data(&mut self) -> Option<&mut <L::Kind as DataKind>::Data<'c>> {
        self.data.as_mut()
    }

    /// Takes the layer data out of the view (it stays lent for `'c` only).
    #[inline]
    pub fn take_data(&mut self) -> Option<<L::Kind as DataKind>::Data<'c>> {
        self.data.take()
    }

    /// The filter that sent the packet here.
    #[inline]
    pub fn filter(&self) -> FilterInfo {
        self.filter
    }

    /// The flow context associated with this flow for this callout
    /// (`FwpsFlowAssociateContext0`), 0 if none.
    #[inline]
    pub fn flow_context(&self) -> u64 {
        self.flow_context
    }

    /// Whether the classify can be pended with a classify handle (the
    /// callout was registered with `FwpsCalloutRegister1` or later, which
    /// pass a classify context).
    #[inline]
    pub fn can_pend(&self) -> bool {
        !self.classify_context.is_null()
    }

    #[inline]
    fn has(&self, field: u32) -> bool {
        self.meta.currentMetadataValues & field != 0
    }

    /// The metadata's `flags` (`FWP_CONDITION_FLAG_*` of the packet).
    #[inline]
    pub fn metadata_flags(&self) -> u32 {
        self.meta.flags
    }

    /// `ipHeaderSize`, if present.
    #[inline]
    pub fn ip_header_size(&self) -> Option<u32> {
        self.has(FWPS_METADATA_FIELD_IP_HEADER_SIZE).then_some(self.meta.ipHeaderSize)
    }

    /// `transportHeaderSize`, if present.
    #[inline]
    pub fn transport_header_size(&self) -> Option<u32> {
        self.has(FWPS_METADATA_FIELD_TRANSPORT_HEADER_SIZE).then_some(self.meta.transportHeaderSize)
    }

    /// `flowHandle` (the flow id for `FwpsFlowAssociateContext0`), if present.
    #[inline]
    pub fn flow_handle(&self) -> Option<u64> {
        self.has(FWPS_METADATA_FIELD_FLOW_HANDLE).then_some(self.meta.flowHandle)
    }

    /// `processId`, if present.
    #[inline]
    pub fn process_id(&self) -> Option<u64> {
        self.has(FWPS_METADATA_FIELD_PROCESS_ID).then_some(self.meta.processId)
    }

    /// `processPath` (UTF-16 bytes), if present.
    #[inline]
    pub fn process_path(&self) -> Option<&'c [u8]> {
        if !self.has(FWPS_METADATA_FIELD_PROCESS_PATH) {
            return None;
        }
        // SAFETY: present, so the engine's blob is valid for the call.
        unsafe { crate::wfp::value::blob_at(self.meta.processPath) }
    }

    /// `token`, if present.
    #[inline]
    pub fn token(&self) -> Option<u64> {
        self.has(FWPS_METADATA_FIELD_TOKEN).then_some(self.meta.token)
    }

    /// `sourceInterfaceIndex`, if present.
    #[inline]
    pub fn source_interface_index(&self) -> Option<u32> {
        self.has(FWPS_METADATA_FIELD_SOURCE_INTERFACE_INDEX).then_some(self.meta.sourceInterfaceIndex)
    }

    /// `destinationInterfaceIndex`, if present.
    #[inline]
    pub fn destination_interface_index(&self) -> Option<u32> {
        self.has(FWPS_METADATA_FIELD_DESTINATION_INTERFACE_INDEX).then_some(self.meta.destinationInterfaceIndex)
    }

    /// `compartmentId`, if present.
    #[inline]
    pub fn compartment_id(&self) -> Option<u32> {
        self.has(FWPS_METADATA_FIELD_COMPARTMENT_ID).then_some(self.meta.compartmentId)
    }

    /// `pathMtu`, if present.
    #[inline]
    pub fn path_mtu(&self) -> Option<u32> {
        self.has(FWPS_METADATA_FIELD_PATH_MTU).then_some(self.meta.pathMtu)
    }

    /// `transportEndpointHandle`, if present.
    #[inline]
    pub fn transport_endpoint_handle(&self) -> Option<u64> {
        self.has(FWPS_METADATA_FIELD_TRANSPORT_ENDPOINT_HANDLE).then_some(self.meta.transportEndpointHandle)
    }

    /// `remoteScopeId` (its raw `Value`), if present.
    #[inline]
    pub fn remote_scope_id(&self) -> Option<u32> {
        // SAFETY: SCOPE_ID is a union of a ULONG and bit fields over it;
        // reading the ULONG is always defined.
        let value = unsafe { self.meta.remoteScopeId.__bindgen_anon_1.Value };
        self.has(FWPS_METADATA_FIELD_REMOTE_SCOPE_ID).then_some(value)
    }

    /// `controlData` (the socket's ancillary data, `WSACMSGHDR`s), as bytes,
    /// if present.
    #[inline]
    pub fn control_data(&self) -> Option<&'c [u8]> {
        if !self.has(FWPS_METADATA_FIELD_TRANSPORT_CONTROL_DATA) {
            return None;
        }
        let ptr = self.meta.controlData.cast::<u8>();
        if ptr.is_null() {
            return None;
        }
        // SAFETY: present: the engine's buffer holds `controlDataLength`
        // bytes for the call.
        Some(unsafe { core::slice::from_raw_parts(ptr, self.meta.controlDataLength as usize) })
    }

    /// `packetDirection` (`FWP_DIRECTION_*`), if present.
    #[inline]
    pub fn packet_direction(&self) -> Option<i32> {
        self.has(FWPS_METADATA_FIELD_PACKET_DIRECTION).then_some(self.meta.packetDirection)
    }

    /// `completionHandle` (for `FwpsPendOperation0`), if present.
    #[inline]
    pub fn completion_handle(&self) -> Option<HANDLE> {
        self.has(FWPS_METADATA_FIELD_COMPLETION_HANDLE).then_some(self.meta.completionHandle)
    }

    /// `parentEndpointHandle`, if present.
    #[inline]
    pub fn parent_endpoint_handle(&self) -> Option<u64> {
        self.has(FWPS_METADATA_FIELD_PARENT_ENDPOINT_HANDLE).then_some(self.meta.parentEndpointHandle)
    }

    /// `icmpIdAndSequence`, if present.
    #[inline]
    pub fn icmp_id_and_sequence(&self) -> Option<u32> {
        self.has(FWPS_METADATA_FIELD_ICMP_ID_AND_SEQUENCE).then_some(self.meta.icmpIdAndSequence)
    }

    /// `redirectRecords` (at the connect-redirect layers), if present: what
    /// [`RedirectHandle::state`](crate::wfp::redirect::RedirectHandle::state)
    /// queries.
    #[inline]
    pub fn redirect_records(&self) -> Option<HANDLE> {
        self.has(FWPS_METADATA_FIELD_REDIRECT_RECORD_HANDLE).then_some(self.meta.redirectRecords)
    }

    /// `localRedirectTargetPID`, if present.
    #[inline]
    pub fn local_redirect_target_pid(&self) -> Option<u32> {
        self.has(FWPS_METADATA_FIELD_LOCAL_REDIRECT_TARGET_PID).then_some(self.meta.localRedirectTargetPID)
    }

    /// How many bytes to retreat the layer's NBL by to reach the IP header,
    /// from the layer's documented data offset and the header sizes in the
    /// metadata; `None` when the layer has no fixed offset or a size it
    /// needs is absent.
    #[inline]
    pub fn bytes_to_ip_header(&self) -> Option<u32> {
        match self.data_offset() {
            DataOffset::IpHeader => Some(0),
            DataOffset::TransportHeader => self.ip_header_size(),
            DataOffset::Payload => self.ip_header_size()?.checked_add(self.transport_header_size()?),
            DataOffset::Unspecified => None,
        }
    }
}
