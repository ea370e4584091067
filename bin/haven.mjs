#!/usr/bin/env node
// The `haven` command. Haven runs its TypeScript sources through tsx (see docs/decisions.md).
import { register } from 'tsx/esm/api';

register();
const { main } = await import('../src/cli/main.ts');
process.exitCode = await main(process.argv.slice(2));
