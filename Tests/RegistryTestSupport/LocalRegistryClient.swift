import Registry
import TestSupport

extension LocalRegistry {
    /// A registry client that reaches this loopback registry over plain HTTP.
    public func client() throws -> RegistryClient {
        var config = RegistryConfiguration()
        config.insecureRegistries = [host]
        return try RegistryClient(configuration: config)
    }
}
