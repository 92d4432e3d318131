import Foundation

/// Decides one admission request. The policy engine plugs in here.
public protocol AdmissionDecider: Sendable {
    func decide(_ request: AdmissionRequest, mutating: Bool, timeout: Double) -> AdmissionResponse
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
    private let encoder: JSONEncoder = {
        let e = JSONEncoder()
        e.outputFormatting = [.sortedKeys, .withoutEscapingSlashes]
        return e
    }()

    public init(decider: AdmissionDecider) { self.decider = decider }

    public func handle(method: String, contentType: String?, query: String?, body: [UInt8], mutating: Bool) -> Reply {
        guard method == "POST" else {
            var reply = error(405, "method \(method) not allowed; use POST")
            reply.headers.append(("allow", "POST"))
            return reply
        }
        let mediaType = contentType?.split(separator: ";").first?.trimmingCharacters(in: .whitespaces).lowercased()
        guard mediaType == "application/json" else {
            return error(415, "content-type must be application/json, got \(contentType.map { "\"\($0)\"" } ?? "none")")
        }
        let review: AdmissionReview
        do {
            review = try AdmissionReviewDecoding.decode(body)
        } catch {
            return self.error(400, "malformed AdmissionReview: \(error)")
        }
        guard AdmissionReview.supportedVersions.contains(review.apiVersion) else {
            return error(400, "unsupported apiVersion \"\(review.apiVersion)\"; expected admission.k8s.io/v1 or admission.k8s.io/v1beta1")
        }
        guard review.kind == "AdmissionReview" else {
            return error(400, "unsupported kind \"\(review.kind)\"; expected AdmissionReview")
        }
        guard let request = review.request else { return error(400, "AdmissionReview has no request") }
        guard !request.uid.isEmpty else { return error(400, "AdmissionReview request.uid is empty") }

        let response = decider.decide(request, mutating: mutating, timeout: Self.timeout(fromQuery: query))
        let answer = AdmissionReview(apiVersion: review.apiVersion, request: nil, response: response)
        guard let data = try? encoder.encode(answer) else { return error(500, "cannot encode AdmissionReview response") }
        return Reply(status: 200, contentType: "application/json", body: Array(data))
    }

    /// Parses the API server's `timeout` query parameter (`10s`, `2500ms`, `1m`).
    public static func timeout(fromQuery query: String?) -> Double {
        guard let query else { return defaultTimeout }
        for pair in query.split(separator: "&") where pair.hasPrefix("timeout=") {
            if let seconds = parseDuration(String(pair.dropFirst("timeout=".count))) {
                return min(max(seconds, 0.1), maxTimeout)
            }
        }
        return defaultTimeout
    }

    /// Go duration strings as the API server writes them: sequences of number+unit.
    static func parseDuration(_ text: String) -> Double? {
        let units: [(String, Double)] = [("ms", 0.001), ("us", 1e-6), ("µs", 1e-6), ("ns", 1e-9), ("s", 1), ("m", 60), ("h", 3600)]
        var rest = Substring(text)
        var total = 0.0
        guard !rest.isEmpty else { return nil }
        while !rest.isEmpty {
            let number = rest.prefix { $0.isNumber || $0 == "." }
            guard !number.isEmpty, let value = Double(number) else { return nil }
            rest = rest.dropFirst(number.count)
            guard let unit = units.first(where: { rest.hasPrefix($0.0) }) else { return nil }
            rest = rest.dropFirst(unit.0.count)
            total += value * unit.1
        }
        return total
    }

    private func error(_ status: Int, _ message: String) -> Reply {
        let data = (try? JSONSerialization.data(withJSONObject: ["error": message], options: [.sortedKeys])) ?? Data()
        return Reply(status: status, contentType: "application/json", body: Array(data))
    }
}
