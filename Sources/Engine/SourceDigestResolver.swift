import Dispatch
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
        return try await withCheckedThrowingContinuation { continuation in
            let work = RequestCredentials.carried { Result { try source.resolve(image, deadline: deadline).digest } }
            DispatchQueue.global().async { continuation.resume(with: work()) }
        }
    }
}
