public import OTLPJSON

/// The fields of a `coordination.k8s.io/v1` Lease that leader election reads.
public struct LeaseRecord: Sendable, Equatable {
    /// `spec.holderIdentity`; empty: free (released).
    public var holder: String
    /// `spec.leaseDurationSeconds`.
    public var leaseDurationSeconds: Int
    /// `spec.renewTime` as written (MicroTime text); compared only for change.
    public var renewTime: String
    /// `spec.leaseTransitions`.
    public var transitions: Int
    /// `metadata.resourceVersion`: the precondition of the next update.
    public var resourceVersion: String

    /// From a Lease object as the API serves it.
    public init(lease: JSONValue) {
        let spec = lease["spec"]
        holder = spec?["holderIdentity"]?.string ?? ""
        leaseDurationSeconds = spec?["leaseDurationSeconds"]?.int ?? 0
        renewTime = spec?["renewTime"]?.string ?? ""
        transitions = spec?["leaseTransitions"]?.int ?? 0
        resourceVersion = lease["metadata"]?["resourceVersion"]?.string ?? ""
    }
}
