"""Security: the cluster secret (``cluster_secret``), TLS material (``tls``), and the
context every daemon installs before it opens a port (``context``).

See ``docs/security.md`` for what is authenticated and how to configure it.
"""
