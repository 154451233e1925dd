import test from 'ava';
import { brandColorProblem, contrastRatio, isHexColor, relativeLuminance } from '../../src/clients/brand-color.ts';
import { pageBranding } from '../../src/http/page-branding.ts';

test('relative luminance and contrast follow WCAG 2.x', (t) => {
  t.is(relativeLuminance('#000000'), 0);
  t.is(relativeLuminance('#ffffff'), 1);
  t.is(contrastRatio('#000000', '#FFFFFF'), 21);
  t.is(contrastRatio('#ffffff', '#000000'), 21, 'the order does not matter');
  t.is(contrastRatio('#0b5cad', '#0b5cad'), 1);
  // Known pair: #767676 is the lightest grey that passes 4.5:1 on white.
  t.true(contrastRatio('#767676', '#ffffff') >= 4.5);
  t.true(contrastRatio('#777777', '#ffffff') < 4.5);
});

test('a brand colour is #RRGGBB dark enough for white text', (t) => {
  t.is(brandColorProblem('#0b5cad'), undefined);
  t.is(brandColorProblem('#0B5CAD'), undefined, 'either case');
  t.is(brandColorProblem('#767676'), undefined);
  t.regex(brandColorProblem('#ffff00')!, /^brand_color #ffff00 is too light .* 1\.07:1, .* 4\.5:1/);
  t.regex(brandColorProblem('#777777')!, /4\.47:1/, 'rounded down, never up to a pass');
  for (const bad of ['0b5cad', '#05a', '#0b5cadff', 'blue', 'rgb(0,0,0)', 12, null]) {
    t.false(isHexColor(bad));
    t.regex(brandColorProblem(bad)!, /#RRGGBB/);
  }
});

test("a page's branding: the portal's where it has one, the operator's otherwise", (t) => {
  const operator = { productName: 'Umbral', logoUrl: undefined, support: { url: undefined, email: undefined } };
  const plain = pageBranding(operator);
  t.like(plain, { name: 'Umbral', logoUrl: '/assets/logo.svg', portalLogo: false, style: undefined });
  const portal = pageBranding(operator, {
    client_name: 'Portal',
    logo_uri: 'https://p.example/l.png',
    brand_color: '#0b5cad',
    tos_uri: 'https://p.example/t',
    policy_uri: 'javascript:alert(1)',
  });
  t.like(portal, {
    name: 'Portal',
    logoUrl: 'https://p.example/l.png',
    portalLogo: true,
    termsUrl: 'https://p.example/t',
  });
  t.is(portal.style, '--brand: #0b5cad; --brand-text: #fff');
  t.is(portal.privacyUrl, undefined, 'only http(s) links are shown');
  t.is(
    pageBranding(operator, { brand_color: 'red;background:url(x)' }).style,
    undefined,
    'nothing else reaches the style',
  );
});
