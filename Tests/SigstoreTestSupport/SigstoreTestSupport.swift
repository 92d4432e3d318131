// Test-only Sigstore signer (see Package.swift).
