import { z } from 'zod';

const emailSchema = z.email();

/** Trims; keeps the case the person typed (lookups are case-insensitive). */
export function normalizeEmail(input: string): string {
  return input.trim();
}

export function isValidEmail(input: string): boolean {
  return input.length <= 254 && emailSchema.safeParse(input).success;
}
