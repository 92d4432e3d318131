// JSON values and YAML documents live in the leaf module SealgateCore; policy code and its users see them here.
@_exported import SealgateCore
