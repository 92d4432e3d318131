import Foundation
@testable import Notary
import Registry
import SealgateCore
import Testing
import TestSupport

/// Real notary metadata (from a real notary-server), tampered with and served by a loopback stand-in
/// (Tests/Fixtures/notary/static_notary.py): every change fails closed with a message naming role and problem.
@Suite(.serialized)
struct HostileMetadataTests {
    final class World: @unchecked Sendable {
        let notary: NotaryService
        let gun = "127.0.0.1:5000/hostile"
        let rootPEM: String
        /// role → bytes, published after the first signing (older) and after the second (newer).
        var older: [String: Data] = [:]
        var newer: [String: Data] = [:]

        init() throws {
            notary = try NotaryService(pki: try TestPKI())
            try notary.initialize(gun: gun)
            try notary.sign(gun: gun, tag: "v1", digest: "sha256:" + String(repeating: "11", count: 32), size: 100)
            for role in ["root", "timestamp", "snapshot", "targets"] { older[role] = try notary.metadata(gun: gun, role: role) }
            try notary.sign(gun: gun, tag: "v2", digest: "sha256:" + String(repeating: "22", count: 32), size: 200)
            for role in ["root", "timestamp", "snapshot", "targets"] { newer[role] = try notary.metadata(gun: gun, role: role) }
            rootPEM = try notary.rootPublicKeyPEM()
            notary.stop()
        }
    }

    static let world = Result { try World() }

    /// Serves `files` (role → bytes) for the world's GUN on a stand-in; `arguments` to the stand-in (`--token U:P`, `--hang`).
    final class StandIn {
        let process: BackgroundProcess
        let port: UInt16
        let tls: Bool
        init(_ files: [String: Data], gun: String, arguments: [String] = []) throws {
            tls = arguments.contains("--tls")
            let dir = try makeTemporaryDirectory("notary-standin")
            let tuf = dir.appendingPathComponent("v2/\(gun)/_trust/tuf")
            try FileManager.default.createDirectory(at: tuf, withIntermediateDirectories: true)
            for (role, data) in files { try data.write(to: tuf.appendingPathComponent("\(role).json")) }
            port = try freeLoopbackPort()
            process = try BackgroundProcess("python3", [TestPaths.fixtures.appendingPathComponent("notary/static_notary.py").path, dir.path, String(port)] + arguments)
            guard process.waitForOutput(timeout: 10, { $0.contains("ready") }) else { throw LocalRegistry.Unavailable(description: "stand-in did not start: \(process.stderr)") }
        }
        deinit { process.stop() }
        var url: String { "\(tls ? "https" : "http")://127.0.0.1:\(port)" }
    }

    func load(_ files: [String: Data], versions: NotaryVersions = NotaryVersions(), arguments: [String] = [],
              credentials: Credential? = nil, deadline: Double = 10) throws -> NotaryTrustData {
        let w = try Self.world.get()
        let standIn = try StandIn(files, gun: w.gun, arguments: arguments)
        let ca = FileManager.default.contents(atPath: w.notary.caFile)
        let check = try NotaryImageCheck(server: try NotaryServer(server: standIn.url, caPEM: ca, credentials: credentials), pinnedRootsPEM: [w.rootPEM],
                                         signers: NotarySigners(), versions: versions)
        return try NotaryTrustData.load(server: check.server, gun: w.gun, pinnedRoots: check.pinnedRoots, now: Date(),
                                        versions: versions, deadline: .after(seconds: deadline))
    }

    /// `data` with the first occurrence of `a` replaced by `b`.
    func replacing(_ data: Data, _ a: String, _ b: String) -> Data {
        Data(String(decoding: data, as: UTF8.self).replacingOccurrences(of: a, with: b, options: [], range: nil).utf8)
    }

    @Test func untouchedCopyVerifies() throws {
        let w = try Self.world.get()
        #expect(try load(w.newer).signedTargets["targets"]?.count == 2)
    }

    @Test func badRootSignature() throws {
        let w = try Self.world.get()
        var files = w.newer
        files["root"] = replacing(w.newer["root"]!, "\"version\":1", "\"version\":7")
        #expect { try load(files) } throws: { "\($0)".contains("root (pinned key): bad signature threshold: 0 valid signatures of 1 required") }
    }

    @Test func badTimestampSignature() throws {
        let w = try Self.world.get()
        var files = w.newer
        let text = String(decoding: w.newer["timestamp"]!, as: UTF8.self)
        let expires = text.range(of: #""expires":"[^"]+""#, options: .regularExpression)!
        files["timestamp"] = Data(text.replacingCharacters(in: expires, with: #""expires":"2099-01-01T00:00:00Z""#).utf8)
        #expect { try load(files) } throws: { "\($0)".contains("timestamp: bad signature threshold") }
    }

    @Test func wrongType() throws {
        let w = try Self.world.get()
        var files = w.newer
        files["timestamp"] = w.newer["snapshot"]
        #expect { try load(files) } throws: { "\($0)".contains("timestamp: malformed metadata: wrong type: _type is \"Snapshot\", expected \"Timestamp\"") }
    }

    @Test func mixAndMatchTargets() throws {
        let w = try Self.world.get()
        var files = w.newer
        files["targets"] = w.older["targets"]
        #expect { try load(files) } throws: { error in
            let s = "\(error)"
            return s.contains("targets: length") || s.contains("targets: sha256 hash does not match")
        }
    }

    @Test func rollbackAfterNewerWasSeen() throws {
        let w = try Self.world.get()
        let versions = NotaryVersions()
        _ = try load(w.newer, versions: versions)
        #expect { try load(w.older, versions: versions) } throws: { "\($0)".contains("rollback refused: version") }
    }

    @Test func oversizedTimestamp() throws {
        let w = try Self.world.get()
        var files = w.newer
        files["timestamp"] = w.newer["timestamp"]! + Data(repeating: 0x20, count: 70 * 1024)
        #expect { try load(files) } throws: { "\($0)".contains("timestamp.json: download exceeds its length limit of 65536 bytes") }
    }

    @Test func tokenAuthentication() throws {
        let w = try Self.world.get()
        let cert = try w.notary.pki.issueServerCertificate(name: "standin", serial: 77)
        let token = ["--token", "alice:secret", "--tls", cert.certificate, cert.key]
        let data = try load(w.newer, arguments: token, credentials: .init(username: "alice", password: "secret"))
        #expect(data.signedTargets["targets"]?["v2"] == String(repeating: "22", count: 32))
        #expect { try load(w.newer, arguments: token) } throws: { "\($0)".contains("refused access: token server 127.0.0.1 answered 401") }
        #expect { try load(w.newer, arguments: token, credentials: .init(username: "alice", password: "wrong")) } throws: {
            "\($0)".contains("answered 401")
        }
    }

    @Test func stuckServerFailsWithinTheDeadline() throws {
        let w = try Self.world.get()
        let started = Date()
        #expect { try load(w.newer, arguments: ["--hang"], deadline: 1.5) } throws: { error in
            (error as? NotaryError)?.transient == true
        }
        #expect(Date().timeIntervalSince(started) < 5)
    }
}
