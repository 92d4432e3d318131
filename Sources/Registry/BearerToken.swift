import Foundation
import HTTP1Client

/// Distribution's token authentication as registries and Notary servers speak it: the token request a Bearer
/// challenge asks for, and the token in the answer. Callers add credentials and say what went wrong in their terms.
package enum BearerToken {
    /// The realm's endpoint and request target with `service` and `scope` added; nil when the realm is not a URL.
    package static func request(_ challenge: Authenticator.Challenge, scope: String) -> (endpoint: Endpoint, target: String, realm: String)? {
        guard let realm = challenge.parameters["realm"], var components = URLComponents(string: realm), let host = components.host else {
            return nil
        }
        var query = components.queryItems ?? []
        if let service = challenge.parameters["service"] { query.append(URLQueryItem(name: "service", value: service)) }
        query.append(URLQueryItem(name: "scope", value: scope))
        components.queryItems = query
        let secure = components.scheme == "https"
        let endpoint = Endpoint(host: host, port: UInt16(components.port ?? (secure ? 443 : 80)), secure: secure)
        return (endpoint, components.percentEncodedPath + "?" + (components.percentEncodedQuery ?? ""), realm)
    }

    /// `token` (or `access_token`) and `expires_in` (60 s when absent) of a token response; nil without a token.
    package static func token(from body: [UInt8]) -> (token: String, expiresIn: Double)? {
        struct TokenResponse: Decodable {
            var token: String?
            var access_token: String?
            var expires_in: Double?
        }
        guard let decoded = try? JSONDecoder().decode(TokenResponse.self, from: Data(body)),
              let token = decoded.token ?? decoded.access_token, !token.isEmpty else { return nil }
        return (token, decoded.expires_in ?? 60)
    }
}
