// Deadline and the monotonic clock live in the leaf module SealgateCore; registry users see them here.
@_exported import SealgateCore
