#!/bin/sh
# Release-mode micro-benchmark of OTLPWire (log encoding, walker, rewriter, decoding).
# Compiles the module sources together with main.swift (-O -wmo), outside SwiftPM.
set -eu
here=$(cd "$(dirname "$0")" && pwd)
src="$here/../../../Sources/OTLPWire"
# The resource rewriter lives in Processors now; compiled into the same module, without its import.
rewriter=${TMPDIR:-/tmp}/fluxtel-bench-rewriter.swift
grep -v "^public import OTLPWire" "$here/../../../Sources/Processors/ResourceAttributeRewriter.swift" >"$rewriter"
out=${TMPDIR:-/tmp}/fluxtel-otlpwire-bench
swiftc -O -wmo -module-name bench "$src"/*.swift "$src"/Model/*.swift "$rewriter" "$here/main.swift" -o "$out"
exec "$out"
