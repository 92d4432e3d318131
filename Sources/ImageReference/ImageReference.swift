// ImageReference module: Docker/OCI image reference parsing and normalization.
