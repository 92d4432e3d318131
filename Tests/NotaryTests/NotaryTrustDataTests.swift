import Foundation
@testable import Notary
import SealgateCore
import Testing
import TestSupport

/// The client against a real notary-server and notary-signer (Debian notary 0.7) over TLS: trust data the notary
/// CLI signed and published, read back and verified from the pinned root key.
@Suite(.serialized)
struct NotaryTrustDataTests {
    /// One notary service and one repository for the suite (init and publish take a while).
    final class World: @unchecked Sendable {
        let notary: NotaryService
        let gun = "127.0.0.1:5000/app"
        let rootPEM: String
        let signed = "sha256:" + String(repeating: "ab", count: 32)
        let released = "sha256:" + String(repeating: "cd", count: 32)

        init() throws {
            notary = try NotaryService(pki: try TestPKI())
            try notary.initialize(gun: gun)
            try notary.sign(gun: gun, tag: "v1", digest: signed, size: 528)
            try notary.addDelegation(gun: gun, role: "targets/releases")
            try notary.sign(gun: gun, tag: "v2", digest: released, size: 600, role: "targets/releases")
            rootPEM = try notary.rootPublicKeyPEM()
        }
        deinit { notary.stop() }

        func server() throws -> NotaryServer {
            try NotaryServer(server: notary.url, caPEM: FileManager.default.contents(atPath: notary.caFile))
        }

        func load(now: Date = Date(), pinned: String? = nil) throws -> NotaryTrustData {
            let check = try NotaryImageCheck(server: try server(), pinnedRootsPEM: [pinned ?? rootPEM], signers: NotarySigners(), versions: NotaryVersions())
            return try NotaryTrustData.load(server: check.server, gun: gun, pinnedRoots: check.pinnedRoots, now: now,
                                            versions: check.versions, deadline: .after(seconds: 10))
        }
    }

    static let world = Result { try World() }

    @Test func signedTagResolvesToTheSignedDigest() throws {
        let w = try Self.world.get()
        let data = try w.load()
        let d = try NotarySignedDigest.resolve(data, tag: "v1", digest: nil, signers: NotarySigners())
        #expect(d == NotarySignedDigest(digest: w.signed, signers: ["targets"]))
        let byDigest = try NotarySignedDigest.resolve(data, tag: nil, digest: w.released, signers: NotarySigners())
        #expect(byDigest.signers == ["targets/releases"])
    }

    @Test func unsignedTagIsNotSigned() throws {
        let w = try Self.world.get()
        #expect { try NotarySignedDigest.resolve(try w.load(), tag: "v9", digest: nil, signers: NotarySigners()) } throws: { error in
            "\(error)" == "no signed digest for tag v9 in \(w.gun)"
        }
    }

    @Test func delegationRequirementHoldsBothWays() throws {
        let w = try Self.world.get()
        let data = try w.load()
        let releases = NotarySigners(delegations: ["releases"])
        #expect(try NotarySignedDigest.resolve(data, tag: "v2", digest: nil, signers: releases).signers == ["targets/releases"])
        // v1 is signed by the targets key only: a releases requirement refuses it.
        #expect { try NotarySignedDigest.resolve(data, tag: "v1", digest: nil, signers: releases) } throws: { error in
            "\(error)".contains("not signed by targets/releases")
        }
        // Two named delegations, one never published: all required fails, a threshold of one passes.
        let both = NotarySigners(delegations: ["releases", "qa"])
        #expect { try NotarySignedDigest.resolve(data, tag: "v2", digest: nil, signers: both) } throws: { error in
            "\(error)".contains("2 of delegations targets/releases, targets/qa") && "\(error)".contains("not signed by targets/qa")
        }
        let one = NotarySigners(delegations: ["releases", "qa"], threshold: 1)
        #expect(try NotarySignedDigest.resolve(data, tag: "v2", digest: nil, signers: one).digest == w.released)
    }

    @Test func anotherPinnedKeyIsRefused() throws {
        let w = try Self.world.get()
        let other = try Subprocess.run("sh", ["-c", "openssl ecparam -name prime256v1 -genkey -noout | openssl ec -pubout 2>/dev/null"], timeout: 20).stdout
        #expect { try w.load(pinned: other) } throws: { error in
            "\(error)".contains("root: malformed metadata: no root key matches the pinned root key")
        }
    }

    @Test func expiredTimestampFailsClosed() throws {
        let w = try Self.world.get()
        // notary's timestamps last 14 days; its root, snapshot and targets years.
        #expect { try w.load(now: Date().addingTimeInterval(20 * 86400)) } throws: { error in
            "\(error)".hasPrefix("notary trust data of \(w.gun): timestamp: metadata expired at")
        }
    }

    @Test func imageCheckNamesBothDigestsWhenTheTagMoved() throws {
        let w = try Self.world.get()
        let check = try NotaryImageCheck(server: try w.server(), pinnedRootsPEM: [w.rootPEM], signers: NotarySigners(), versions: NotaryVersions())
        let moved = "sha256:" + String(repeating: "ef", count: 32)
        #expect { try check.verify(gun: w.gun, tag: "v1", digest: moved, deadline: .after(seconds: 10)) } throws: { error in
            "\(error)".contains(moved) && "\(error)".contains(w.signed)
        }
        #expect(try check.verify(gun: w.gun, tag: "v1", digest: w.signed, deadline: .after(seconds: 10)).0.digest == w.signed)
    }

    @Test func repositoryWithoutTrustData() throws {
        let w = try Self.world.get()
        let check = try NotaryImageCheck(server: try w.server(), pinnedRootsPEM: [w.rootPEM], signers: NotarySigners(), versions: NotaryVersions())
        #expect { try check.verify(gun: "127.0.0.1:5000/other", tag: "v1", digest: w.signed, deadline: .after(seconds: 10)) } throws: { error in
            "\(error)" == "notary server \(w.notary.url) has no trust data for 127.0.0.1:5000/other"
        }
    }
}
