#!/usr/bin/env node
// The `crowsnest` command. The code is TypeScript run through tsx's loader, so there is no build step
// between a clone and a running platform.
import { register } from 'tsx/esm/api';

register();
const { main } = await import('./main.ts');
process.exitCode = await main(process.argv.slice(2), process.env);
