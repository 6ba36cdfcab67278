import FluxtelConfig
import OTLPWire

private let gotkPrefix: [UInt8] = Array("gotk_".utf8)
private let kindBytes: [UInt8] = Array("kind".utf8)
private let nameBytes: [UInt8] = Array("name".utf8)
private let namespaceBytes: [UInt8] = Array("namespace".utf8)
private let fluxKindKey: [UInt8] = Array("flux.object.kind".utf8)
private let fluxNameKey: [UInt8] = Array("flux.object.name".utf8)
private let fluxNamespaceKey: [UInt8] = Array("flux.object.namespace".utf8)

/// Flux object identity on points: a `gotk_*` series with `kind`, `name` and `namespace` labels (Flux's
/// `gotk_reconcile_duration_seconds`, `gotk_token_cache_events_total`) also gets `flux.object.kind`,
/// `flux.object.name` and `flux.object.namespace`, the keys its log records and Events carry, so one
/// query on `flux.object.name` finds all of them. The original labels stay.
extension Encoder {
    /// Appends the identity for `sample` when it has one (labels as served, or after relabeling).
    func writeFluxObject(_ w: inout ProtoWriter, field: UInt32, sample: Sample, relabeled: [KeyValuePair]?) {
        let familyName = exposition.families[Int(sample.family)].nameBytes
        guard familyName.count > gotkPrefix.count, familyName.starts(with: gotkPrefix) else { return }
        if let relabeled {
            func value(_ name: String) -> String? { relabeled.first { $0.key == name && !$0.value.isEmpty }?.value }
            guard let kind = value("kind"), let name = value("name"), let namespace = value("namespace") else { return }
            MetricsConverter.writeStringAttribute(&w, field: field, key: "flux.object.kind", value: kind)
            MetricsConverter.writeStringAttribute(&w, field: field, key: "flux.object.name", value: name)
            MetricsConverter.writeStringAttribute(&w, field: field, key: "flux.object.namespace", value: namespace)
            return
        }
        var kind: UnsafeBufferPointer<UInt8>?
        var name: UnsafeBufferPointer<UInt8>?
        var namespace: UnsafeBufferPointer<UInt8>?
        let first = Int(sample.labelStart)
        for k in first..<first + Int(sample.labelCount) {
            let label = exposition.labels[k]
            let value = bytes(label.value)
            guard !value.isEmpty else { continue }
            let key = bytes(label.name)
            if equal(key, kindBytes) {
                kind = value
            } else if equal(key, nameBytes) {
                name = value
            } else if equal(key, namespaceBytes) {
                namespace = value
            }
        }
        guard let kind, let name, let namespace else { return }
        MetricsConverter.writeKeyValue(&w, field: field, key: fluxKindKey, value: UnsafeRawBufferPointer(kind))
        MetricsConverter.writeKeyValue(&w, field: field, key: fluxNameKey, value: UnsafeRawBufferPointer(name))
        MetricsConverter.writeKeyValue(
            &w, field: field, key: fluxNamespaceKey, value: UnsafeRawBufferPointer(namespace))
    }
}
