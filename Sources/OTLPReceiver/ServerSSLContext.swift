import FluxtelConfig
import NIOSSL

/// The receiver's https: `tls.cert_file` and `tls.key_file` (PEM), and client certificates signed by
/// `tls.client_ca_file` required when that is set.
func makeServerSSLContext(_ files: ServerTLSConfiguration) throws -> NIOSSLContext {
    let chain = try NIOSSLCertificate.fromPEMFile(files.certFile).map { NIOSSLCertificateSource.certificate($0) }
    var configuration = TLSConfiguration.makeServerConfiguration(
        certificateChain: chain, privateKey: .privateKey(try NIOSSLPrivateKey(file: files.keyFile, format: .pem)))
    if !files.clientCAFile.isEmpty {
        configuration.certificateVerification = .noHostnameVerification
        configuration.trustRoots = .file(files.clientCAFile)
    }
    return try NIOSSLContext(configuration: configuration)
}
