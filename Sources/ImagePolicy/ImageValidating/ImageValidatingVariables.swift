import CEL
import Foundation

/// The CEL variables of an ImageValidatingPolicy, as Kyverno and Kubernetes admission CEL name them: `object`,
/// `oldObject` (null: sealgate sees the new object only), `request` (operation, namespace, name, kind, resource,
/// userInfo) and, for validations, `images`, `attestors`, `attestations` and `variables`.
enum ImageValidatingVariables {
    static func base(_ c: AdmissionContext) -> [String: CELValue] {
        func map(_ pairs: [(String, CELValue)]) -> CELValue { .map((try? CELMap(pairs.map { (.string($0.0), $0.1) })) ?? CELMap()) }
        var request: [(String, CELValue)] = [
            ("operation", .string(c.operation)), ("namespace", .string(c.namespace ?? "")), ("name", .string(c.name)),
            ("kind", map([("group", .string(c.group)), ("version", .string(c.version)), ("kind", .string(c.kind))])),
            ("resource", map([("group", .string(c.group)), ("version", .string(c.version)), ("resource", .string(c.resource))])),
        ]
        if let u = c.user {
            request.append(("userInfo", map([("username", .string(u.username)), ("uid", .string(u.uid)), ("groups", .list(u.groups.map(CELValue.string)))])))
        }
        return ["object": c.object.map(cel) ?? .null, "oldObject": .null, "request": map(request)]
    }

    static func stringLists(_ lists: [String: [String]]) -> CELMap {
        (try? CELMap(lists.sorted { $0.key < $1.key }.map { (.string($0.key), .list($0.value.map(CELValue.string))) })) ?? CELMap()
    }

    /// `attestors.NAME` is a map holding the name (what the functions take); `attestations.NAME` the name itself.
    static func names(_ names: [String], asAttestors: Bool) -> CELValue {
        let pairs: [(CELValue, CELValue)] = names.map { name in
            (.string(name), asAttestors ? .map((try? CELMap([(.string("name"), .string(name))])) ?? CELMap()) : .string(name))
        }
        return .map((try? CELMap(pairs)) ?? CELMap())
    }

    /// A JSON value as CEL sees it: whole numbers are ints, as Kubernetes' unstructured objects hold them.
    static func cel(_ v: JSONValue) -> CELValue {
        switch v {
        case .null: return .null
        case .bool(let b): return .bool(b)
        case .number(let n):
            if n.rounded() == n, abs(n) < 9.2e18 { return .int(Int64(n)) }
            return .double(n)
        case .string(let s): return .string(s)
        case .array(let a): return .list(a.map(cel))
        case .object(let o): return .map((try? CELMap(o.sorted { $0.key < $1.key }.map { (.string($0.key), cel($0.value)) })) ?? CELMap())
        }
    }
}
