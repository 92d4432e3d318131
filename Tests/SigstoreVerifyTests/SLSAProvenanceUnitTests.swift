import Foundation
import SigstoreTestSupport
@testable import SigstoreVerify
import Testing

/// The pure provenance logic, without the binary.
@Suite("SLSA provenance parsing and matching")
struct SLSAProvenanceUnitTests {
    func statement(_ json: Data) throws -> InTotoStatement { try InTotoStatement(json: json) }

    @Test("source URIs normalise to host/path")
    func normalize() {
        for s in ["git+https://github.com/org/repo@refs/tags/v1", "https://github.com/org/repo", "github.com/org/repo",
                  "https://github.com/org/repo.git", "git+https://github.com/org/repo.git@refs/heads/main", "github.com/org/repo/"] {
            #expect(SLSAProvenance.normalizeSourceURI(s) == "github.com/org/repo", "\(s)")
        }
        #expect(SLSAProvenance.normalizeSourceURI("github.com/org/repo2") != "github.com/org/repo")
    }

    @Test("versioned tags match by semver prefix; build metadata ignored; pre-release only on full versions")
    func semver() throws {
        func matches(_ want: String, _ tag: String) -> Bool {
            guard let w = SemVer(want), let t = SemVer(tag) else { return false }
            return w.isPrefix(of: t)
        }
        #expect(matches("v1", "v1.2.3"))
        #expect(matches("v1.2", "v1.2.9"))
        #expect(matches("v1.2.3", "v1.2.3+build.7"))
        #expect(matches("v1.2.3-rc.1", "v1.2.3-rc.1"))
        #expect(matches("v1", "v1"))
        #expect(matches("v1.0", "v1"))
        #expect(!matches("v1.2.3", "v1.2.3-rc.1"))
        #expect(!matches("v1", "v10.0.0"))
        #expect(!matches("v1.2", "v1.20.0"))
        #expect(!matches("v2", "v1.2.3"))
        for bad in ["latest", "v", "v1.2.3.4", "v01", "v1.x", "v1-rc1", ""] {
            #expect(!SLSAExpectations.isValidVersionedTag(bad), "\(bad)")
        }
    }

    @Test("v1 and v0.2 predicates yield builder, source, ref and commit")
    func parse() throws {
        let f = SLSAProvenanceFixture()
        let subjects = [(name: "a", sha256: Data(repeating: 1, count: 32))]
        let v1 = try SLSAProvenance(statement: statement(f.statementV1(subjects: subjects)))
        #expect(v1 == SLSAProvenance(predicateType: SLSAProvenance.v1, builderID: f.builderID, sourceURI: f.repositoryURL,
                                     sourceRef: f.ref, sourceCommit: f.commit))
        let v02 = try SLSAProvenance(statement: statement(f.statementV02(subjects: subjects)))
        #expect(v02 == SLSAProvenance(predicateType: SLSAProvenance.v02, builderID: f.builderID, sourceURI: f.sourceURI,
                                      sourceRef: f.ref, sourceCommit: f.commit))
        // BYOB shape: externalParameters.source.
        let byob = #"{"_type":"https://in-toto.io/Statement/v1","subject":[],"predicateType":"https://slsa.dev/provenance/v1","predicate":{"buildDefinition":{"externalParameters":{"source":{"uri":"git+https://github.com/o/r@refs/heads/main","digest":{"sha1":"abc"}}}},"runDetails":{"builder":{"id":"https://b"}}}}"#
        let p = try SLSAProvenance(statement: statement(Data(byob.utf8)))
        #expect(p.sourceRef == "refs/heads/main")
        #expect(p.sourceCommit == "abc")
        #expect(throws: ProvenanceError.mismatch(field: "source branch", expected: "dev", found: "branch main")) {
            try p.check(SLSAExpectations(sourceURI: "github.com/o/r", sourceBranch: "dev"))
        }
        try p.check(SLSAExpectations(sourceURI: "github.com/o/r", builderID: "https://b", sourceBranch: "main"))
    }

    @Test("other predicate types and missing fields are malformed, not crashes")
    func malformed() throws {
        for (type, predicate) in [("https://spdx.dev/Document", "{}"), (SLSAProvenance.v1, "{}"), (SLSAProvenance.v02, #"{"builder":{"id":"x"}}"#),
                                  (SLSAProvenance.v1, #"{"runDetails":{"builder":{"id":"x"}}}"#), (SLSAProvenance.v1, "[]")] {
            let json = #"{"_type":"https://in-toto.io/Statement/v1","subject":[],"predicateType":"\#(type)","predicate":\#(predicate)}"#
            #expect(throws: ProvenanceError.self) { try SLSAProvenance(statement: statement(Data(json.utf8))) }
        }
    }
}
