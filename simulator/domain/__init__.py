"""The business vocabulary: lifecycle states and segments, benefit types, channel kinds.

Plain catalogues with no dependency on the rest of the package: `lifecycle` (states, segments,
history flags and the audience tags derived from them), `benefits` (benefit types, who may use
each, how each is delivered), `channels` (channel kinds and whom each can physically reach).
"""
