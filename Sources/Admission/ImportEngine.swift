// The decision model (ImageDecision, CheckRecord, settings, PolicyStore) lives in Engine; Admission's users see it here.
@_exported import Engine
