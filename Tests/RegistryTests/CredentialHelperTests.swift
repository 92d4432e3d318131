import Foundation
import Registry
import Testing
import TestSupport

/// Docker credential helpers as `config.json` names them: `docker-credential-NAME get`, registry on stdin, JSON on stdout.
struct CredentialHelperTests {
    /// A directory holding `docker-credential-NAME` scripts with `body` (POSIX sh; `$url` is what was read).
    static func helpers(_ scripts: [String: String]) throws -> String {
        let dir = try makeTemporaryDirectory("cred-helpers")
        for (name, body) in scripts {
            let path = dir.appendingPathComponent("docker-credential-\(name)").path
            try "#!/bin/sh\nread url || true\necho \"$1 $url\" >> \"\(dir.path)/calls-\(name)\"\n\(body)\n".write(toFile: path, atomically: true, encoding: .utf8)
            try FileManager.default.setAttributes([.posixPermissions: 0o755], ofItemAtPath: path)
        }
        return dir.path
    }

    static func calls(_ dir: String, _ name: String) -> [String] {
        ((try? String(contentsOfFile: "\(dir)/calls-\(name)", encoding: .utf8)) ?? "").split(separator: "\n").map(String.init)
    }

    static let answering = #"""
    case "$url" in
      reg.example) printf '{"ServerURL":"%s","Username":"robot","Secret":"helper-pw"}' "$url" ;;
      *) echo "credentials not found in native keychain"; exit 1 ;;
    esac
    """#

    @Test("credHelpers, then credsStore, then auths; answers cached; 'credentials not found' is no credential")
    func precedenceAndCache() throws {
        let dir = try Self.helpers(["own": Self.answering, "store": #"printf '{"Username":"<token>","Secret":"identity-tok"}'"#])
        let auth = Data("file:file-pw".utf8).base64EncodedString()
        let config = #"{"auths":{"reg.example":{"auth":"\#(auth)"},"other.example":{"auth":"\#(auth)"}},"credHelpers":{"reg.example":"own","missing.example":"own"},"credsStore":"store"}"#
        var store = CredentialStore()
        try store.addDockerConfig(Data(config.utf8), source: "config.json", helpers: CredentialHelpers(path: dir))
        #expect(try store.lookup(for: "reg.example") == Credential(username: "robot", password: "helper-pw"))
        #expect(try store.lookup(for: "reg.example") == Credential(username: "robot", password: "helper-pw"))
        #expect(Self.calls(dir, "own") == ["get reg.example"], "the second lookup is answered from the cache")
        // A registry with its own helper that has nothing: no credential (the file's auths do not apply).
        #expect(try store.lookup(for: "missing.example") == nil)
        // Every other registry: credsStore, whose identity token wins over the file's entry.
        #expect(try store.lookup(for: "other.example") == Credential(username: "<token>", password: "identity-tok"))
        #expect(try store.lookup(for: "docker.io") == Credential(username: "<token>", password: "identity-tok"))
        #expect(Self.calls(dir, "store").contains("get https://index.docker.io/v1/"), "Docker Hub is asked for by its legacy URL")
        // Secrets' data never enable helpers: the same JSON as a pull secret only gives its auths.
        var secret = CredentialStore()
        try secret.addPullSecret(type: "kubernetes.io/dockerconfigjson", data: Data(config.utf8), source: "ns/s")
        #expect(try secret.lookup(for: "reg.example") == Credential(username: "file", password: "file-pw"))
    }

    @Test("a failing, hanging, missing or garbled helper is an error naming the helper and registry, never its output")
    func failures() throws {
        let dir = try Self.helpers(["fails": "echo leaked-secret-output; exit 3", "hangs": "sleep 5", "garbled": "echo 'not json leaked-secret-output'"])
        let helpers = CredentialHelpers(path: dir, timeout: 0.5)
        for (name, expected) in [("fails", "exited with status 3"), ("hangs", "did not answer"), ("garbled", "did not print"), ("absent", "is not on PATH")] {
            let error = #expect(throws: CredentialHelpers.Failure.self) { try helpers.get(helper: name, registry: "reg.example") }
            let text = error?.description ?? ""
            #expect(text.contains("docker-credential-\(name)") && text.contains("reg.example") && text.contains(expected), "\(text)")
            #expect(!text.contains("leaked-secret-output"), "\(text)")
        }
        #expect(throws: CredentialHelpers.Failure.self) { try helpers.get(helper: "../../bin/sh", registry: "reg.example") }
        var store = CredentialStore()
        #expect(throws: CredentialStore.FormatError.self) {
            try store.addDockerConfig(Data(#"{"credHelpers":{"reg.example":7}}"#.utf8), source: "cfg", helpers: helpers)
        }
    }
}
