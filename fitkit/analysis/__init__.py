"""Model-free analysis helpers (transition descriptors and similar); no fitting, no I/O."""
