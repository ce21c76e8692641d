#!/bin/bash
# The whole test suite: static checks, then every tier's tests under Node's test runner.
set -euo pipefail
cd "$(dirname "$0")/.."
echo "== static checks"
npx tsc --noEmit -p tsconfig.json
npx biome check
npx depcruise src --config .dependency-cruiser.cjs
npx tsx scripts/gen-api-types.ts --check
echo "== tests"
mapfile -t files < <(find src test -name '*.test.ts' -not -path '*/node_modules/*' | sort)
exec node --import tsx --test --test-concurrency="${SHOAL_TEST_CONCURRENCY:-2}" --test-timeout=600000 "${files[@]}"
