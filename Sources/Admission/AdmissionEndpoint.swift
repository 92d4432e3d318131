import Foundation

/// Decides one admission request. The policy engine plugs in here.
public protocol AdmissionDecider: Sendable {
    func decide(_ request: AdmissionRequest, mutating: Bool, timeout: Double) -> AdmissionResponse
    /// The same decision without blocking the caller's thread while it waits on I/O.
    func decideAsync(_ request: AdmissionRequest, mutating: Bool, timeout: Double) async -> AdmissionResponse
}

extension AdmissionDecider {
    /// For deciders that never wait (fixed answers in tests).
    public func decideAsync(_ request: AdmissionRequest, mutating: Bool, timeout: Double) async -> AdmissionResponse {
        decide(request, mutating: mutating, timeout: timeout)
    }
}

/// The webhook's HTTP contract without the sockets: checks the envelope, decodes the review,
/// asks the decider and encodes the answer in the same apiVersion.
public struct AdmissionEndpoint: Sendable {
    public struct Reply: Sendable {
        public var status: Int
        public var contentType: String
        public var body: [UInt8]
        public var headers: [(name: String, value: String)] = []
    }

    /// The API server's default per-call timeout; `?timeout=` overrides it (capped at 30 s).
    public static let defaultTimeout = 10.0
    public static let maxTimeout = 30.0

    private let decider: AdmissionDecider

    public init(decider: AdmissionDecider) { self.decider = decider }

    public func handle(method: String, contentType: String?, query: String?, body: [UInt8], mutating: Bool) -> Reply {
        switch accept(method: method, contentType: contentType, query: query, body: body) {
        case .rejected(let reply): return reply
        case .accepted(let apiVersion, let request, let timeout):
            return answer(apiVersion, decider.decide(request, mutating: mutating, timeout: timeout))
        }
    }

    /// The same, waiting on I/O without blocking the thread (the server starts it on its event loop).
    nonisolated(nonsending)
    public func handleAsync(method: String, contentType: String?, query: String?, body: [UInt8], mutating: Bool) async -> Reply {
        switch accept(method: method, contentType: contentType, query: query, body: body) {
        case .rejected(let reply): return reply
        case .accepted(let apiVersion, let request, let timeout):
            return answer(apiVersion, await decider.decideAsync(request, mutating: mutating, timeout: timeout))
        }
    }

    private enum Acceptance {
        case rejected(Reply)
        case accepted(apiVersion: String, request: AdmissionRequest, timeout: Double)
    }

    /// The envelope checked and the review decoded, or the error reply saying what is wrong with it.
    private func accept(method: String, contentType: String?, query: String?, body: [UInt8]) -> Acceptance {
        guard method == "POST" else {
            var reply = error(405, "method \(method) not allowed; use POST")
            reply.headers.append(("allow", "POST"))
            return .rejected(reply)
        }
        guard let contentType, Self.isJSON(contentType) else {
            return .rejected(error(415, "content-type must be application/json, got \(contentType.map { "\"\($0)\"" } ?? "none")"))
        }
        let review: AdmissionReview
        do {
            review = try AdmissionReviewDecoding.decode(body)
        } catch {
            return .rejected(self.error(400, "malformed AdmissionReview: \(error)"))
        }
        guard AdmissionReview.supportedVersions.contains(review.apiVersion) else {
            return .rejected(error(400, "unsupported apiVersion \"\(review.apiVersion)\"; expected admission.k8s.io/v1 or admission.k8s.io/v1beta1"))
        }
        guard review.kind == "AdmissionReview" else {
            return .rejected(error(400, "unsupported kind \"\(review.kind)\"; expected AdmissionReview"))
        }
        guard let request = review.request else { return .rejected(error(400, "AdmissionReview has no request")) }
        guard !request.uid.isEmpty else { return .rejected(error(400, "AdmissionReview request.uid is empty")) }
        return .accepted(apiVersion: review.apiVersion, request: request, timeout: Self.timeout(fromQuery: query))
    }

    private func answer(_ apiVersion: String, _ response: AdmissionResponse) -> Reply {
        Reply(status: 200, contentType: "application/json", body: AdmissionResponseEncoding.encode(apiVersion: apiVersion, response: response))
    }

    /// `application/json`, any case, optionally followed by parameters (`; charset=utf-8`).
    static func isJSON(_ contentType: String) -> Bool {
        let mediaType = contentType.utf8.prefix { $0 != UInt8(ascii: ";") }
        let trimmed = mediaType.drop { $0 == 0x20 || $0 == 0x09 }.reversed().drop { $0 == 0x20 || $0 == 0x09 }.reversed()
        // ASCII case-insensitive: a byte matches itself or, for a lowercase letter, its uppercase form.
        return trimmed.count == 16 && zip(trimmed, "application/json".utf8).allSatisfy { have, want in
            have == want || (want >= UInt8(ascii: "a") && want <= UInt8(ascii: "z") && have == want - 0x20)
        }
    }

    /// Parses the API server's `timeout` query parameter (`10s`, `2500ms`, `1m`).
    public static func timeout(fromQuery query: String?) -> Double {
        guard let query else { return defaultTimeout }
        for pair in query.utf8.split(separator: UInt8(ascii: "&")) where pair.starts(with: "timeout=".utf8) {
            if let seconds = parseDuration(String(decoding: pair.dropFirst("timeout=".utf8.count), as: UTF8.self)) {
                return min(max(seconds, 0.1), maxTimeout)
            }
        }
        return defaultTimeout
    }

    /// Go duration strings as the API server writes them: sequences of number+unit.
    static func parseDuration(_ text: String) -> Double? {
        let units: [(String, Double)] = [("ms", 0.001), ("us", 1e-6), ("µs", 1e-6), ("ns", 1e-9), ("s", 1), ("m", 60), ("h", 3600)]
        var rest = Substring(text).utf8[...]
        var total = 0.0
        guard !rest.isEmpty else { return nil }
        while !rest.isEmpty {
            let number = rest.prefix { ($0 >= UInt8(ascii: "0") && $0 <= UInt8(ascii: "9")) || $0 == UInt8(ascii: ".") }
            guard !number.isEmpty, let value = Double(String(decoding: number, as: UTF8.self)) else { return nil }
            rest = rest.dropFirst(number.count)
            guard let unit = units.first(where: { rest.starts(with: $0.0.utf8) }) else { return nil }
            rest = rest.dropFirst(unit.0.utf8.count)
            total += value * unit.1
        }
        return total
    }

    private func error(_ status: Int, _ message: String) -> Reply {
        let data = (try? JSONSerialization.data(withJSONObject: ["error": message], options: [.sortedKeys])) ?? Data()
        return Reply(status: status, contentType: "application/json", body: Array(data))
    }
}
