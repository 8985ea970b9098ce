"""The audit archive: every event of every topic, kept past topic retention for as long as its
family's policy says, with what identifies a person encrypted under a key per application.

`socialsvc-ops archive run` fills it; `query`, `replay`, `prune` and `forget` read, resend, age
and crypto-shred it.
"""
