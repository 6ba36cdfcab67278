import FluxtelConfig
public import OTLPJSON
public import OTLPWire
import Processors

/// A Kubernetes Event about a Flux object, read from either API: `core/v1` (`involvedObject`, `message`,
/// `count`, `firstTimestamp`) or `events.k8s.io/v1` (`regarding`, `note`, `series`, `deprecated*`).
public struct FluxEvent: Sendable, Equatable {
    public var uid: String
    public var name: String
    public var namespace: String
    /// `Normal` or `Warning`.
    public var type: String
    public var reason: String
    public var message: String
    public var reportingController: String
    /// How many times it happened: `series.count`, else `count` / `deprecatedCount`, else 1.
    public var count: Int
    /// First and last occurrence (nanoseconds since the epoch), when the Event says.
    public var firstTime: UInt64?
    public var lastTime: UInt64?
    public var regarding: FluxObjectIdentity
    public var annotations: [String: String]

    /// nil when the Event is not about a Flux kind (a Pod's, a Lease's) or has no uid.
    public init?(_ event: JSONValue) {
        let metadata = event["metadata"]
        guard let uid = metadata?["uid"]?.string, let regarding = event["regarding"] ?? event["involvedObject"],
            let apiVersion = regarding["apiVersion"]?.string, FluxKind.isFlux(apiVersion: apiVersion),
            let kind = regarding["kind"]?.string, let objectName = regarding["name"]?.string
        else { return nil }
        self.uid = uid
        name = metadata?["name"]?.string ?? ""
        namespace = metadata?["namespace"]?.string ?? ""
        type = event["type"]?.string ?? ""
        reason = event["reason"]?.string ?? ""
        message = event["note"]?.string ?? event["message"]?.string ?? ""
        reportingController =
            event["reportingController"]?.string ?? event["reportingComponent"]?.string
            ?? event["deprecatedSource"]?["component"]?.string ?? event["source"]?["component"]?.string ?? ""
        let series = event["series"]
        count = Self.int(series?["count"] ?? event["count"] ?? event["deprecatedCount"]) ?? 1
        func time(_ value: JSONValue?) -> UInt64? { value?.string.flatMap { Timestamp.parseISO8601($0) } }
        let eventTime = time(event["eventTime"])
        firstTime = time(event["firstTimestamp"] ?? event["deprecatedFirstTimestamp"]) ?? eventTime
        lastTime =
            time(series?["lastObservedTime"]) ?? time(event["lastTimestamp"] ?? event["deprecatedLastTimestamp"])
            ?? eventTime ?? firstTime
        self.regarding = FluxObjectIdentity(
            group: String(FluxKind.group(ofAPIVersion: apiVersion)),
            ref: FluxObjectRef(kind: kind, namespace: regarding["namespace"]?.string ?? "", name: objectName),
            uid: regarding["uid"]?.string ?? "")
        annotations = metadata?["annotations"]?.stringMap ?? [:]
    }

    static func int(_ value: JSONValue?) -> Int? {
        guard case .number(let n) = value, n.isFinite, n >= 0, n < 1e15 else { return nil }
        return Int(n)
    }

    /// The revision the Event is about, as notification-controller reads it (`getRevision`, after dropping
    /// the object's group prefix from the keys): `<app-version>@<oci-digest>` when both are there, else
    /// `revision`; nil when the Event has neither.
    public var revision: String? {
        let prefix = regarding.group + "/"
        if let app = annotations[prefix + "app-version"], let digest = annotations[prefix + "oci-digest"] {
            return app + "@" + digest
        }
        return annotations[prefix + "revision"]
    }

    /// The log record: severity from the type (Warning → WARN, Normal → INFO), body = the message, the
    /// reason, controller, count, first/last time, annotations and the object's identity as attributes.
    public func logRecord(observedAt now: UInt64) -> OTLP.LogRecord {
        var attributes: [OTLP.KeyValue] = regarding.attributes(revision: revision).map {
            OTLP.KeyValue($0.key, $0.value)
        }
        attributes.append(OTLP.KeyValue("k8s.event.reason", reason))
        attributes.append(OTLP.KeyValue("k8s.event.name", name))
        attributes.append(OTLP.KeyValue("k8s.event.uid", uid))
        attributes.append(OTLP.KeyValue(key: "k8s.event.count", value: .int(Int64(count))))
        attributes.append(OTLP.KeyValue("k8s.event.reporting_controller", reportingController))
        attributes.append(OTLP.KeyValue("k8s.namespace.name", namespace))
        if let firstTime {
            attributes.append(
                OTLP.KeyValue(key: "k8s.event.first_time_unix_nano", value: .int(Int64(clamping: firstTime))))
        }
        for (key, value) in annotations.sorted(by: { $0.key < $1.key }) {
            attributes.append(OTLP.KeyValue("k8s.event.annotations." + key, value))
        }
        let warning = type == "Warning"
        return OTLP.LogRecord(
            timeUnixNano: lastTime ?? 0, observedTimeUnixNano: now, severityNumber: warning ? .warn : .info,
            severityText: warning ? "WARN" : "INFO", body: .string(message), attributes: attributes,
            eventName: "k8s.event"
        )
    }
}
