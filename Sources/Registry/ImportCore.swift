// Deadline and the monotonic clock (SealgateCore) and the HTTP/1.1 client (HTTP1Client): registry users see them here.
@_exported import HTTP1Client
@_exported import SealgateCore
