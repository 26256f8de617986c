#!/usr/bin/env bash
# Builds Mailpit (MIT; a real SMTP server with a web inbox and an HTTP API, the notification service's
# development and test mail server) from the Go module proxy, once, into a cache outside git. Prints the
# binary's path.
set -euo pipefail
source "$(dirname "$0")/lib/go-install.sh"
version="${MAILPIT_VERSION:-v1.33.1}"
go_install_cached mailpit github.com/axllent/mailpit "$version" "mailpit-$version/mailpit" MAILPIT_BIN
