import { extendZodWithOpenApi } from '@asteasolutions/zod-to-openapi';
import { z } from 'zod';

// Once for the whole API: every schema here gets `.openapi()` (component names, examples).
extendZodWithOpenApi(z);

export { z };
