"""Data: readers with clear errors, tokenizers, feature extractors, batching with lengths."""
