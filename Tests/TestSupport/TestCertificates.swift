public import Foundation

/// A throwaway PKI made with the `openssl` CLI: a self-signed CA, a server certificate for
/// `IP:127.0.0.1` / `DNS:localhost` and a client certificate, all signed by that CA.
public struct TestCertificates: Sendable {
    public let directory: URL
    public var caCertificate: String { directory.appendingPathComponent("ca.pem").path }
    public var serverCertificate: String { directory.appendingPathComponent("server.pem").path }
    public var serverKey: String { directory.appendingPathComponent("server.key").path }
    public var clientCertificate: String { directory.appendingPathComponent("client.pem").path }
    public var clientKey: String { directory.appendingPathComponent("client.key").path }

    public struct OpenSSLFailed: Error, CustomStringConvertible {
        public var arguments: [String]
        public var output: String
        public var description: String { "openssl \(arguments.joined(separator: " ")) failed: \(output)" }
    }

    public static func generate() throws -> TestCertificates {
        let directory = FileManager.default.temporaryDirectory
            .appendingPathComponent("fluxtel-tls-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
        let certificates = TestCertificates(directory: directory)
        let ec = ["-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:prime256v1", "-nodes"]
        try openssl(
            ["req", "-x509"] + ec + [
                "-keyout", "ca.key", "-out", "ca.pem", "-days", "2", "-subj", "/CN=fluxtel test CA",
                "-addext", "basicConstraints=critical,CA:TRUE", "-addext", "keyUsage=critical,keyCertSign,cRLSign",
            ], in: directory)
        try Data(
            """
            subjectAltName=IP:127.0.0.1,DNS:localhost
            basicConstraints=CA:FALSE
            keyUsage=digitalSignature,keyEncipherment
            extendedKeyUsage=serverAuth

            """.utf8
        ).write(to: directory.appendingPathComponent("server.ext"))
        try Data(
            """
            basicConstraints=CA:FALSE
            keyUsage=digitalSignature,keyEncipherment
            extendedKeyUsage=clientAuth

            """.utf8
        ).write(to: directory.appendingPathComponent("client.ext"))
        for (name, subject) in [("server", "/CN=localhost"), ("client", "/CN=fluxtel test client")] {
            try openssl(
                ["req"] + ec + ["-keyout", "\(name).key", "-out", "\(name).csr", "-subj", subject], in: directory)
            try openssl(
                [
                    "x509", "-req", "-in", "\(name).csr", "-CA", "ca.pem", "-CAkey", "ca.key", "-CAcreateserial",
                    "-out", "\(name).pem", "-days", "2", "-extfile", "\(name).ext",
                ], in: directory)
        }
        return certificates
    }

    public func remove() { try? FileManager.default.removeItem(at: directory) }

    private static func openssl(_ arguments: [String], in directory: URL) throws {
        let (status, output) = try runProcess("/usr/bin/env", ["openssl"] + arguments, in: directory)
        guard status == 0 else { throw OpenSSLFailed(arguments: arguments, output: output) }
    }
}
