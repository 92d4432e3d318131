// ImageVerification module: cosign-compatible verification of container images (see issue 6).
