#!/usr/bin/env node
// `umbral …` (npx umbral, npm run umbral): runs the TypeScript CLI through tsx, from any directory.
import { register } from 'tsx/esm/api';

register();
await import('../src/cli/main.ts');
