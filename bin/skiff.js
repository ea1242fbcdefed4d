#!/usr/bin/env node
// The skiff CLI: runs the compiled entry point.
import '../dist/cli/main.js';
