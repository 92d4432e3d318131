// Registry module — see ../shared/DESIGN.md.
