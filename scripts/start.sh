#!/bin/sh
# `npm start`: install, build, and run Nimbus. With no NIMBUS_CONFIG it starts the embedded lab.
set -eu
cd "$(dirname "$0")/.."
. scripts/env.sh
echo "› installing dependencies"
pnpm install --frozen-lockfile --reporter=silent
echo "› building"
pnpm exec turbo run build --output-logs=errors-only
exec pnpm --filter @nimbus/server start
