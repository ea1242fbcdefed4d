#!/usr/bin/env -S node --max-semi-space-size=32 --no-memory-reducer
// The skiff CLI: runs the compiled entry point (with the V8 flags of src/cli/node-flags.ts).
import '../dist/cli/main.js';
