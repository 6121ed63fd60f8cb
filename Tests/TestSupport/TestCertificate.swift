import CTLS
import Foundation

/// A throwaway key and X.509 certificate made with libcrypto at test time — a certificate
/// authority or a server certificate it issued — so no key is ever committed or written to disk.
public final class TestCertificate: @unchecked Sendable {
    // @unchecked: both pointers are set once in `init` and only read afterwards.
    let key: OpaquePointer
    let certificate: OpaquePointer

    private init(key: OpaquePointer, certificate: OpaquePointer) {
        self.key = key
        self.certificate = certificate
    }

    deinit {
        X509_free(certificate)
        EVP_PKEY_free(key)
    }

    /// A self-signed certificate authority named `name`, valid for a day.
    public static func authority(_ name: String) throws -> TestCertificate {
        let key = try newKey()
        let certificate = try make(
            subject: name, key: key, issuer: nil,
            extensions: [
                (NID_basic_constraints, "critical,CA:TRUE"), (NID_key_usage, "critical,keyCertSign,cRLSign"),
                (NID_subject_key_identifier, "hash"),
            ])
        return TestCertificate(key: key, certificate: certificate)
    }

    /// A server certificate for `names` (IP addresses or DNS names), signed by this authority.
    public func issue(for names: [String]) throws -> TestCertificate {
        let key = try Self.newKey()
        let alternatives = names.map { (inet_addr($0) != INADDR_NONE ? "IP:" : "DNS:") + $0 }.joined(separator: ",")
        let certificate = try Self.make(
            subject: names.first ?? "server", key: key, issuer: self,
            extensions: [
                (NID_basic_constraints, "CA:FALSE"), (NID_subject_alt_name, alternatives),
                (NID_ext_key_usage, "serverAuth"),
            ])
        return TestCertificate(key: key, certificate: certificate)
    }

    /// Writes the certificate (never the key) as PEM, for `CONCIERGE_CA_FILE`.
    public func writePEM(to path: String) throws {
        guard let file = BIO_new_file(path, "w") else { throw TestCertificateError("cannot create \(path)") }
        defer { BIO_free(file) }
        guard PEM_write_bio_X509(file, certificate) == 1 else { throw TestCertificateError("cannot write \(path)") }
    }

    private static func newKey() throws -> OpaquePointer {
        guard let context = EVP_PKEY_CTX_new_from_name(nil, "EC", nil) else {
            throw TestCertificateError("EVP_PKEY_CTX_new_from_name")
        }
        defer { EVP_PKEY_CTX_free(context) }
        var key: OpaquePointer?
        guard EVP_PKEY_keygen_init(context) == 1, EVP_PKEY_CTX_set_group_name(context, "P-256") == 1,
            EVP_PKEY_generate(context, &key) == 1, let key
        else { throw TestCertificateError("P-256 key generation") }
        return key
    }

    private static func make(
        subject: String, key: OpaquePointer, issuer: TestCertificate?, extensions: [(Int32, String)]
    ) throws -> OpaquePointer {
        guard let certificate = X509_new() else { throw TestCertificateError("X509_new") }
        var ok =
            X509_set_version(certificate, 2) == 1  // v3
            && ASN1_INTEGER_set(X509_get_serialNumber(certificate), Int.random(in: 1..<Int(Int32.max))) == 1
            && X509_gmtime_adj(X509_getm_notBefore(certificate), -3600) != nil
            && X509_gmtime_adj(X509_getm_notAfter(certificate), 86_400) != nil
            && X509_set_pubkey(certificate, key) == 1
        let name = X509_get_subject_name(certificate)
        ok = ok && X509_NAME_add_entry_by_txt(name, "CN", MBSTRING_ASC, subject, -1, -1, 0) == 1
        ok = ok && X509_set_issuer_name(certificate, issuer.map { X509_get_subject_name($0.certificate) } ?? name) == 1
        for (nid, value) in extensions where ok {
            var context = X509V3_CTX()
            X509V3_set_ctx(&context, issuer?.certificate ?? certificate, certificate, nil, nil, 0)
            guard let `extension` = X509V3_EXT_conf_nid(nil, &context, nid, value) else {
                ok = false
                break
            }
            ok = X509_add_ext(certificate, `extension`, -1) == 1
            X509_EXTENSION_free(`extension`)
        }
        guard ok, X509_sign(certificate, issuer?.key ?? key, EVP_sha256()) > 0 else {
            X509_free(certificate)
            throw TestCertificateError("building the certificate for \(subject)")
        }
        return certificate
    }
}

public struct TestCertificateError: Error, CustomStringConvertible {
    public let description: String
    init(_ what: String) { description = "\(what) failed" }
}
