// ImagePolicy module — see ../shared/DESIGN.md.
