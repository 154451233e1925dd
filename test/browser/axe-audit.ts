import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import type { Page } from 'playwright-core';

// axe-core in a playwright-core page: each state of a page audited at 390 and 1280 px, in light
// with every rule and in dark with the colour rules, by switching the colour scheme and the
// viewport on the page already loaded; with the house rules axe leaves to best practice (one h1,
// errors tied to their fields).

const AXE_SOURCE = readFileSync(createRequire(import.meta.url).resolve('axe-core/axe.min.js'), 'utf8');
const TAGS = ['wcag2a', 'wcag2aa', 'wcag21a', 'wcag21aa', 'wcag22aa'];
/** WCAG 2.2 AA, plus the heading rules axe files under best practice. */
const EVERY_RULE = JSON.stringify({
  runOnly: { type: 'tag', values: TAGS },
  rules: {
    'heading-order': { enabled: true },
    'page-has-heading-one': { enabled: true },
    'empty-heading': { enabled: true },
  },
  resultTypes: ['violations'],
});
/**
 * The rules a colour scheme can change. The pages' dark scheme only gives colour custom properties
 * other values (each audit checks that, below), so what else axe checks (names, labels, landmarks,
 * target sizes, reflow) comes out in dark as in light, and is not run twice.
 */
const COLOUR_RULES = JSON.stringify({
  runOnly: { type: 'rule', values: ['color-contrast', 'link-in-text-block'] },
  resultTypes: ['violations'],
});
const PASSES = [
  { scheme: 'light', options: EVERY_RULE },
  { scheme: 'dark', options: COLOUR_RULES },
] as const;
const WIDTHS = [390, 1280] as const;

export interface Violation {
  state: string;
  scheme: string;
  width: number;
  rule: string;
  impact: string;
  targets: string[];
  summary: string;
}

export class AxeAudit {
  readonly violations: Violation[] = [];
  /**
   * Breaches of the house rules (not one h1, an invalid field with no error tied to it), and a colour
   * scheme that changes more than colours, which the dark pass's few rules would not cover.
   */
  readonly problems: string[] = [];
  /** The states audited, in order. */
  readonly audited: string[] = [];

  /** Audits the page as it is now, naming it `state`. */
  readonly audit = async (page: Page, state: string): Promise<void> => {
    this.audited.push(state);
    await page.evaluate(AXE_SOURCE);
    const structure = JSON.parse(
      (await page.evaluate(`JSON.stringify({
        h1: document.querySelectorAll('h1').length,
        schemeOnly: (() => {
          // Every declaration under a prefers-color-scheme condition, however nested or imported.
          const found = [];
          const walk = (rules, inScheme) => {
            for (const rule of rules) {
              const scheme = inScheme || /prefers-color-scheme/.test(rule.media?.mediaText ?? '');
              if (rule instanceof CSSStyleRule && scheme) {
                for (const name of rule.style) {
                  const value = rule.style.getPropertyValue(name).trim();
                  if (!(name.startsWith('--') && CSS.supports('color', value))) found.push(name + ': ' + value);
                }
              }
              if (rule.styleSheet) walk(rule.styleSheet.cssRules, scheme);
              else if (rule.cssRules) walk(rule.cssRules, scheme);
              else if (scheme && !(rule instanceof CSSStyleRule)) found.push(rule.cssText.slice(0, 60));
            }
          };
          for (const sheet of document.styleSheets) walk(sheet.cssRules, /prefers-color-scheme/.test(sheet.media.mediaText));
          return found;
        })(),
        untied: [...document.querySelectorAll('[aria-invalid="true"]')]
          .filter((field) => !(field.getAttribute('aria-describedby') || '').split(' ')
            .some((id) => document.getElementById(id)?.classList.contains('error')))
          .map((field) => field.id),
      })`)) as string,
    ) as { h1: number; schemeOnly: string[]; untied: string[] };
    if (structure.h1 !== 1) this.problems.push(`${state}: ${structure.h1} h1 elements`);
    for (const declaration of structure.schemeOnly)
      this.problems.push(
        `${state}: the colour scheme sets "${declaration}", not a colour: audit every rule in dark too`,
      );
    for (const id of structure.untied) this.problems.push(`${state}: #${id} is invalid with no error tied to it`);
    for (const width of WIDTHS) {
      await page.setViewportSize({ width, height: 800 });
      for (const { scheme, options } of PASSES) {
        await page.emulateMedia({ colorScheme: scheme });
        const json = (await page.evaluate(
          `axe.run(document, ${options}).then((r) => JSON.stringify(r.violations))`,
        )) as string;
        for (const v of JSON.parse(json) as Array<{
          id: string;
          impact: string;
          nodes: Array<{ target: string[]; failureSummary: string }>;
        }>) {
          this.violations.push({
            state,
            scheme,
            width,
            rule: v.id,
            impact: v.impact,
            targets: v.nodes.map((n) => n.target.join(' ')),
            summary: v.nodes[0]?.failureSummary ?? '',
          });
        }
      }
    }
  };
}
