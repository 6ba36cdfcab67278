import FluxtelConfig
import Testing

@Test func persistentQueueDirectoryIsRefusedUntilItExists() throws {
    let yaml = """
        processors:
          queue:
            directory: /var/lib/fluxtel/queue
        """
    #expect(throws: ConfigErrors.self) { try ConfigLoader.load(yaml: yaml, fileName: "q.yaml", environment: [:]) }
    do {
        _ = try ConfigLoader.load(yaml: yaml, fileName: "q.yaml", environment: [:])
    } catch {
        #expect("\(error)".contains("q.yaml:3:16"), "\(error)")
        #expect("\(error)".contains("not supported yet"))
    }
}
