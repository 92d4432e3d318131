// Admission module — see ../shared/DESIGN.md.
