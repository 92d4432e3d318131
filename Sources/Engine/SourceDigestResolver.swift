import Dispatch
import SealgateCore
import ImageReference
import Registry

extension RegistryError: TransientError {}

/// Tag → digest through any image source (the registry client or an offline layout); the blocking call runs
/// off the cooperative pool, bounded by the decision's deadline.
public struct SourceDigestResolver: DigestResolver {
    let source: any ImageSource

    public init(source: any ImageSource) { self.source = source }

    public func digest(of image: ImageRef, deadline: Deadline) async throws -> String {
        let source = self.source
        // The request's pull secrets follow onto the I/O thread (task-locals do not).
        return try await BlockingIO.run(RequestCredentials.carried { Result { try source.resolve(image, deadline: deadline).digest } }).get()
    }
}
