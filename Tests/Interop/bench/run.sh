#!/bin/sh
# Release-mode micro-benchmark of OTLPWire (log encoding, walker, rewriter, decoding).
# Compiles the module sources together with main.swift (-O -wmo), outside SwiftPM.
set -eu
here=$(cd "$(dirname "$0")" && pwd)
src="$here/../../../Sources/OTLPWire"
out=${TMPDIR:-/tmp}/fluxtel-otlpwire-bench
swiftc -O -wmo -module-name bench "$src"/*.swift "$src"/Model/*.swift "$here/main.swift" -o "$out"
exec "$out"
