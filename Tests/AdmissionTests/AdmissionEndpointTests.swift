import Admission
import Foundation
import ImagePolicy
import SealgateCore
import Testing
import TestSupport

struct AdmissionEndpointTests {
    /// Records what it was asked and denies, so tests see the endpoint passes the decision through.
    final class RecordingDecider: AdmissionDecider, @unchecked Sendable {
        var seen: [(uid: String, mutating: Bool, timeout: Double)] = []
        func decide(_ request: AdmissionRequest, mutating: Bool, timeout: Double) -> AdmissionResponse {
            seen.append((request.uid, mutating, timeout))
            return AdmissionResponse(uid: request.uid, allowed: false, status: AdmissionStatus(code: 403, message: "denied by test"))
        }
    }

    func fixture(_ name: String) throws -> [UInt8] {
        Array(try Data(contentsOf: TestPaths.fixtures.appendingPathComponent("admission/\(name)")))
    }

    @Test("v1 and v1beta1 reviews are answered in their own apiVersion with the request uid", arguments: [
        ("pod-review-v1.json", "admission.k8s.io/v1", "e911857d-c318-11e8-bbad-025000000001"),
        ("pod-review-v1beta1.json", "admission.k8s.io/v1beta1", "b0d7a2c6-5f3e-4d2a-9c1b-8e7f6a5d4c3b"),
    ])
    func roundTrip(file: String, apiVersion: String, uid: String) throws {
        let decider = RecordingDecider()
        let endpoint = AdmissionEndpoint(decider: decider)
        let reply = endpoint.handle(method: "POST", contentType: "application/json; charset=utf-8", query: "timeout=5s",
                                    body: try fixture(file), mutating: true)
        #expect(reply.status == 200)
        let review = try JSONDecoder().decode(AdmissionReview.self, from: Data(reply.body))
        #expect(review.apiVersion == apiVersion)
        #expect(review.kind == "AdmissionReview")
        #expect(review.request == nil)
        #expect(review.response?.uid == uid)
        #expect(review.response?.allowed == false)
        #expect(review.response?.status?.message == "denied by test")
        #expect(decider.seen.count == 1)
        #expect(decider.seen.first?.mutating == true)
        #expect(decider.seen.first?.timeout == 5)
    }

    @Test("the request object survives decoding intact")
    func objectDecoded() throws {
        let review = try JSONDecoder().decode(AdmissionReview.self, from: Data(try fixture("pod-review-v1.json")))
        let containers = review.request?.object?["spec"]?["containers"]?.arrayValue
        #expect(containers?.count == 2)
        #expect(containers?.first?["image"]?.stringValue == "ghcr.io/example/shop-web:v1.4.2")
        #expect(review.request?.operation == "CREATE")
        #expect(review.request?.namespace == "shop")
    }

    @Test("bad envelopes get a status and a message naming the problem", arguments: [
        ("GET", "application/json", #"{}"#, 405, "method GET"),
        ("POST", "text/plain", #"{}"#, 415, "content-type"),
        ("POST", nil, #"{}"#, 415, "content-type"),
        ("POST", "application/json", #"{"apiVersion": "#, 400, "malformed AdmissionReview"),
        ("POST", "application/json", #"[1,2]"#, 400, "malformed AdmissionReview"),
        ("POST", "application/json", #"{"apiVersion":"admission.k8s.io/v2","kind":"AdmissionReview"}"#, 400, "unsupported apiVersion"),
        ("POST", "application/json", #"{"apiVersion":"admission.k8s.io/v1","kind":"Pod"}"#, 400, "unsupported kind"),
        ("POST", "application/json", #"{"apiVersion":"admission.k8s.io/v1","kind":"AdmissionReview"}"#, 400, "no request"),
        ("POST", "application/json", #"{"apiVersion":"admission.k8s.io/v1","kind":"AdmissionReview","request":{"uid":"","kind":{"group":"","version":"v1","kind":"Pod"},"resource":{"group":"","version":"v1","resource":"pods"},"operation":"CREATE"}}"#, 400, "uid is empty"),
        ("POST", "application/json", #"{"apiVersion":"admission.k8s.io/v1","kind":"AdmissionReview","request":{"kind":{"group":"","version":"v1","kind":"Pod"},"resource":{"group":"","version":"v1","resource":"pods"},"operation":"CREATE"}}"#, 400, "missing field request.uid"),
        ("POST", "application/json", #"{"apiVersion":"admission.k8s.io/v1","kind":"AdmissionReview","request":{"uid":7}}"#, 400, "wrong type at request.uid"),
        // Kept as bytes, still checked: a broken `options` is refused, not carried along.
        ("POST", "application/json", #"{"apiVersion":"admission.k8s.io/v1","kind":"AdmissionReview","request":{"uid":"u","options":{"kind":01}}}"#, 400, "malformed AdmissionReview"),
    ] as [(String, String?, String, Int, String)])
    func badInput(method: String, contentType: String?, body: String, status: Int, message: String) throws {
        let decider = RecordingDecider()
        let reply = AdmissionEndpoint(decider: decider).handle(method: method, contentType: contentType, query: nil,
                                                               body: Array(body.utf8), mutating: false)
        #expect(reply.status == status)
        let text = String(decoding: reply.body, as: UTF8.self)
        #expect(text.contains(message), "\(text)")
        #expect(decider.seen.isEmpty, "the decider must not see invalid requests")
    }

    @Test("timeout query parameter: Go durations, default 10 s, capped at 30 s", arguments: [
        (nil, 10.0), ("timeout=10s", 10.0), ("timeout=2500ms", 2.5), ("timeout=1m", 30.0), ("timeout=1m30s", 30.0),
        ("a=b&timeout=3s", 3.0), ("timeout=bogus", 10.0), ("timeout=", 10.0), ("timeout=1.5s", 1.5),
    ] as [(String?, Double)])
    func timeoutParsing(query: String?, seconds: Double) {
        #expect(AdmissionEndpoint.timeout(fromQuery: query) == seconds)
    }
}

/// The scanner-based review reader and the direct response writer against Foundation's readers and JSONEncoder.
struct AdmissionWireFormatTests {
    func fixture(_ name: String) throws -> [UInt8] {
        Array(try Data(contentsOf: TestPaths.fixtures.appendingPathComponent("admission/\(name)")))
    }

    @Test("object, oldObject and options are kept as bytes and read back as the tree JSONSerialization builds")
    func lazyObjects() throws {
        let body = try fixture("pod-review-v1.json")
        let request = try #require(try AdmissionReviewDecoding.decode(body).request)
        #expect(request.lazyObject?.parsedValue == nil, "decoding does not build the object")
        #expect(request.lazyOptions?.parsedValue == nil, "nor the options")
        let foundation = try JSONValue.parse(data: Data(body))["request"]
        #expect(request.object == foundation?["object"])
        #expect(request.userInfo == foundation?["userInfo"])
        #expect(request.options == foundation?["options"] && request.options?["kind"] == "CreateOptions")
    }

    @Test("images read from the bytes equal those read from the tree, for hostile shapes too", arguments: [
        #"{"spec":{"containers":[{"name":"a","image":"x:1"},{"image":7},"s",{"image":"y","name":3}],"initContainers":[{"image":"i"}]}}"#,
        #"{"spec":{"containers":[{"image":"first"}],"containers":[{"image":"last"}]}}"#,
        #"{"spec":{"containers":{"image":"not-a-list"}}}"#,
        #"{"spec":"none"}"#,
        #"{"spec":{"ephemeralContainers":[{"image":"e","image":"e2"}],"containers":[]}}"#,
        #"{"metadata":{},"spec":{"containers":[{"image":"a\u0062c"}]}}"#,
    ])
    func imagesFromBytes(object: String) throws {
        let bytes = Array(object.utf8)
        let lazy = LazyJSON(checked: bytes, range: 0..<bytes.count)
        let fromBytes = WorkloadImages.images(in: lazy, kind: "Pod")
        let fromTree = WorkloadImages.images(in: try JSONValue.parse(object), kind: "Pod")
        #expect(fromBytes.map(\.image) == fromTree.map(\.image))
        #expect(fromBytes.map(\.pointer) == fromTree.map(\.pointer))
        #expect(fromBytes.map(\.name) == fromTree.map(\.name))
    }

    /// A review around `object`, its `kind` before the object (as the API server writes it) or after it.
    func review(_ object: String, kindFirst: Bool, userInfo: String = #"{"username":"u","groups":["g",1,"h"]}"#) -> [UInt8] {
        let kind = #""kind":{"group":"","version":"v1","kind":"Pod"},"resource":{"group":"","version":"v1","resource":"pods"}"#
        let head = #"{"apiVersion":"admission.k8s.io/v1","kind":"AdmissionReview","request":{"uid":"1","operation":"CREATE","userInfo":"# + userInfo
        return Array((head + (kindFirst ? ",\(kind),\"object\":\(object)}}" : ",\"object\":\(object),\(kind)}}")).utf8)
    }

    func expectSameSummary(_ body: [UInt8], _ comment: String) throws {
        let request = try #require(try AdmissionReviewDecoding.decode(body).request)
        let tree = try #require(try JSONValue.parse(bytes: body)["request"])
        let read = WorkloadImages.summary(of: request)
        let expected = WorkloadImages.summary(of: try #require(tree["object"]), kind: "Pod")
        #expect(read.images == expected.images, "\(comment)")
        #expect(read.name == expected.name && read.generateName == expected.generateName, "\(comment)")
        #expect(read.labels == expected.labels && read.annotations == expected.annotations, "\(comment)")
        #expect(request.user == RequestUser(json: tree["userInfo"]), "\(comment)")
        #expect(request.userInfo == tree["userInfo"], "\(comment)")
    }

    @Test("the summary read while decoding (images, name, string labels and annotations, user) is the tree's, the kind before or after the object", arguments: [
        #"{"metadata":{"name":"a","labels":{"x":"1","n":2},"annotations":{"k":"v","k":3}},"spec":{"containers":[{"image":"x:1","name":"c"}]}}"#,
        #"{"metadata":{"name":7,"generateName":"gen-"},"metadata":{"generateName":"last-","labels":"no"},"spec":{"initContainers":[{"image":"i"}]}}"#,
        #"{"metadata":[],"spec":{"containers":[{"image":"a\u0062c"}],"containers":[{"image":"last"}]}}"#,
        #"{"spec":"none","metadata":{"labels":{"a":"b"},"labels":{}}}"#,
        #""not an object""#,
    ], [true, false])
    func summaryWhileDecoding(object: String, kindFirst: Bool) throws {
        try expectSameSummary(review(object, kindFirst: kindFirst), object)
        try expectSameSummary(review(object, kindFirst: kindFirst, userInfo: #"{"username":"","groups":"x","username":"v","uid":"9"}"#), object)
        try expectSameSummary(review(object, kindFirst: kindFirst, userInfo: #"{"extra":{"a":["b"]}}"#), object)
    }

    @Test("member names written with escapes are matched as the names they decode to, at every level of the review")
    func escapedMemberNames() throws {
        // Names are compared as bytes when plain; one with an escape must still match (the tree decodes it).
        let object = #"{"met\u0061data":{"n\u0061me":"p","l\u0061bels":{"\u0061pp":"web"}},"#
            + #""sp\u0065c":{"cont\u0061iners":[{"im\u0061ge":"x:1","n\u0061me":"c"}]}}"#
        let body = Array(#"{"\u0061piVersion":"admission.k8s.io/v1","kind":"AdmissionReview","requ\u0065st":{"\u0075id":"u-1","#.utf8)
            + Array(#""operation":"CREATE","kind":{"group":"","v\u0065rsion":"v1","kind":"Pod"},"#.utf8)
            + Array(#""resource":{"group":"","version":"v1","resource":"pods"},"userInfo":{"us\u0065rname":"alice"},"object":"#.utf8)
            + Array(object.utf8) + Array("}}".utf8)
        let review = try AdmissionReviewDecoding.decode(body)
        #expect(review.apiVersion == "admission.k8s.io/v1")
        let request = try #require(review.request)
        #expect(request.uid == "u-1" && request.kind.version == "v1" && request.user?.username == "alice")
        let summary = WorkloadImages.summary(of: request)
        #expect(summary.images.map(\.image) == ["x:1"] && summary.images.map(\.name) == ["c"])
        #expect(summary.name == "p" && summary.labels == ["app": "web"])
        // A name that only starts like a known one is not it.
        let near = Array(#"{"apiVersion":"v","kind":"AdmissionReview","requestX":{"uid":"1"}}"#.utf8)
        #expect(try AdmissionReviewDecoding.decode(near).request == nil)
    }

    @Test("on 2,000 mutations of a real review, decoding succeeds only on valid JSON, and then reads what the tree holds")
    func mutatedReviews() throws {
        let original = try fixture("pod-review-v1.json")
        var rng = SeededRandom(state: 11)
        let alphabet = Array(#"{}[]",:\u0"e.-1 tfn"#.utf8) + [0xC3, 0x80]
        var decoded = 0
        for round in 0..<2000 {
            var bytes = original
            let at = Int(rng.next() % UInt64(bytes.count))
            switch rng.next() % 3 {
            case 0: bytes[at] = alphabet[Int(rng.next() % UInt64(alphabet.count))]
            case 1: bytes.remove(at: at)
            default: bytes.insert(alphabet[Int(rng.next() % UInt64(alphabet.count))], at: at)
            }
            guard let request = try? AdmissionReviewDecoding.decode(bytes).request else { continue }
            decoded += 1
            let tree = try #require(try? JSONValue.parse(bytes: bytes), "round \(round): decoded, but not valid JSON")
            let expected = tree["request"]?["object"].map { WorkloadImages.summary(of: $0, kind: request.kind.kind) } ?? WorkloadImages.Summary()
            let read = WorkloadImages.summary(of: request)
            #expect(read.images == expected.images && read.labels == expected.labels && read.name == expected.name, "round \(round)")
            #expect(request.user == RequestUser(json: tree["request"]?["userInfo"]), "round \(round)")
        }
        #expect(decoded > 300)
    }

    @Test("responses are byte for byte what JSONEncoder writes with sorted keys", arguments: [
        AdmissionResponse(uid: "u", allowed: true),
        AdmissionResponse(uid: "u-2", allowed: false, status: AdmissionStatus(code: 403, message: "sealgate denied Pod a/b:\n\"x\" \\ é\t\u{01}\u{1f}/ok", reason: "Forbidden", status: "Failure"),
                          warnings: ["w1", "w\"2"], auditAnnotations: ["z": "1", "a": "b", "decision": "denied"]),
        AdmissionResponse(uid: "u", allowed: true, patch: Data(#"[{"op":"replace"}]"#.utf8), patchType: "JSONPatch", warnings: []),
        AdmissionResponse(uid: "u", allowed: true, status: AdmissionStatus(message: "only a message"), auditAnnotations: [:]),
    ])
    func responseBytes(response: AdmissionResponse) throws {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys, .withoutEscapingSlashes]
        for apiVersion in ["admission.k8s.io/v1", "admission.k8s.io/v1beta1"] {
            let expected = try encoder.encode(AdmissionReview(apiVersion: apiVersion, response: response))
            let reply = AdmissionEndpoint(decider: Fixed(response: response)).handle(
                method: "POST", contentType: "application/json", query: nil,
                body: Array(#"{"apiVersion":"\#(apiVersion)","kind":"AdmissionReview","request":{"uid":"\#(response.uid)","kind":{"group":"","version":"v1","kind":"Pod"},"resource":{"group":"","version":"v1","resource":"pods"},"operation":"CREATE"}}"#.utf8),
                mutating: false)
            #expect(String(decoding: reply.body, as: UTF8.self) == String(decoding: expected, as: UTF8.self))
        }
    }

    struct Fixed: AdmissionDecider {
        let response: AdmissionResponse
        func decide(_ request: AdmissionRequest, mutating: Bool, timeout: Double) -> AdmissionResponse { response }
    }
}
