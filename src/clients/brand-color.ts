/**
 * A portal's primary colour (`brand_color`, #RRGGBB): the background of its pages' primary buttons,
 * whose text is white. WCAG 2.2 (1.4.3, AA) wants 4.5:1 between text and its background, so a
 * colour too light for white text is refused at registration.
 */

export const MIN_TEXT_CONTRAST = 4.5;

const HEX_COLOR = /^#[0-9a-fA-F]{6}$/;

/** #RRGGBB only: one spelling, so the page and the check read the same colour. */
export function isHexColor(value: unknown): value is string {
  return typeof value === 'string' && HEX_COLOR.test(value);
}

/** WCAG 2.x relative luminance of an #RRGGBB colour: 0 for black, 1 for white. */
export function relativeLuminance(hex: string): number {
  const [r, g, b] = [1, 3, 5].map((at) => linear(Number.parseInt(hex.slice(at, at + 2), 16) / 255)) as [
    number,
    number,
    number,
  ];
  return 0.2126 * r + 0.7152 * g + 0.0722 * b;
}

/** WCAG contrast ratio of two #RRGGBB colours, from 1 (the same) to 21 (black and white). */
export function contrastRatio(a: string, b: string): number {
  const [light, dark] = [relativeLuminance(a), relativeLuminance(b)].sort((x, y) => y - x) as [number, number];
  return (light + 0.05) / (dark + 0.05);
}

/** Why `value` cannot be a brand colour, worded with the field first, or undefined. */
export function brandColorProblem(value: unknown): string | undefined {
  if (!isHexColor(value)) return 'brand_color must be a colour written #RRGGBB, for example #0b5cad';
  const ratio = contrastRatio(value, '#ffffff');
  if (ratio < MIN_TEXT_CONTRAST) {
    return `brand_color ${value} is too light for the white text of buttons: its contrast with white is ${floor2(ratio)}:1, and WCAG AA needs at least ${MIN_TEXT_CONTRAST}:1; pick a darker shade`;
  }
  return undefined;
}

/** sRGB channel (0..1) to linear light, as WCAG defines it. */
function linear(channel: number): number {
  return channel <= 0.04045 ? channel / 12.92 : ((channel + 0.055) / 1.055) ** 2.4;
}

/** Rounded down, so a colour at 4.499:1 never reads as 4.5:1 in the message. */
function floor2(value: number): string {
  return (Math.floor(value * 100) / 100).toFixed(2);
}
