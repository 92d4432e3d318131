// SigstoreVerify module — see ../shared/DESIGN.md.
