import Testing

@testable import FluxtelConfig

@Suite struct FileLogConfigTests {
    @Test func fingerprintSizeIsReadAndBounded() {
        #expect(load("receivers:\n  filelog: { fingerprint_size: 4KiB }\n")?.receivers.filelog?.fingerprintSize == 4096)
        #expect(load("receivers:\n  filelog: {}\n")?.receivers.filelog?.fingerprintSize == 1024)
        let errors = loadErrors("receivers:\n  filelog:\n    fingerprint_size: 8\n")
        #expect(errors.count == 1)
        #expect(errors.first?.description.contains("fluxtel.yaml:3:23") == true, "\(errors)")
    }

    @Test func fluxFieldsIsCopyOrMove() {
        #expect(load("receivers:\n  filelog: { flux_fields: move }\n")?.receivers.filelog?.fluxFields == .move)
        #expect(load("receivers:\n  filelog: {}\n")?.receivers.filelog?.fluxFields == .copy)
        let errors = loadErrors("receivers:\n  filelog:\n    flux_fields: rename\n")
        #expect(errors.count == 1)
        #expect(errors.first?.description.contains("copy") == true, "\(errors)")
    }
}
