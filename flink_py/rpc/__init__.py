"""The control plane: gRPC services generated from ``proto/`` and the gateways built on them."""
