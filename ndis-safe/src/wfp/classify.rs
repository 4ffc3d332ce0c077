//! One classify call, typed by its layer: the incoming values by field
//! name, the metadata through presence-checked accessors, the layer data
//! lent for the call, and the filter that sent the packet.

use core::ffi::c_void;
use core::marker::PhantomData;

use fwps_sys::*;

use crate::wfp::fields::Field;
use crate::wfp::layer::{DataKind, DataOffset, Layer};
use crate::wfp::value::FieldType;

/// What a classify call was given, for layer `L`, valid for the call `'c`.
///
/// # Invariants
///
/// `values` are the engine's incoming values for this call (the layer's
/// `FWPS_FIELDS_*` order; `valueCount` of them), `meta` its metadata, both
/// valid for `'c`; `classify_context` is the engine's (NULL for a version-0
/// callout); the layer id was checked to be `L::ID`.
pub struct Classify<'c, L: Layer> {
    values: &'c [FWPS_INCOMING_VALUE0],
    meta: &'c FWPS_INCOMING_METADATA_VALUES0,
    data: Option<<L::Kind as DataKind>::Data<'c>>,
    pub(crate) classify_context: *const c_void,
    pub(crate) filter: FilterInfo,
    flow_context: u64,
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
impl<'c, L: Layer> Classify<'c, L> {
    /// The view of one classify call, or `None` when the values are not
    /// `L`'s (another layer id).
    ///
    /// # Safety
    ///
    /// The pointers are what the engine passed classify, valid for `'c`;
    /// `layer_data` is this layer's kind of data.
    pub(crate) unsafe fn from_raw(
        values: *const FWPS_INCOMING_VALUES0,
        meta: *const FWPS_INCOMING_METADATA_VALUES0,
        layer_data: *mut c_void,
        classify_context: *const c_void,
        filter: FilterInfo,
        flow_context: u64,
    ) -> Option<Classify<'c, L>> {
        // SAFETY: the caller's guarantee: NULL or valid for 'c.
        let values = unsafe { values.as_ref() }?;
        // SAFETY: as above.
        let meta = unsafe { meta.as_ref() }?;
        if values.layerId != L::ID {
            return None;
        }
        let slice = if values.incomingValue.is_null() || values.valueCount == 0 {
            &[][..]
        } else {
            // SAFETY: the engine's array holds `valueCount` values, valid for 'c.
            unsafe { core::slice::from_raw_parts(values.incomingValue, values.valueCount as usize) }
        };
        // SAFETY: the caller's guarantee for the layer data.
        let data = unsafe { L::Kind::from_raw(layer_data) };
        Some(Classify { values: slice, meta, data, classify_context, filter, flow_context, _l: PhantomData })
    }

    /// The incoming value of `field`, typed; `None` when the engine passed
    /// fewer values, or one of another type than the field's.
    #[inline]
    pub fn get<T: FieldType>(&self, field: Field<L, T>) -> Option<T::Value<'c>> {
        let value: &'c FWPS_INCOMING_VALUE0 = self.values.get(field.index() as usize)?;
        T::read(&value.value)
    }

    /// How many incoming values the engine passed.
    #[inline]
    pub fn value_count(&self) -> usize {
        self.values.len()
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
        match L::DATA_OFFSET {
            DataOffset::IpHeader => Some(0),
            DataOffset::TransportHeader => self.ip_header_size(),
            DataOffset::Payload => self.ip_header_size()?.checked_add(self.transport_header_size()?),
            DataOffset::Unspecified => None,
        }
    }
}
