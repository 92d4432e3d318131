/// The network extension (cel-go ext/network, Kubernetes' ip and cidr libraries): ip(), cidr(),
/// isIP(), isCIDR(), ip.isCanonical() and the address and prefix methods.
enum NetworkExtension {
    static var functions: [CELFunction] {
        var f: [CELFunction] = [
            CELFunction("ip", arity: 1) { call in
                guard case .string(let s) = call.args[0] else { return nil }
                return .opaque(try IPAddress.parse(s))
            },
            CELFunction("cidr", arity: 1) { call in
                guard case .string(let s) = call.args[0] else { return nil }
                return .opaque(try CIDRPrefix.parse(s))
            },
            CELFunction("isIP", arity: 1) { call in
                guard case .string(let s) = call.args[0] else { return nil }
                return .bool((try? IPAddress.parse(s)) != nil)
            },
            CELFunction("isCIDR", arity: 1) { call in
                guard case .string(let s) = call.args[0] else { return nil }
                return .bool((try? CIDRPrefix.parse(s)) != nil)
            },
            CELFunction("ip.isCanonical", arity: 1) { call in
                guard case .string(let s) = call.args[0] else { return nil }
                return .bool(try IPAddress.parse(s).description == s)
            },
            ipMethod("family") { .int($0.isIPv4 ? 4 : 6) },
            ipMethod("isUnspecified") { .bool($0.isUnspecified) },
            ipMethod("isLoopback") { .bool($0.isLoopback) },
            ipMethod("isGlobalUnicast") { .bool($0.isGlobalUnicast) },
            ipMethod("isLinkLocalMulticast") { .bool($0.isLinkLocalMulticast) },
            ipMethod("isLinkLocalUnicast") { .bool($0.isLinkLocalUnicast) },
            cidrMethod("ip") { .opaque($0.address) },
            cidrMethod("masked") { .opaque(CIDRPrefix(address: $0.address.masked($0.length), length: $0.length)) },
            cidrMethod("prefixLength") { .int(Int64($0.length)) },
        ]
        f.append(CELFunction("containsIP", receiver: true, arity: 2) { call in
            guard case .opaque(let c) = call.args[0], let prefix = c as? CIDRPrefix else { return nil }
            switch call.args[1] {
            case .string(let s): return .bool(prefix.contains(try IPAddress.parse(s)))
            case .opaque(let o as IPAddress): return .bool(prefix.contains(o))
            default: return nil
            }
        })
        f.append(CELFunction("containsCIDR", receiver: true, arity: 2) { call in
            guard case .opaque(let c) = call.args[0], let prefix = c as? CIDRPrefix else { return nil }
            switch call.args[1] {
            case .string(let s): return .bool(prefix.contains(try CIDRPrefix.parse(s)))
            case .opaque(let o as CIDRPrefix): return .bool(prefix.contains(o))
            default: return nil
            }
        })
        return f
    }

    private static func ipMethod(_ name: String, _ body: @escaping @Sendable (IPAddress) -> CELValue) -> CELFunction {
        CELFunction(name, receiver: true, arity: 1) { call in
            guard case .opaque(let o) = call.args[0], let ip = o as? IPAddress else { return nil }
            return body(ip)
        }
    }

    private static func cidrMethod(_ name: String, _ body: @escaping @Sendable (CIDRPrefix) -> CELValue) -> CELFunction {
        CELFunction(name, receiver: true, arity: 1) { call in
            guard case .opaque(let o) = call.args[0], let prefix = o as? CIDRPrefix else { return nil }
            return body(prefix)
        }
    }
}
