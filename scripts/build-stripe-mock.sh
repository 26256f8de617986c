#!/usr/bin/env bash
# Builds stripe-mock (MIT; Stripe's API mock, used by the payment service's Stripe gateway test) from the Go
# module proxy, once, into a cache outside git. Prints the binary's path.
set -euo pipefail
source "$(dirname "$0")/lib/go-install.sh"
go_install_cached stripe-mock github.com/stripe/stripe-mock "${STRIPE_MOCK_VERSION:-v0.203.0}" bin/stripe-mock STRIPE_MOCK_BIN
