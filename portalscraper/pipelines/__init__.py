"""Item pipelines, one responsibility each: normalize, validate, dedupe, store."""
