#!/usr/bin/env -S GLIBC_TUNABLES=glibc.malloc.hugetlb=1 node --max-semi-space-size=32 --no-memory-reducer
// The skiff CLI: runs the compiled entry point (with the V8 flags and malloc tunable of src/cli/node-flags.ts).
import '../dist/cli/main.js';
