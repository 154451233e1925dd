import fs from 'node:fs';
import { type ClientKeys, InvalidClientKeysError, parsePublicJwks } from '../clients/client-keys.ts';
import { CliInputError } from './cli-errors.ts';

/** `clients add --jwks-uri URI` or `--jwks-file PATH`: the portal's public keys, checked before anything opens. */
export function clientKeysFromOptions(options: {
  'jwks-uri': string | undefined;
  'jwks-file': string | undefined;
}): ClientKeys | undefined {
  const { 'jwks-uri': uri, 'jwks-file': file } = options;
  if (uri !== undefined && file !== undefined) throw new CliInputError('give --jwks-uri or --jwks-file, not both');
  if (uri !== undefined) {
    if (!URL.canParse(uri)) throw new CliInputError(`--jwks-uri "${uri}" is not an absolute URL`);
    return { jwksUri: uri };
  }
  if (file === undefined) return undefined;
  let text: string;
  try {
    text = fs.readFileSync(file, 'utf8');
  } catch (error) {
    throw new CliInputError(
      `cannot read --jwks-file ${file}: ${error instanceof Error && 'code' in error ? String(error.code) : 'error'}`,
    );
  }
  try {
    return { jwks: parsePublicJwks(text) };
  } catch (error) {
    if (error instanceof InvalidClientKeysError) throw new CliInputError(`--jwks-file ${file}: ${error.message}`);
    throw error;
  }
}
